package poa

import (
	"errors"
	"fmt"
	"strings"
)

// Code is a stable reason code for logs and APIs; the strings never
// change. Signature failures keep verify's codes (*verify.Error).
type Code string

const (
	// CodeMalformed: not EMCHD_1 XML.
	CodeMalformed Code = "POA_MALFORMED"
	// CodeUnsupported: a valid EMCHD_1 shape this package does not model
	// (a foreign principal, a transfer of powers, several principals).
	CodeUnsupported Code = "POA_UNSUPPORTED"
	// CodeInvalid: a field fails its rule; Error.Field names it.
	CodeInvalid Code = "POA_INVALID"
	// CodePrincipalMismatch: the signer's certificate names another
	// organisation than the principal (INNLE, OGRN).
	CodePrincipalMismatch Code = "POA_PRINCIPAL_MISMATCH"
	// CodeSignerMismatch: the signer is not the principal's head named in
	// the document (SNILS, INN).
	CodeSignerMismatch Code = "POA_SIGNER_MISMATCH"
	// CodeExpired: the power of attorney is no longer in force.
	CodeExpired Code = "POA_EXPIRED"
	// CodeNotPrincipal: the person's certificate names no organisation
	// (INNLE and OGRN), so it cannot grant one's power of attorney.
	CodeNotPrincipal Code = "POA_NOT_PRINCIPAL"
)

var codeMessages = map[Code]string{
	CodeMalformed:         "Файл не является машиночитаемой доверенностью в формате EMCHD_1",
	CodeUnsupported:       "Такой вид доверенности (иностранный доверитель, передоверие, несколько доверителей или представителей) здесь не поддерживается",
	CodeInvalid:           "Доверенность заполнена неверно",
	CodePrincipalMismatch: "Доверенность подписана не от имени организации-доверителя: ИНН ЮЛ или ОГРН в сертификате подписавшего не совпадают с указанными в доверенности",
	CodeSignerMismatch:    "Доверенность подписана не руководителем, указанным в доверенности: СНИЛС или ИНН в сертификате подписавшего не совпадают",
	CodeExpired:           "Срок действия доверенности истёк",
	CodeNotPrincipal:      "В вашем сертификате нет ИНН ЮЛ и ОГРН организации: доверенность от имени организации подписывает её руководитель сертификатом юридического лица",
}

// Error is a failure with its code; for CodeInvalid, Field is the field
// (a stable name such as "representative.snils") and Reason why.
type Error struct {
	Code   Code
	Field  string
	Reason Reason
	// Err is the cause, for logs; never show it to a person.
	Err error
}

// Reason is why a field is invalid.
type Reason string

const (
	ReasonRequired Reason = "required"
	ReasonLength   Reason = "length"   // wrong number of digits or too long
	ReasonChecksum Reason = "checksum" // the control digits do not match
	ReasonFormat   Reason = "format"   // characters or shape
	ReasonDates    Reason = "dates"    // the end before the start, or the start in the past
)

func (e *Error) Error() string {
	s := "poa: " + string(e.Code)
	if e.Field != "" {
		s += ": " + e.Field + ": " + string(e.Reason)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches the sentinels by code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Field == "" && t.Err == nil && t.Code == e.Code
}

// MessageRU is the Russian sentence for a person: for an invalid field,
// what is wrong with which one.
func (e *Error) MessageRU() string {
	if e.Code == CodeInvalid && e.Field != "" {
		return fieldMessage(e.Field, e.Reason)
	}
	return codeMessages[e.Code]
}

// Sentinels, one per code, for errors.Is.
var (
	ErrMalformed         = &Error{Code: CodeMalformed}
	ErrUnsupported       = &Error{Code: CodeUnsupported}
	ErrInvalid           = &Error{Code: CodeInvalid}
	ErrPrincipalMismatch = &Error{Code: CodePrincipalMismatch}
	ErrSignerMismatch    = &Error{Code: CodeSignerMismatch}
	ErrExpired           = &Error{Code: CodeExpired}
	ErrNotPrincipal      = &Error{Code: CodeNotPrincipal}
)

func invalid(field string, reason Reason) *Error {
	return &Error{Code: CodeInvalid, Field: field, Reason: reason}
}

func fail(code Code, format string, a ...any) *Error {
	return &Error{Code: code, Err: errors.New(fmt.Sprintf(format, a...))}
}

// fieldLabels are the fields as the form and the document name them.
var fieldLabels = map[string]string{
	"id":                        "Номер доверенности (GUID)",
	"number":                    "Внутренний номер доверенности",
	"issued":                    "Дата выдачи",
	"expires":                   "Срок действия",
	"statusURL":                 "Сведения об информационной системе",
	"principal.name":            "Наименование организации",
	"principal.innle":           "ИНН организации",
	"principal.kpp":             "КПП организации",
	"principal.ogrn":            "ОГРН организации",
	"head.surname":              "Фамилия руководителя",
	"head.name":                 "Имя руководителя",
	"head.patronymic":           "Отчество руководителя",
	"head.snils":                "СНИЛС руководителя",
	"head.inn":                  "ИНН руководителя",
	"head.title":                "Должность руководителя",
	"representative.surname":    "Фамилия представителя",
	"representative.name":       "Имя представителя",
	"representative.patronymic": "Отчество представителя",
	"representative.snils":      "СНИЛС представителя",
	"representative.inn":        "ИНН представителя",
	"representative.title":      "Должность представителя",
	"powers":                    "Полномочия",
}

// fieldRules say, per kind of field, what a reason means.
var fieldRules = map[string]map[Reason]string{
	"snils":   {ReasonLength: "11 цифр", ReasonChecksum: "неверное контрольное число"},
	"inn":     {ReasonLength: "12 цифр", ReasonChecksum: "неверные контрольные цифры"},
	"innle":   {ReasonLength: "10 цифр", ReasonChecksum: "неверная контрольная цифра"},
	"ogrn":    {ReasonLength: "13 цифр", ReasonChecksum: "неверная контрольная цифра"},
	"kpp":     {ReasonLength: "9 знаков", ReasonFormat: "9 знаков: цифры, 5-й и 6-й — цифры или заглавные латинские буквы"},
	"issued":  {ReasonDates: "не раньше сегодняшнего дня"},
	"expires": {ReasonDates: "не раньше даты выдачи"},
	"id":      {ReasonFormat: "GUID вида xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"},
	"powers":  {ReasonRequired: "выберите из классификатора или опишите текстом", ReasonFormat: "код из 6–255 знаков и название до 255 знаков"},
}

var reasonMessages = map[Reason]string{
	ReasonRequired: "заполните поле",
	ReasonLength:   "слишком длинное значение",
	ReasonChecksum: "неверное контрольное число",
	ReasonFormat:   "недопустимые символы",
	ReasonDates:    "неверная дата",
}

func fieldMessage(field string, reason Reason) string {
	label := fieldLabels[field]
	if label == "" {
		label = field
	}
	kind := field
	if i := strings.LastIndexByte(field, '.'); i >= 0 {
		kind = field[i+1:]
	}
	if m := fieldRules[kind][reason]; m != "" {
		return label + ": " + m
	}
	return label + ": " + reasonMessages[reason]
}
