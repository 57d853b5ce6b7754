package prompt

import (
	"context"
	"html"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/login"
	"github.com/podpis/podpis/ui/uiproto"
)

// TestBrowserNewKey: on a machine without a desktop the key question is
// podpis's page: it shows the site, the token and the owner's fields (the
// page's markup is text), «Создать» posted as the page loads is not
// taken, and «Отмена» refuses.
func TestBrowserNewKey(t *testing.T) {
	dir := t.TempDir()
	argv := filepath.Join(dir, "argv")
	opener := filepath.Join(dir, "open.sh")
	os.WriteFile(opener, []byte("#!/bin/sh\necho \"$@\" > '"+argv+"'\n"), 0o755)
	t.Setenv("PODPIS_BROWSER", opener)
	const base = "https://127.0.0.1:24730"
	b := &Browser{BaseURL: base, Dir: filepath.Join(dir, "run", "podpis"), Settle: 300 * time.Millisecond}
	for _, tc := range []struct {
		choice string
		want   bool
	}{{"cancel", false}, {"approve", true}} {
		os.Remove(argv)
		what := newKeySummary()
		what.Subject[0].Value = `<b>Иванов</b>`
		got := make(chan bool, 1)
		go func() {
			ok, err := b.ConfirmNewKey(context.Background(), "https://ca.example.ru", what)
			if err != nil {
				t.Error(err)
			}
			got <- ok
		}()
		content, _ := os.ReadFile(opened(t, argv))
		m := forwardRE.FindStringSubmatch(string(content))
		if m == nil {
			t.Fatalf("no forwarding page: %s", content)
		}
		p := &page{b: b, url: html.UnescapeString(m[1])}
		body := p.get(t).Body.String()
		for _, want := range []string{"просит создать ключ электронной подписи на токене «Рутокен ЭЦП 3.0»", "https://ca.example.ru", "11223344595", "&lt;b&gt;Иванов&lt;/b&gt;", "Создать"} {
			if !strings.Contains(body, want) {
				t.Errorf("the page lacks %q:\n%s", want, body)
			}
		}
		form := url.Values{"choice": {tc.choice}, "csrf": {p.csrf}}
		if tc.want {
			p.post(base, form, true) // at once: shown again, not taken
			select {
			case ok := <-got:
				t.Fatalf("«Создать» posted as the page loaded was taken: %v", ok)
			case <-time.After(50 * time.Millisecond):
			}
			p.get(t)
			time.Sleep(350 * time.Millisecond)
			form.Set("csrf", p.csrf)
		}
		if w := p.post(base, form, true); !strings.Contains(w.Body.String(), "Готово") {
			t.Fatalf("%s: %d %s", tc.choice, w.Code, w.Body)
		}
		if ok := <-got; ok != tc.want {
			t.Errorf("%s answered %v", tc.choice, ok)
		}
	}
}

var _ agent.KeyPrompter = (*Browser)(nil)

// TestPINPurpose: the PIN window and page say what the PIN is for — a new
// key, an installation — and never «вход» for either: a PIN typed for a
// login must not make a key nobody asked for.
func TestPINPurpose(t *testing.T) {
	for _, tc := range []struct {
		req     keystore.PINRequest
		purpose string
	}{
		{keystore.PINRequest{Token: "t", NewKey: true}, uiproto.PurposeNewKey},
		{keystore.PINRequest{Token: "t", Install: true}, uiproto.PurposeInstall},
		{keystore.PINRequest{Token: "t", Login: true}, ""},
	} {
		if p := pinPrompt("https://ca.example.ru", tc.req); p.Purpose != tc.purpose || p.Login != tc.req.Login {
			t.Errorf("%+v: window purpose %q login %v", tc.req, p.Purpose, p.Login)
		}
		if q := pinQuestion("https://ca.example.ru", tc.req); q.Purpose != tc.purpose || q.Login != tc.req.Login {
			t.Errorf("%+v: page purpose %q login %v", tc.req, q.Purpose, q.Login)
		}
	}
}

// TestInstallFieldsCleaned: the certificate to install came from the
// page, so what its fields say is cleaned like the page's words: an RTL
// override or a line break in the issuer cannot forge a line of the
// window («Токен: …») or reorder what it says.
func TestInstallFieldsCleaned(t *testing.T) {
	cert := &keystore.Certificate{Identity: login.Identity{CommonName: "Иванов", SNILS: "11223344595",
		Issuer: "УЦ\nТокен: ДРУГОЙ\u202Eнекот", Email: strings.Repeat("a", 500) + "@example.ru"}}
	for _, f := range installFields(cert) {
		if strings.ContainsAny(f.Value, "\n\u202E") || len([]rune(f.Value)) > agent.MaxShownDescription {
			t.Errorf("%s shown as %q", f.Name, f.Value)
		}
	}
}
