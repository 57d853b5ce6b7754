// Package wsapi is protocol v1 of the agent (docs/protocol.md): JSON
// requests {"id","method","params"} and responses {"id","result"} or
// {"id","error":{"code","message"}}, the method table, and the fixed set of
// error codes, mapped from Go errors here and nowhere else.
package wsapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/doctor"
	"github.com/podpis/podpis/agent/keystore"
)

// Request is one call from the page.
type Request struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params,omitempty"`
}

// Response answers a Request with the same ID.
type Response struct {
	ID     json.RawMessage `json:"id"`
	Result any             `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
}

// Error is a failure as the page sees it: a stable code and a Russian
// message to show.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

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
)

// Codes lists every code, in the order of docs/protocol.md.
var Codes = []Code{BadRequest, UnknownMethod, OriginDenied, UserCancelled, NoProvider, ProviderError,
	NoCertificates, CertNotFound, CertExpired, PINRequired, PINIncorrect, PINLocked, TokenRemoved, Busy, Timeout, Internal}

var messages = map[Code]string{
	BadRequest:     "Неверный запрос",
	UnknownMethod:  "Неизвестный метод",
	OriginDenied:   "Доступ сайта к сертификатам запрещён",
	UserCancelled:  "Операция отменена",
	NoProvider:     "Не установлен криптопровайдер",
	ProviderError:  "Ошибка криптопровайдера",
	NoCertificates: "Сертификаты не найдены",
	CertNotFound:   "Сертификат не найден",
	CertExpired:    "Срок действия сертификата истёк или ещё не наступил",
	PINRequired:    "Требуется PIN-код",
	PINIncorrect:   "Неверный PIN-код",
	PINLocked:      "PIN-код заблокирован",
	TokenRemoved:   "Токен извлечён",
	Busy:           "Подождите: предыдущий запрос ещё не завершён",
	Timeout:        "Время ожидания истекло",
	Internal:       "Внутренняя ошибка podpis",
}

// Message is the Russian message of a code.
func (c Code) Message() string { return messages[c] }

// ErrorOf maps an error to its protocol error.
func ErrorOf(err error) *Error {
	code := Internal
	var ks *keystore.Error
	switch {
	case errors.Is(err, agent.ErrBadRequest):
		code = BadRequest
	case errors.Is(err, agent.ErrOriginDenied):
		code = OriginDenied
	case errors.Is(err, agent.ErrBusy):
		code = Busy
	case errors.Is(err, agent.ErrNoCertificates):
		code = NoCertificates
	case errors.Is(err, agent.ErrCertExpired):
		code = CertExpired
	case errors.Is(err, agent.ErrCancelled), errors.Is(err, context.Canceled):
		code = UserCancelled
	case errors.Is(err, context.DeadlineExceeded):
		code = Timeout
	case errors.As(err, &ks):
		code = map[keystore.Code]Code{
			keystore.CodePINRequired: PINRequired, keystore.CodePINIncorrect: PINIncorrect,
			keystore.CodePINLocked: PINLocked, keystore.CodeTokenRemoved: TokenRemoved,
			keystore.CodeCertNotFound: CertNotFound, keystore.CodeNoProvider: NoProvider,
			keystore.CodeProviderError: ProviderError, keystore.CodeTimeout: Timeout,
			keystore.CodeCancelled: UserCancelled,
		}[ks.Code]
		if code == "" {
			code = ProviderError
		}
	}
	return &Error{Code: code, Message: code.Message()}
}

// Handler runs one method for an origin. Params are already size-limited
// by the transport.
type Handler func(ctx context.Context, a *agent.Agent, origin string, params json.RawMessage) (any, error)

// Methods is the method table; "cancel" is handled by the connection.
var Methods = map[string]Handler{
	"info":         info,
	"certificates": certificates,
	"authenticate": authenticate,
	"sign":         sign,
}

func decode(params json.RawMessage, v any) error {
	if len(params) == 0 {
		params = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.Join(agent.ErrBadRequest, err)
	}
	return nil
}

// InfoResult is the info method's result: the agent and, so that a page
// can say exactly why login cannot work, podpis doctor's findings.
type InfoResult struct {
	agent.Info
	Ready    bool             `json:"ready"`
	Findings []doctor.Finding `json:"findings"`
}

func info(ctx context.Context, a *agent.Agent, origin string, params json.RawMessage) (any, error) {
	r := InfoResult{Info: a.Info()}
	r.Findings, r.Ready = a.Diagnosis(ctx, origin)
	return r, nil
}

// CertificatesResult is the certificates method's result.
type CertificatesResult struct {
	Certificates []*keystore.Certificate `json:"certificates"`
}

func certificates(ctx context.Context, a *agent.Agent, origin string, params json.RawMessage) (any, error) {
	var f agent.Filter
	if err := decode(params, &f); err != nil {
		return nil, err
	}
	certs, err := a.Certificates(ctx, origin, f)
	if err != nil {
		return nil, err
	}
	return CertificatesResult{Certificates: certs}, nil
}

// AuthenticateParams and AuthenticateResult are the authenticate method's.
type AuthenticateParams struct {
	Certificate string `json:"certificate"`
	Challenge   string `json:"challenge"`
}

type AuthenticateResult struct {
	CMS         string `json:"cms"`         // base64 DER, attached
	Certificate string `json:"certificate"` // base64 DER
}

func authenticate(ctx context.Context, a *agent.Agent, origin string, params json.RawMessage) (any, error) {
	var p AuthenticateParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	der, cert, err := a.Authenticate(ctx, origin, p.Certificate, p.Challenge)
	if err != nil {
		return nil, err
	}
	return AuthenticateResult{CMS: base64.StdEncoding.EncodeToString(der), Certificate: base64.StdEncoding.EncodeToString(cert.Raw)}, nil
}

// SignParams and SignResult are the sign method's.
type SignParams struct {
	Certificate string `json:"certificate"`
	Data        string `json:"data"` // base64
	Detached    bool   `json:"detached,omitempty"`
	Description string `json:"description,omitempty"`
}

type SignResult struct {
	CMS string `json:"cms"`
}

// MaxDescription bounds the text a page may put into the consent prompt.
const MaxDescription = 500

func sign(ctx context.Context, a *agent.Agent, origin string, params json.RawMessage) (any, error) {
	var p SignParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	data, err := base64.StdEncoding.DecodeString(p.Data)
	if err != nil || len([]rune(p.Description)) > MaxDescription {
		return nil, agent.ErrBadRequest
	}
	der, err := a.Sign(ctx, origin, agent.SignRequest{Certificate: p.Certificate, Data: data, Detached: p.Detached, Description: p.Description})
	if err != nil {
		return nil, err
	}
	return SignResult{CMS: base64.StdEncoding.EncodeToString(der)}, nil
}
