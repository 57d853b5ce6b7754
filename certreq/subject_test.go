package certreq

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const goodSubject = `CN=Иванов Иван Иванович,SN=Иванов,G=Иван Иванович,SNILS=11223344595,INN=500100732259,E=ivanov@example.ru,C=RU,S=77 Москва,L=Москва,Street=ул. Тверская\, д. 1`

func TestParseSubject(t *testing.T) {
	s, err := ParseSubject(goodSubject)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := s.Get("Street"); got != "ул. Тверская, д. 1" {
		t.Errorf("Street = %q", got)
	}
	if got := s.Get("snils"); got != "11223344595" {
		t.Errorf("SNILS = %q", got)
	}
	again, err := ParseSubject(s.String())
	if err != nil || !reflect.DeepEqual(again, s) {
		t.Errorf("String does not parse back: %q → %v %v", s.String(), again, err)
	}
}

// TestSubjectRefused: every way a subject is refused names the field, and
// the Russian message names it as a person knows it.
func TestSubjectRefused(t *testing.T) {
	tests := []struct {
		in      string
		field   string
		reason  Reason
		message string
	}{
		{"SNILS=11223344595", "CN", ReasonEmpty, "Владелец (CN): поле не заполнено"},
		{"CN=  ,SNILS=11223344595", "CN", ReasonEmpty, ""},
		{"CN=Иванов,INN=500100732250", "INN", ReasonChecksum, "ИНН: неверное контрольное число"},
		{"CN=Иванов,INN=7707083893", "INN", ReasonLength, "ИНН: неверная длина"},
		{"CN=Иванов,INN=77070838931a", "INN", ReasonCharacters, ""},
		{"CN=ООО Ромашка,INNLE=7707083894", "INNLE", ReasonChecksum, ""},
		{"CN=Иванов,SNILS=11223344596", "SNILS", ReasonChecksum, "СНИЛС: неверное контрольное число"},
		{"CN=ООО Ромашка,OGRN=1027700132196", "OGRN", ReasonChecksum, ""},
		{"CN=ИП Иванов,OGRNIP=30450011600015", "OGRNIP", ReasonLength, ""},
		{"CN=ООО Ромашка,KPP=7736010", "KPP", ReasonLength, ""},
		{"CN=Иванов,E=иван@пример.рф", "E", ReasonCharacters, ""},
		{"CN=Иванов,E=ivanov", "E", ReasonFormat, ""},
		{"CN=Иванов,C=Россия", "C", ReasonCharacters, ""},
		{"CN=Иванов,C=ru", "C", ReasonLength, ""},
		{"CN=Иванов,X=1", "X", ReasonUnknown, "Неизвестное поле «X»"},
		{"CN=Иванов,CN=Петров", "CN", ReasonDuplicate, ""},
		{"CN=Иванов,SNILS", "subject", ReasonSyntax, ""},
		{`CN=Иванов\`, "subject", ReasonSyntax, ""},
		{`CN=Ива\нов`, "subject", ReasonSyntax, ""},
		{"CN=" + strings.Repeat("я", 201), "CN", ReasonLength, ""},
		{"CN=Иванов\x01", "CN", ReasonCharacters, ""},
	}
	for _, tt := range tests {
		s, err := ParseSubject(tt.in)
		if err == nil {
			err = s.Validate()
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%q: %v, want an *Error", tt.in, err)
			continue
		}
		if e.Field != tt.field || e.Reason != tt.reason {
			t.Errorf("%q: %s %s, want %s %s", tt.in, e.Field, e.Reason, tt.field, tt.reason)
		}
		if tt.message != "" && e.Message() != tt.message {
			t.Errorf("%q: message %q, want %q", tt.in, e.Message(), tt.message)
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: not ErrInvalid", tt.in)
		}
	}
}

func TestRequestRefused(t *testing.T) {
	s, _ := ParseSubject("CN=Иванов")
	for _, tt := range []struct {
		r     Request
		field string
	}{
		{Request{Subject: s, KeyUsage: []string{"signEverything"}}, "keyUsage"},
		{Request{Subject: s, IdentKind: -1}, "identKind"},
		{Request{Subject: s, KeyUsage: []string{}}, "keyUsage"},
		{Request{Subject: s, ExtKeyUsage: []string{"1.2.x"}}, "extKeyUsage"},
		{Request{Subject: s, ExtKeyUsage: []string{"3.1"}}, "extKeyUsage"},
		{Request{Subject: s, Policies: []string{"КС1"}}, "policy"},
		{Request{Subject: s, IdentKind: 4}, "identKind"},
		{Request{Subject: s, SignTool: strings.Repeat("x", 201)}, "signTool"},
	} {
		var e *Error
		if err := tt.r.Validate(); !errors.As(err, &e) || e.Field != tt.field {
			t.Errorf("%+v: %v, want an error in %s", tt.r, err, tt.field)
		} else if name := requestFields[tt.field]; !strings.HasPrefix(e.Message(), name+": ") {
			t.Errorf("%s: message %q does not name %q", tt.field, e.Message(), name)
		}
	}
}

// FuzzParseSubject: the parser never panics, whatever it accepts it
// writes back in a form that parses to the same subject, and Validate
// never panics on it.
func FuzzParseSubject(f *testing.F) {
	for _, s := range []string{goodSubject, "CN=a", `CN=a\,b\\c`, "cn=x,,sn=y", "=", `\`, "CN=Иванов,INN=500100732259"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSubject(in)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%q: %T %v, want an *Error", in, err, err)
			}
			return
		}
		_ = s.Validate()
		again, err := ParseSubject(s.String())
		if err != nil {
			t.Fatalf("%q → %q: %v", in, s.String(), err)
		}
		if len(again) != len(s) {
			t.Fatalf("%q → %q: %d fields, then %d", in, s.String(), len(s), len(again))
		}
		for i := range s {
			if again[i] != s[i] {
				t.Fatalf("%q → %q: field %d %v, then %v", in, s.String(), i, s[i], again[i])
			}
		}
	})
}
