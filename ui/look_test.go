package ui

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/podpis/podpis/ui/uiproto"
)

func TestHumanSize(t *testing.T) {
	for n, want := range map[int]string{
		0:       "0 байт",
		1023:    "1\u2009023 байт",
		1536:    "1,5 КБ (1\u2009536 байт)",
		1048576: "1 МБ (1\u2009048\u2009576 байт)",
		48213:   "47,1 КБ (48\u2009213 байт)",
	} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestGroupHex(t *testing.T) {
	h := "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500"
	want := "9d15 1eef d859 0b89 daa6 ba6c b74a f927\n5dd0 5102 6bb1 49a4 52fd 84e5 e57b 5500"
	if got := groupHex(h); got != want {
		t.Errorf("groupHex = %q, want %q", got, want)
	}
}

// TestBounded: text from outside podpis cannot start lines of its own,
// reverse itself, or be longer than asked, whatever it was given.
func TestBounded(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Договор\nРазмер: 1 байт", "Договор Размер: 1 байт"},
		{"\u202Efdp.exe", "fdp.exe"},
		{"a\u200Bb\r\nc\u2028d", "ab  c d"},
	} {
		if got := bounded(c.in, 100); got != c.want {
			t.Errorf("bounded(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	long := bounded(strings.Repeat("Ы", 10000), maxShown)
	if utf8.RuneCountInString(long) != maxShown || !strings.HasSuffix(long, "…") {
		t.Errorf("10 000 runes bounded to %d, ending %q", utf8.RuneCountInString(long), long[len(long)-3:])
	}
}

// TestPINText: the PIN window says whether the PIN logs in or signs a
// document, and asks a CSP container's password by that name.
func TestPINText(t *testing.T) {
	for _, c := range []struct {
		p                        uiproto.Prompt
		ask, field, token, title string
	}{
		{uiproto.Prompt{Login: true}, "чтобы войти на сайт", "PIN-код", "Токен", "PIN-код токена"},
		{uiproto.Prompt{Document: &uiproto.Document{Size: 10}}, "чтобы подписать документ для сайта", "PIN-код", "Токен", "PIN-код токена"},
		{uiproto.Prompt{Login: true, Container: true}, "пароль доступа к контейнеру ключей, чтобы войти на сайт", "Пароль", "Имя контейнера", "Пароль контейнера ключей"},
	} {
		ask, field, token, head := pinWords(c.p)
		if !strings.Contains(ask, c.ask) || field != c.field || token != c.token || head != c.title {
			t.Errorf("%+v: %q %q %q %q", c.p, ask, field, token, head)
		}
	}
	if ask, _, _, _ := pinWords(uiproto.Prompt{}); strings.Contains(ask, "войти") {
		t.Errorf("a document's PIN asked as a login: %q", ask)
	}
}
