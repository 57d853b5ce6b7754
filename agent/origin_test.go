package agent

import "testing"

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
