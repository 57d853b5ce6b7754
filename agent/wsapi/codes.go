package wsapi

import (
	"context"
	"errors"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/cades"
	"github.com/podpis/podpis/certreq"
	"github.com/podpis/podpis/crypto/tsp"
)

// Code is one of the fixed protocol error codes.
type Code string

const (
	BadRequest     Code = "BAD_REQUEST"
	UnknownMethod  Code = "UNKNOWN_METHOD"
	OriginDenied   Code = "ORIGIN_DENIED"
	UserCancelled  Code = "USER_CANCELLED"
	NoProvider     Code = "NO_PROVIDER"
	ProviderError  Code = "PROVIDER_ERROR"
	NoCertificates Code = "NO_CERTIFICATES"
	CertNotFound   Code = "CERT_NOT_FOUND"
	CertExpired    Code = "CERT_EXPIRED"
	PINRequired    Code = "PIN_REQUIRED"
	PINIncorrect   Code = "PIN_INCORRECT"
	PINLocked      Code = "PIN_LOCKED"
	TokenRemoved   Code = "TOKEN_REMOVED"
	Busy           Code = "BUSY"
	Timeout        Code = "TIMEOUT"
	Internal       Code = "INTERNAL"
	// Getting a certificate (createRequest, installCertificate).
	InvalidRequest   Code = "INVALID_REQUEST"
	NoKeygen         Code = "NO_KEYGEN"
	TokenNotFound    Code = "TOKEN_NOT_FOUND"
	NoMatchingKey    Code = "NO_MATCHING_KEY"
	AlreadyInstalled Code = "ALREADY_INSTALLED"
	BadCertificate   Code = "BAD_CERTIFICATE"
	// TooLargeCode: a message, chunk or reply over the limits (also the
	// native host's TOO_LARGE for a frame it skipped).
	TooLargeCode Code = "TOO_LARGE"
	// A CAdES-T or X Long signature (sign's tsa and cades): the TSA could
	// not be reached, or answered with no good token; X Long's chain or
	// revocation evidence could not be had. Never a silent CAdES-BES.
	TSAUnavailable        Code = "TSA_UNAVAILABLE"
	TSABadResponse        Code = "TSA_BAD_RESPONSE"
	RevocationUnavailable Code = "REVOCATION_UNAVAILABLE"
)

// NoticeProgress is the notice of a batch's progress (Done of Total).
const NoticeProgress = "PROGRESS"

// table is the one code → message table of podpis, in the order of
// docs/protocol.md. The agent sends the Russian text with every error, the
// command line prints it, podpis.js falls back on the same text
// (TestClientMessages) and the demo page shows what it is given.
var table = []struct {
	code   Code
	ru, en string
	keys   []keystore.Code // the key store's codes that map here
}{
	{BadRequest, "Неверный запрос", "bad request", nil},
	{UnknownMethod, "Неизвестный метод", "unknown method", nil},
	{OriginDenied, "Доступ сайта к сертификатам запрещён", "the site may not use certificates", nil},
	{UserCancelled, "Операция отменена", "cancelled", []keystore.Code{keystore.CodeCancelled}},
	{NoProvider, "Не установлен криптопровайдер", "no crypto provider", []keystore.Code{keystore.CodeNoProvider}},
	{ProviderError, "Ошибка криптопровайдера", "crypto provider failed", []keystore.Code{keystore.CodeProviderError}},
	{NoCertificates, "Сертификаты не найдены", "no certificates", nil},
	{CertNotFound, "Сертификат не найден", "certificate not found", []keystore.Code{keystore.CodeCertNotFound}},
	{CertExpired, "Срок действия сертификата истёк или ещё не наступил", "certificate expired or not yet valid", nil},
	{PINRequired, "Требуется PIN-код", "PIN required", []keystore.Code{keystore.CodePINRequired}},
	{PINIncorrect, "Неверный PIN-код", "wrong PIN", []keystore.Code{keystore.CodePINIncorrect}},
	{PINLocked, "PIN-код заблокирован", "PIN locked", []keystore.Code{keystore.CodePINLocked}},
	{TokenRemoved, "Токен извлечён", "token removed", []keystore.Code{keystore.CodeTokenRemoved}},
	{Busy, "Подождите: предыдущий запрос ещё не завершён", "busy: another prompt is open or the site asked too often", nil},
	{Timeout, "Время ожидания истекло", "timed out", []keystore.Code{keystore.CodeTimeout}},
	{Internal, "Внутренняя ошибка podpis", "internal error", nil},
	// The message of INVALID_REQUEST that the agent sends names the field
	// and what is wrong with it (certreq.Error.Message); this is the
	// general one.
	{InvalidRequest, "Неверно заполнены данные запроса на сертификат", "invalid certificate request", nil},
	{NoKeygen, "Токен не умеет создавать ключи этого алгоритма", "the token cannot generate this key", []keystore.Code{keystore.CodeNoKeygen}},
	{TokenNotFound, "Токен не найден", "token not found", []keystore.Code{keystore.CodeTokenNotFound}},
	{NoMatchingKey, "Ключ этого сертификата не найден ни на одном токене", "no token holds the certificate's key", []keystore.Code{keystore.CodeNoMatchingKey}},
	{AlreadyInstalled, "Сертификат уже установлен на токен", "certificate already installed", []keystore.Code{keystore.CodeAlreadyInstalled}},
	{BadCertificate, "Файл не является сертификатом", "not a certificate", []keystore.Code{keystore.CodeBadCertificate}},
	{TooLargeCode, "Слишком большое сообщение: документ передаётся частями", "message too large", nil},
	{TSAUnavailable, "Служба штампов времени недоступна", "the time-stamping authority is unavailable", nil},
	{TSABadResponse, "Служба штампов времени вернула неверный ответ", "the time-stamping authority answered with no valid token", nil},
	{RevocationUnavailable, "Не удалось получить сведения о статусе сертификата для подписи CAdES-X Long", "the chain or revocation data for CAdES-X Long could not be obtained", nil},
}

