package telegram

import "errors"

// explanations is the one table of what each refusal is called in APIs
// and logs, and what the person is told.
var explanations = []struct {
	err     error
	code    string
	message string
}{
	{ErrMissingHash, "TELEGRAM_BAD_DATA", "Telegram не передал подпись данных входа. Попробуйте войти через Telegram ещё раз."},
	{ErrMalformed, "TELEGRAM_BAD_DATA", "Данные входа через Telegram повреждены. Попробуйте войти ещё раз."},
	{ErrBadHash, "TELEGRAM_BAD_SIGNATURE", "Данные входа не подписаны Telegram. Войдите через кнопку Telegram на этой странице."},
	{ErrStale, "TELEGRAM_EXPIRED", "Данные входа через Telegram устарели. Нажмите кнопку Telegram ещё раз."},
	{ErrFuture, "TELEGRAM_EXPIRED", "Время в данных входа через Telegram не совпадает с временем сервера. Попробуйте ещё раз."},
	{ErrReplayed, "TELEGRAM_REPLAYED", "Эти данные входа через Telegram уже использованы. Нажмите кнопку Telegram ещё раз."},
}

// Explain returns the stable code of err and the Russian message for the
// person; an error not from Verify (the replay store down) is
// TELEGRAM_UNAVAILABLE.
func Explain(err error) (code, message string) {
	for _, e := range explanations {
		if errors.Is(err, e.err) {
			return e.code, e.message
		}
	}
	return "TELEGRAM_UNAVAILABLE", "Вход через Telegram временно недоступен. Попробуйте позже."
}
