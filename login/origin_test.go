package login

import "testing"

func TestNormalizeOrigin(t *testing.T) {
	cases := []struct{ in, want string }{
		{"https://lk.example.ru", "https://lk.example.ru"},
		{"https://LK.Example.RU:443", "https://lk.example.ru"},
		{"https://lk.example.ru:8443", "https://lk.example.ru:8443"},
		{"https://lk.example.ru/", "https://lk.example.ru"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"http://127.0.0.1:80", "http://127.0.0.1"},
		{"http://lk.example.ru", ""},
		{"http://localhost:8080", ""},
		{"http://127.0.0.2", ""},
		{"http://192.168.1.1", ""},
		{"ftp://lk.example.ru", ""},
		{"null", ""},
		{"", ""},
		{"https://user@lk.example.ru", ""},
		{"https://lk.example.ru/path", ""},
		{"https://lk.example.ru?q", ""},
		{"file:///etc/passwd", ""},
		{"chrome-extension://abcdef", ""},
		// A browser never sends these; a '*' would match a wildcard rule.
		{"https://*.example.ru", ""},
		{"https://a.*.example.ru", ""},
		{"https://lk..example.ru", ""},
		{"https://.example.ru", ""},
		{"https://lk.example.ru..", ""},
		{"https://пример.рф", ""},
		{"https://lk%2eexample.ru", ""},
		{"https://xn--e1afmkfd.xn--p1ai", "https://xn--e1afmkfd.xn--p1ai"},
		{"https://lk.example.ru.", "https://lk.example.ru."},
		{"https://my_host.example.ru", "https://my_host.example.ru"},
	}
	for _, c := range cases {
		got, err := NormalizeOrigin(c.in)
		if (err != nil) != (c.want == "") || got != c.want {
			t.Errorf("NormalizeOrigin(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}
