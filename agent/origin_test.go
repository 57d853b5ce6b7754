package agent

import (
	"strings"
	"testing"
)

func TestRuleMatch(t *testing.T) {
	cases := []struct {
		rule, origin string
		want         bool
	}{
		{"https://lk.example.ru", "https://lk.example.ru", true},
		{"https://lk.example.ru:443", "https://lk.example.ru", true},
		{"https://lk.example.ru", "https://lk.example.ru:8443", false},
		{"https://lk.example.ru", "https://other.example.ru", false},
		{"https://*.example.ru", "https://lk.example.ru", true},
		{"https://*.example.ru", "https://a.b.example.ru", true},
		{"https://*.example.ru", "https://example.ru", false},
		{"https://*.example.ru", "https://evilexample.ru", false},
		{"https://*.example.ru", "https://example.ru.evil.com", false},
		{"https://*.example.ru", "http://lk.example.ru", false},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", true},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8081", false},
	}
	for _, c := range cases {
		if got := Rule(c.rule).Match(c.origin); got != c.want {
			t.Errorf("%q matches %q = %v, want %v", c.rule, c.origin, got, c.want)
		}
	}
}

func TestParseRule(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://LK.example.ru:443", "https://lk.example.ru"},
		{"https://*.Example.RU", "https://*.example.ru"},
		{"https://*.example.ru:8443", "https://*.example.ru:8443"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://*.example.ru", ""},
		{"https://*", ""},
		{"https://a.*.example.ru", ""},
		{"https://**.example.ru", ""},
		{"lk.example.ru", ""},
	} {
		r, err := ParseRule(c.in)
		if (err != nil) != (c.want == "") || string(r) != c.want {
			t.Errorf("ParseRule(%q) = %q, %v; want %q", c.in, r, err, c.want)
		}
		if err == nil && !r.Match(strings.Replace(strings.Replace(c.want, "*.", "lk.", 1), "*", "x", 1)) {
			t.Errorf("%q does not match what it names", r)
		}
	}
}
