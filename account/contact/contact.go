// Package contact normalises the ways to reach a person that the account
// service keys accounts by: phone numbers to E.164 and e-mail addresses to
// a trimmed, case-folded form, so that «8 (916) 123-45-67» and
// «+7 916 1234567» are one account, and «Ivan@Mail.RU » and
// «ivan@mail.ru» another.
package contact

import (
	"errors"
	"net/mail"
	"strings"
)

var (
	// ErrPhone: not a phone number.
	ErrPhone = errors.New("contact: not a phone number")
	// ErrEmail: not an e-mail address.
	ErrEmail = errors.New("contact: not an e-mail address")
)

// Phone returns s in E.164. Spaces, brackets, dashes and dots are
// dropped; Russian numbers written the ways people write them (8…, 7…,
// +7…, or 10 digits from 9) become +7 and ten digits; any other «+» and
// 8 to 15 digits is taken as E.164 already.
func Phone(s string) (string, error) {
	s = strings.TrimSpace(s)
	plus := strings.HasPrefix(s, "+")
	if plus {
		s = s[1:]
	}
	var d []byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			d = append(d, c)
		case c == ' ' || c == '(' || c == ')' || c == '-' || c == '.' || c == '\t':
		default:
			return "", ErrPhone
		}
	}
	switch {
	case plus && len(d) == 11 && d[0] == '7':
	case !plus && len(d) == 11 && (d[0] == '7' || d[0] == '8'):
		d[0] = '7'
	case !plus && len(d) == 10 && d[0] == '9':
		d = append([]byte{'7'}, d...)
	case plus && len(d) >= 8 && len(d) <= 15 && d[0] != '0' && d[0] != '7':
	default:
		return "", ErrPhone
	}
	if d[0] == '7' && len(d) != 11 {
		return "", ErrPhone
	}
	return "+" + string(d), nil
}

// DisplayPhone writes an E.164 number as people read it: Russian ones as
// +7 (916) 123-45-67, others as they are.
func DisplayPhone(e164 string) string {
	if len(e164) != 12 || !strings.HasPrefix(e164, "+7") {
		return e164
	}
	d := e164[2:]
	return "+7 (" + d[0:3] + ") " + d[3:6] + "-" + d[6:8] + "-" + d[8:10]
}

// MaskPhone hides all but the last two digits of a Russian number:
// +7 (916) ***-**-67; other numbers keep their first three and last two
// digits.
func MaskPhone(e164 string) string {
	if len(e164) == 12 && strings.HasPrefix(e164, "+7") {
		return "+7 (" + e164[2:5] + ") ***-**-" + e164[10:12]
	}
	if len(e164) < 6 {
		return "***"
	}
	return e164[:3] + strings.Repeat("*", len(e164)-5) + e164[len(e164)-2:]
}

// Email returns s trimmed and case-folded, if it is a plain address: one
// «@», a local part and a domain with a dot, at most 254 bytes, no name
// or angle brackets.
func Email(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) > 254 || strings.Count(s, "@") != 1 {
		return "", ErrEmail
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", ErrEmail
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", ErrEmail
	}
	return s, nil
}

// MaskEmail keeps the first letter of the local part and the domain:
// i***@mail.ru.
func MaskEmail(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" {
		return "***"
	}
	r := []rune(local)
	return string(r[0]) + "***@" + domain
}
