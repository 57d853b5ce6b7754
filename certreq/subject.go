package certreq

import (
	"encoding/asn1"
	"fmt"
	"strings"
	"unicode/utf8"
)

// stringType is the ASN.1 string type a subject attribute is written in.
type stringType int

const (
	utf8String stringType = iota
	printable
	numeric
	ia5
)

// Field is one subject attribute the profile knows: how a person names it
// in --subject and in the protocol, its OID, the string type Приказ ФСБ
// России № 795 (as amended by № 31 of 29.01.2021) gives it, and its check.
type field struct {
	key   string
	oid   asn1.ObjectIdentifier
	typ   stringType
	check func(string) error // nil: any non-empty text of the type
	ru    string             // the field as a person knows it
}

// fields is the one table of subject attributes, in the order the request
// writes them (country first, the person last, as CAs issue them).
var fields = []field{
	{"C", asn1.ObjectIdentifier{2, 5, 4, 6}, printable, checkCountry, "Страна"},
	{"S", asn1.ObjectIdentifier{2, 5, 4, 8}, utf8String, nil, "Регион"},
	{"L", asn1.ObjectIdentifier{2, 5, 4, 7}, utf8String, nil, "Населённый пункт"},
	{"Street", asn1.ObjectIdentifier{2, 5, 4, 9}, utf8String, nil, "Адрес"},
	{"O", asn1.ObjectIdentifier{2, 5, 4, 10}, utf8String, nil, "Организация"},
	{"OU", asn1.ObjectIdentifier{2, 5, 4, 11}, utf8String, nil, "Подразделение"},
	{"T", asn1.ObjectIdentifier{2, 5, 4, 12}, utf8String, nil, "Должность"},
	{"CN", asn1.ObjectIdentifier{2, 5, 4, 3}, utf8String, nil, "Владелец (CN)"},
	{"SN", asn1.ObjectIdentifier{2, 5, 4, 4}, utf8String, nil, "Фамилия"},
	{"G", asn1.ObjectIdentifier{2, 5, 4, 42}, utf8String, nil, "Имя и отчество"},
	{"E", asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}, ia5, checkEmail, "Электронная почта"},
	{"INN", asn1.ObjectIdentifier{1, 2, 643, 3, 131, 1, 1}, numeric, CheckINN, "ИНН"},
	{"INNLE", asn1.ObjectIdentifier{1, 2, 643, 100, 4}, numeric, CheckINNLE, "ИНН юридического лица"},
	{"OGRN", asn1.ObjectIdentifier{1, 2, 643, 100, 1}, numeric, CheckOGRN, "ОГРН"},
	{"OGRNIP", asn1.ObjectIdentifier{1, 2, 643, 100, 5}, numeric, CheckOGRNIP, "ОГРНИП"},
	{"SNILS", asn1.ObjectIdentifier{1, 2, 643, 100, 3}, numeric, CheckSNILS, "СНИЛС"},
	// КПП has no attribute type of its own in the profile; CAs that take
	// it (Astral, Kontur) read it from unstructuredName as "KPP=…".
	{"KPP", asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 2}, utf8String, CheckKPP, "КПП"},
}

func lookupField(key string) *field {
	for i := range fields {
		if strings.EqualFold(fields[i].key, key) {
			return &fields[i]
		}
	}
	return nil
}

// Attribute is one field of a subject as given: its key as the table
// spells it and its value.
type Attribute struct {
	Key   string
	Value string
}

// Subject is the owner's name: the fields a person filled in. Each key
// appears at most once.
type Subject []Attribute

// Get returns the value of key, or "".
func (s Subject) Get(key string) string {
	for _, a := range s {
		if strings.EqualFold(a.Key, key) {
			return a.Value
		}
	}
	return ""
}

