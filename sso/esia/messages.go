package esia

import "errors"

// explanations is the one table of what each refusal is called in APIs
// and logs, and what the person is told.
var explanations = []struct {
	err     error
	code    string
	message string
}{
	{ErrDenied, "ESIA_DENIED", "Госуслуги не подтвердили вход: вы отказались или вход был прерван. Попробуйте ещё раз."},
	{ErrState, "ESIA_WRONG_STATE", "Ответ Госуслуг относится к другому входу. Начните вход через Госуслуги заново на этой странице."},
	{ErrReplayed, "ESIA_REPLAYED", "Этот ответ Госуслуг уже использован. Начните вход через Госуслуги заново."},
	{ErrExpired, "ESIA_EXPIRED", "Вход через Госуслуги занял слишком много времени. Начните заново."},
	{ErrTokenCall, "ESIA_CODE_REFUSED", "Госуслуги отклонили код входа. Начните вход через Госуслуги заново."},
	{ErrToken, "ESIA_BAD_TOKEN", "Ответ Госуслуг не прошёл проверку подписи или срока. Начните вход заново."},
	{ErrAPI, "ESIA_UNAVAILABLE", "Не удалось получить данные из Госуслуг. Попробуйте позже."},
}

// Explain returns the stable code of err and the Russian message for the
// person; an error of none of the kinds above is ESIA_UNAVAILABLE.
func Explain(err error) (code, message string) {
	for _, e := range explanations {
		if errors.Is(err, e.err) {
			return e.code, e.message
		}
	}
	return "ESIA_UNAVAILABLE", "Вход через Госуслуги временно недоступен. Попробуйте позже."
}
