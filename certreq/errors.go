package certreq

import (
	"errors"
	"fmt"
)

// Reason says what is wrong with a field; stable English words for logs
// and programs.
type Reason string

const (
	ReasonEmpty      Reason = "empty"
	ReasonLength     Reason = "length"
	ReasonChecksum   Reason = "checksum"
	ReasonCharacters Reason = "characters"
	ReasonFormat     Reason = "format"
	ReasonUnknown    Reason = "unknown field"
	ReasonDuplicate  Reason = "duplicate"
	ReasonSyntax     Reason = "syntax"
)

// Code is the stable code of every *Error: the protocol and the command
// line report it as is.
const Code = "INVALID_REQUEST"

// ErrInvalid matches every *Error with errors.Is.
var ErrInvalid = errors.New("certreq: invalid request")

// Error is a field of a request that the profile refuses, found before
// any key exists.
type Error struct {
	Field  string // the subject key ("INN", "CN") or "subject", "keyUsage", "extKeyUsage", "policy", "identKind", "signTool"
	Reason Reason
	detail string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("certreq: %s: %s", e.Field, e.Reason)
	if e.detail != "" {
		s += ": " + e.detail
	}
	return s
}

func (e *Error) Is(target error) bool { return target == ErrInvalid }

// requestFields are the Russian names of a request's fields beyond the
// subject.
var requestFields = map[string]string{
	"subject":     "Имя владельца",
	"algorithm":   "Алгоритм ключа",
	"keyUsage":    "Назначение ключа",
	"extKeyUsage": "Расширенное назначение ключа",
	"policy":      "Политика сертификата",
	"identKind":   "Способ идентификации",
	"signTool":    "Средство электронной подписи",
}

// Message is the Russian sentence a person is shown.
func (e *Error) Message() string {
	name, other := requestFields[e.Field]
	if f := lookupField(e.Field); f != nil {
		name = f.ru
	}
	switch e.Reason {
	case ReasonEmpty:
		return name + ": поле не заполнено"
	case ReasonLength:
		return name + ": неверная длина"
	case ReasonChecksum:
		return name + ": неверное контрольное число"
	case ReasonCharacters:
		return name + ": недопустимые символы"
	case ReasonFormat:
		return name + ": неверный формат"
	case ReasonUnknown:
		if other {
			return name + ": неизвестное значение"
		}
		return "Неизвестное поле «" + e.Field + "»"
	case ReasonDuplicate:
		return name + ": поле указано дважды"
	}
	return name + ": ошибка записи"
}
