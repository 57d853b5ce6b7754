package account

import (
	"fmt"
	"net/http"
)

// Error is a refusal: a stable Code for programs, a Russian Message for
// people, and what the person may do next. errors.Is matches it by Code
// against the Err… values.
type Error struct {
	Code       string
	Message    string
	Status     int
	Field      string       // the input it is about, if one
	TriesLeft  int          // WRONG_CODE
	RetryAfter int          // seconds, for RESEND_TOO_SOON and RATE_LIMITED
	Confirm    string       // CERT_RENEWED: the id to confirm
	Renewed    *Certificate // CERT_RENEWED: the new certificate
	Err        error        // the cause, for logs; never shown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("account: %s: %v", e.Code, e.Err)
	}
	return "account: " + e.Code
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches by code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// The refusals, one per code, with their status and message: the one
// table the API's answers come from (docs/account.md).
var (
	ErrBadRequest        = def("BAD_REQUEST", http.StatusBadRequest, "Запрос не понят. Обновите страницу и попробуйте снова.")
	ErrInvalidPhone      = def("INVALID_PHONE", http.StatusBadRequest, "Введите номер телефона, например +7 (916) 123-45-67.")
	ErrInvalidEmail      = def("INVALID_EMAIL", http.StatusBadRequest, "Введите адрес электронной почты, например ivan@mail.ru.")
	ErrWeakPassword      = def("WEAK_PASSWORD", http.StatusBadRequest, "Пароль должен быть не короче 8 символов и не совпадать с телефоном или email.")
	ErrWrongCredentials  = def("WRONG_CREDENTIALS", http.StatusUnauthorized, "Неверный логин или пароль.")
	ErrWrongCode         = def("WRONG_CODE", http.StatusBadRequest, "Неверный код.")
	ErrCodeExpired       = def("CODE_EXPIRED", http.StatusBadRequest, "Код устарел. Запросите новый код.")
	ErrCodeLocked        = def("CODE_LOCKED", http.StatusBadRequest, "Код заблокирован после 5 неверных попыток. Запросите новый код.")
	ErrResendTooSoon     = def("RESEND_TOO_SOON", http.StatusTooManyRequests, "Новый код можно запросить позже.")
	ErrRateLimited       = def("RATE_LIMITED", http.StatusTooManyRequests, "Слишком много попыток. Попробуйте позже.")
	ErrCSRF              = def("CSRF", http.StatusForbidden, "Страница устарела. Обновите её и повторите действие.")
	ErrNotLoggedIn       = def("NOT_LOGGED_IN", http.StatusUnauthorized, "Войдите в Личный кабинет.")
	ErrAlreadyRegistered = def("ALREADY_REGISTERED", http.StatusConflict, "Учётная запись с этим телефоном или email уже есть. Войдите или восстановите пароль.")
	ErrCertNotLinked     = def("CERT_NOT_LINKED", http.StatusForbidden, "Сертификат не привязан к учётной записи. Войдите по телефону или email и привяжите его в Личном кабинете: «Привязать сертификат».")
	ErrCertRenewed       = def("CERT_RENEWED", http.StatusConflict, "Это новый сертификат владельца привязанного сертификата (тот же СНИЛС). Подтвердите, чтобы привязать его и войти.")
	ErrCertOtherAccount  = def("CERT_OTHER_ACCOUNT", http.StatusForbidden, "Этот сертификат привязан к другой учётной записи. Выберите сертификат, привязанный к вашей.")
	ErrCertAlreadyLinked = def("CERT_ALREADY_LINKED", http.StatusConflict, "Этот сертификат уже привязан к учётной записи.")
	ErrWrongPurpose      = def("WRONG_PURPOSE", http.StatusBadRequest, "Подпись сделана для другого действия. Повторите его.")
	ErrNotFound          = def("NOT_FOUND", http.StatusNotFound, "Не найдено.")
	ErrUnavailable       = def("UNAVAILABLE", http.StatusServiceUnavailable, "Сервис временно недоступен. Попробуйте позже.")
)

func def(code string, status int, msg string) *Error {
	return &Error{Code: code, Status: status, Message: msg}
}

// with returns a copy of e carrying cause and the details set by opts.
func (e *Error) with(cause error, opts ...func(*Error)) *Error {
	c := *e
	c.Err = cause
	for _, o := range opts {
		o(&c)
	}
	return &c
}

func field(f string) func(*Error) { return func(e *Error) { e.Field = f } }

func retryAfter(sec int) func(*Error) {
	return func(e *Error) { e.RetryAfter = max(sec, 1) }
}