// ParseSubject reads the command line's form, "CN=Иванов Иван,SNILS=…":
// KEY=VALUE pairs separated by commas, a comma or backslash inside a value
// written as \, or \\. Keys are those of the profile (case-insensitive).
// Values are trimmed of surrounding spaces. It checks the syntax, the keys
// and duplicates; Validate checks the values.
func ParseSubject(text string) (Subject, error) {
	var out Subject
	var cur strings.Builder
	var parts []string
	escaped := false
	for _, r := range text {
		switch {
		case escaped:
			if r != ',' && r != '\\' {
				return nil, &Error{Field: "subject", Reason: ReasonSyntax, detail: fmt.Sprintf("unknown escape \\%c", r)}
			}
			cur.WriteRune(r)
			escaped = false
		case r == '\\':
			escaped = true
		case r == ',':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	if escaped {
		return nil, &Error{Field: "subject", Reason: ReasonSyntax, detail: "trailing backslash"}
	}
	parts = append(parts, cur.String())
	for _, p := range parts {
		if strings.TrimSpace(p) == "" {
			continue
		}
		k, v, ok := strings.Cut(p, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, &Error{Field: "subject", Reason: ReasonSyntax, detail: fmt.Sprintf("%q is not KEY=VALUE", p)}
		}
		f := lookupField(k)
		if f == nil {
			return nil, &Error{Field: k, Reason: ReasonUnknown}
		}
		if containsKey(out, f.key) {
			return nil, &Error{Field: f.key, Reason: ReasonDuplicate}
		}
		out = append(out, Attribute{Key: f.key, Value: strings.TrimSpace(v)})
	}
	return out, nil
}

func containsKey(s Subject, key string) bool {
	for _, a := range s {
		if a.Key == key {
			return true
		}
	}
	return false
}

// String writes s in the form ParseSubject reads.
func (s Subject) String() string {
	var b strings.Builder
	for i, a := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(a.Key)
		b.WriteByte('=')
		b.WriteString(strings.NewReplacer(`\`, `\\`, `,`, `\,`).Replace(a.Value))
	}
	return b.String()
}

// Validate checks every field of s against the profile: a known key, a
// value of its type, length and checksum; and that CN is there. The first
// problem is returned, as an *Error naming the field.
func (s Subject) Validate() error {
	seen := map[string]bool{}
	for _, a := range s {
		f := lookupField(a.Key)
		if f == nil {
			return &Error{Field: a.Key, Reason: ReasonUnknown}
		}
		if seen[f.key] {
			return &Error{Field: f.key, Reason: ReasonDuplicate}
		}
		seen[f.key] = true
		if err := checkValue(f, a.Value); err != nil {
			return err
		}
	}
	if s.Get("CN") == "" {
		return &Error{Field: "CN", Reason: ReasonEmpty}
	}
	return nil
}

// maxValue bounds a value (ub-name and friends of X.520 are 64…200; the
// longest, a street address, is given 200 as CAs accept).
const maxValue = 200

func checkValue(f *field, v string) error {
	if v == "" {
		return &Error{Field: f.key, Reason: ReasonEmpty}
	}
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxValue {
		return &Error{Field: f.key, Reason: ReasonLength}
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return &Error{Field: f.key, Reason: ReasonCharacters}
		}
	}
	switch f.typ {
	case numeric:
		if !allDigits(v) {
			return &Error{Field: f.key, Reason: ReasonCharacters}
		}
	case printable:
		if !isPrintable(v) {
			return &Error{Field: f.key, Reason: ReasonCharacters}
		}
	case ia5:
		for _, r := range v {
			if r > 0x7f {
				return &Error{Field: f.key, Reason: ReasonCharacters}
			}
		}
	}
	if f.check != nil {
		if err := f.check(v); err != nil {
			return err
		}
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isPrintable is X.680's PrintableString alphabet.
func isPrintable(s string) bool {
	for _, r := range s {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		case strings.ContainsRune(" '()+,-./:=?", r):
		default:
			return false
		}
	}
	return true
}

func checkCountry(v string) error {
	if len(v) != 2 || strings.ToUpper(v) != v {
		return &Error{Field: "C", Reason: ReasonLength}
	}
	return nil
}

func checkEmail(v string) error {
	at := strings.IndexByte(v, '@')
	if at <= 0 || at == len(v)-1 || strings.ContainsAny(v, " <>") {
		return &Error{Field: "E", Reason: ReasonFormat}
	}
	return nil
}

// FieldName is the Russian name of a subject field («СНИЛС», «Владелец
// (CN)»), or key itself when the profile has no such field.
func FieldName(key string) string {
	if f := lookupField(key); f != nil {
		return f.ru
	}
	return key
}