// notices are the agent's notices (agent.Notice) and what the page shows
// for them; podpis.js passes them on as they come.
var notices = []struct {
	notice agent.Notice
	ru     string
}{
	{agent.NoticePromptNotShown, "podpis не смог открыть окно запроса (PIN-код или разрешение для сайта). " +
		"Откройте адрес, который podpis напечатал в своём окне (терминале) или журнале, в браузере этого компьютера."},
}

// NoticeMessage is the Russian text of a notice; "" for one not in the table.
func NoticeMessage(n agent.Notice) string {
	for _, e := range notices {
		if e.notice == n {
			return e.ru
		}
	}
	return ""
}

// agentErrors map the agent's sentinels (and the context's), in the
// order they are tried: the first that matches wins.
var agentErrors = []struct {
	err  error
	code Code
}{
	{certreq.ErrInvalid, InvalidRequest},
	{tsp.ErrUnavailable, TSAUnavailable},
	{tsp.ErrBadResponse, TSABadResponse},
	{cades.ErrChain, RevocationUnavailable},
	{cades.ErrRevocation, RevocationUnavailable},
	{ErrTooLarge, TooLargeCode},
	{agent.ErrBadRequest, BadRequest},
	{agent.ErrOriginDenied, OriginDenied},
	{agent.ErrBusy, Busy},
	{agent.ErrNoCertificates, NoCertificates},
	{agent.ErrCertExpired, CertExpired},
	{agent.ErrCancelled, UserCancelled},
	{context.Canceled, UserCancelled},
	{context.DeadlineExceeded, Timeout},
}

// Codes lists every code, in the order of docs/protocol.md.
var Codes = func() []Code {
	out := make([]Code, len(table))
	for i, e := range table {
		out[i] = e.code
	}
	return out
}()

func entry(c Code) (ru, en string) {
	for _, e := range table {
		if e.code == c {
			return e.ru, e.en
		}
	}
	return "", ""
}

// Message is the Russian message of a code, what a person is shown.
func (c Code) Message() string { ru, _ := entry(c); return ru }

// English is the English message of a code, for logs and English-speaking
// programs.
func (c Code) English() string { _, en := entry(c); return en }

// CodeOf maps an error to its protocol code: the agent's sentinels and
// the key store's codes (a key store code with no row is PROVIDER_ERROR),
// else INTERNAL. The agent's errors are looked at first: a request the
// agent refused is refused whatever the key store said under it.
func CodeOf(err error) Code {
	for _, e := range agentErrors {
		if errors.Is(err, e.err) {
			return e.code
		}
	}
	var ks *keystore.Error
	if errors.As(err, &ks) {
		for _, e := range table {
			for _, k := range e.keys {
				if k == ks.Code {
					return e.code
				}
			}
		}
		return ProviderError
	}
	return Internal
}

// ErrorOf maps an error to its protocol error. The Go error itself (which
// may name files, modules, people) never reaches the page.
// A request field the profile refuses (certreq) is named, in Russian from
// certreq's own table, with Field its key for the page's form.
func ErrorOf(err error) *Error {
	c := CodeOf(err)
	var ce *certreq.Error
	if c == InvalidRequest && errors.As(err, &ce) {
		return &Error{Code: c, Message: ce.Message(), Field: ce.Field}
	}
	return &Error{Code: c, Message: c.Message()}
}
