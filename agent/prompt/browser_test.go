package prompt

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/internal/testdeps"
	"github.com/podpis/podpis/internal/testwait"
)

var (
	forwardRE = regexp.MustCompile(`url=([^"]+)"`)
	csrfRE    = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)
)

// opened waits for the opener to have run and returns the file it got.
func opened(t *testing.T, argv string) string {
	t.Helper()
	var b []byte
	testwait.Until(t, "the opener has run", func() bool {
		var err error
		b, err = os.ReadFile(argv)
		return err == nil && strings.HasSuffix(string(b), "\n")
	})
	return strings.TrimSpace(string(b))
}

type page struct {
	b      *Browser
	url    string
	cookie *http.Cookie
	csrf   string
}

func (p *page) get(t *testing.T) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	p.b.ServeHTTP(w, httptest.NewRequest("GET", p.url, nil))
	p.cookie = nil
	for _, c := range w.Result().Cookies() {
		if c.Name == cookieName {
			p.cookie = c
		}
	}
	if m := csrfRE.FindStringSubmatch(w.Body.String()); m != nil {
		p.csrf = m[1]
	}
	return w
}

// post sends form as the page would, with the cookie if withCookie.
func (p *page) post(origin string, form url.Values, withCookie bool) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", p.url, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", origin)
	if withCookie && p.cookie != nil {
		r.AddCookie(p.cookie)
	}
	w := httptest.NewRecorder()
	p.b.ServeHTTP(w, r)
	return w
}

// TestBrowserPage attacks the page prompter as another account on the
// machine would: it sees argv and stdout, not the person's files. The
// address of the question appears in neither; the forwarding file is the
// person's alone; an answer posted by a non-browser with the right Origin
// but without the page's cookie and token is refused; an approval posted
// as soon as the page loads is not taken; the file is gone afterwards.
func TestBrowserPage(t *testing.T) {
	dir := t.TempDir()
	argv := filepath.Join(dir, "argv")
	opener := filepath.Join(dir, "open.sh")
	os.WriteFile(opener, []byte("#!/bin/sh\necho \"$@\" > '"+argv+"'\n"), 0o755)
	t.Setenv("PODPIS_BROWSER", opener)
	const base = "https://127.0.0.1:24730"
	b := &Browser{BaseURL: base, Dir: filepath.Join(dir, "run", "podpis"), Settle: 300 * time.Millisecond}
	decision := make(chan agent.Decision, 1)
	go func() {
		d, err := b.ConfirmOrigin(context.Background(), "https://new.example")
		if err != nil {
			t.Error(err)
		}
		decision <- d
	}()
	path := opened(t, argv)
	b.mu.Lock()
	var id string
	for k := range b.pending {
		id = k
	}
	b.mu.Unlock()
	if id == "" || strings.Contains(path, id) || strings.Contains(path, "/prompt/") {
		t.Fatalf("the opener's argv %q gives the question away (id %s)", path, id)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("forwarding page: %v %v", fi.Mode(), err)
	}
	if di, _ := os.Stat(filepath.Dir(path)); di.Mode().Perm() != 0o700 {
		t.Fatalf("its folder is %v", di.Mode())
	}
	if os.Getuid() == 0 {
		// Another account cannot read it.
		cat := exec.Command("cat", path)
		cat.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		if out, err := cat.CombinedOutput(); err == nil || strings.Contains(string(out), id) {
			t.Fatalf("another account read the forwarding page: %s", out)
		}
	}
	content, _ := os.ReadFile(path)
	m := forwardRE.FindStringSubmatch(string(content))
	if m == nil || html.UnescapeString(m[1]) != base+"/prompt/"+id {
		t.Fatalf("the forwarding page does not lead to the question: %s", content)
	}
	p := &page{b: b, url: html.UnescapeString(m[1])}
	always := func(csrf string) url.Values { return url.Values{"choice": {"always"}, "csrf": {csrf}} }

	// Someone who learned the address (not from argv: that is the point)
	// and posts with the agent's Origin, as any non-browser can.
	if w := p.post(base, always(""), false); w.Code != http.StatusForbidden {
		t.Fatalf("an answer without loading the page: %d", w.Code)
	}
	w := p.get(t)
	if w.Code != 200 || p.cookie == nil || p.csrf == "" {
		t.Fatalf("the page: %d, cookie %v, token %q", w.Code, p.cookie, p.csrf)
	}
	c := p.cookie
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/prompt/"+id || c.Value != p.csrf {
		t.Fatalf("the page's cookie: %+v", c)
	}
	if strings.Contains(w.Body.String(), "autofocus") {
		t.Fatal("the page focuses something: a stray Return would press it")
	}
	for name, w := range map[string]*httptest.ResponseRecorder{
		"the token without the cookie": p.post(base, always(p.csrf), false),
		"the cookie without the token": p.post(base, always(""), true),
		"a wrong token":                p.post(base, always(strings.Repeat("0", 32)), true),
		"another site's page":          p.post("https://evil.example", always(p.csrf), true),
	} {
		if w.Code != http.StatusForbidden {
			t.Errorf("%s: %d", name, w.Code)
		}
	}
	// At once after loading: the page comes back, nothing is decided.
	if w := p.post(base, always(p.csrf), true); w.Code != 200 || !csrfRE.MatchString(w.Body.String()) {
		t.Fatalf("an approval at once: %d %s", w.Code, w.Body)
	}
	select {
	case d := <-decision:
		t.Fatalf("an approval posted as the page loaded was taken: %v", d)
	case <-time.After(50 * time.Millisecond):
	}
	p.get(t)
	time.Sleep(350 * time.Millisecond)
	if w := p.post(base, always(p.csrf), true); w.Code != 200 || !strings.Contains(w.Body.String(), "Готово") {
		t.Fatalf("the person's answer: %d %s", w.Code, w.Body)
	}
	if d := <-decision; d != agent.AllowAlways {
		t.Fatalf("decision %v", d)
	}
	if w := p.post(base, always(p.csrf), true); w.Code != http.StatusNotFound {
		t.Fatalf("a replayed answer: %d", w.Code)
	}
	testwait.Until(t, "the forwarding page removed after the question", func() bool {
		_, err := os.Stat(path)
		return errors.Is(err, os.ErrNotExist)
	})
}

// TestBrowserPIN: the PIN arrives as bytes, percent-decoded; the page says
// what it is for and shows the site's words last; a refusal is taken at
// once; when nothing can be opened the person is told the file, not the
// address.
func TestBrowserPIN(t *testing.T) {
	dir := t.TempDir()
	told := make(chan string, 1)
	b := &Browser{BaseURL: "https://127.0.0.1:24730", Dir: dir, Settle: 200 * time.Millisecond,
		Open: func(string) error { return errors.New("no browser") }, Tell: func(p string) { told <- p }}
	type result struct {
		pin  []byte
		save bool
		err  error
	}
	res := make(chan result, 1)
	req := keystore.PINRequest{Token: "Rutoken", Certificate: testCert(),
		Document: &keystore.Summary{Description: "Договор\n<b>Размер: 1 байт</b>\u202Efdp.exe", Size: 1234, Streebog: "abcd"}}
	ask := func() {
		go func() {
			pin, save, err := b.PIN(context.Background(), "https://lk.example.ru", req)
			res <- result{pin, save, err}
		}()
	}
	// question waits for the prompter to tell the person a file, and
	// returns the page of the question.
	question := func() *page {
		path := <-told
		content, _ := os.ReadFile(path)
		m := forwardRE.FindStringSubmatch(string(content))
		if m == nil {
			t.Fatalf("told %q, which holds %q", path, content)
		}
		u := html.UnescapeString(m[1])
		if strings.Contains(path, strings.TrimPrefix(u, b.BaseURL+"/prompt/")) {
			t.Fatalf("told %q: the question's address", path)
		}
		return &page{b: b, url: u}
	}
	ask()
	p := question()
	body := p.get(t).Body.String()
	for _, want := range []string{"подпись документа", "1234 байт", "abcd", "Иванов &lt;Иван&gt;",
		"Описание со слов сайта</dt><dd class=\"words\">«Договор &lt;b&gt;Размер: 1 байт&lt;/b&gt;fdp.exe»</dd></dl>"} {
		if !strings.Contains(body, want) {
			t.Errorf("the PIN page lacks %q:\n%s", want, body)
		}
	}
	time.Sleep(250 * time.Millisecond)
	if w := p.post(b.BaseURL, url.Values{"choice": {"sign"}, "csrf": {p.csrf}, "pin": {"12 3%"}, "save": {"on"}}, true); w.Code != 200 {
		t.Fatalf("answer: %d %s", w.Code, w.Body)
	}
	if r := <-res; r.err != nil || string(r.pin) != "12 3%" || !r.save {
		t.Fatalf("PIN %q save %v: %v", r.pin, r.save, r.err)
	}
	ask()
	p = question()
	p.get(t)
	if w := p.post(b.BaseURL, url.Values{"choice": {"cancel"}, "csrf": {p.csrf}}, true); w.Code != 200 {
		t.Fatalf("cancel: %d", w.Code)
	}
	if r := <-res; !errors.Is(r.err, keystore.ErrCancelled) {
		t.Fatalf("cancel at once: %v", r.err)
	}
}

func TestUnescapeInPlace(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"a+b%20c", "a b c", true}, {"%D0%9F", "П", true}, {"%zz", "", false}, {"%2", "", false}, {"", "", true},
	} {
		got, ok := unescapeInPlace([]byte(tc.in))
		if ok != tc.ok || ok && string(got) != tc.want {
			t.Errorf("unescapeInPlace(%q) = %q %v", tc.in, got, ok)
		}
	}
}

// TestBrowserPromptDirPlanted: the folder of the forwarding pages is
// somewhere another account may have been first (XDG_RUNTIME_DIR can be a
// shared folder): a symlink there, or a folder of theirs, is refused before
// anything is written or opened — and before the agent changes the mode of
// whatever the symlink points at (one of the person's folders, narrowed to
// 0700 on a page's request), or of the other account's folder.
func TestBrowserPromptDirPlanted(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plant func(t *testing.T, d string) (target string)
	}{
		{"symlink to the person's folder", func(t *testing.T, d string) string {
			target := filepath.Join(t.TempDir(), "public")
			if err := os.Mkdir(target, 0o755); err != nil {
				t.Fatal(err)
			}
			os.Chmod(target, 0o755)
			if err := os.Symlink(target, d); err != nil {
				t.Fatal(err)
			}
			return target
		}},
		{"another account's folder", func(t *testing.T, d string) string {
			uid, gid := testdeps.OtherAccount(t)
			if err := os.Mkdir(d, 0o777); err != nil {
				t.Fatal(err)
			}
			os.Chmod(d, 0o777)
			if err := os.Chown(d, int(uid), int(gid)); err != nil {
				t.Fatal(err)
			}
			return d
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			shared := t.TempDir()
			os.Chmod(shared, 0o777|os.ModeSticky)
			d := filepath.Join(shared, "podpis")
			target := tc.plant(t, d)
			before, err := os.Stat(target)
			if err != nil {
				t.Fatal(err)
			}
			opens := 0
			b := &Browser{BaseURL: "https://127.0.0.1:24730", Dir: d, Open: func(string) error { opens++; return nil }}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if _, err := b.ConfirmOrigin(ctx, "https://new.example"); !errors.Is(err, ErrNoDialog) {
				t.Errorf("ConfirmOrigin through a planted folder: %v, want ErrNoDialog", err)
			}
			if opens != 0 {
				t.Errorf("a forwarding page was opened from a planted folder")
			}
			after, err := os.Stat(target)
			if err != nil {
				t.Fatal(err)
			}
			if after.Mode() != before.Mode() {
				t.Errorf("%s went from %v to %v", target, before.Mode(), after.Mode())
			}
			if entries, _ := os.ReadDir(target); len(entries) != 0 {
				t.Errorf("files written there: %v", entries)
			}
		})
	}
}

// TestBrowserPINWrongThenRight: on the PIN page a wrong PIN is said on
// the page — with the token's new count, never «Готово» — and the person
// types again on the same question; each post is one try; the right PIN
// ends it with «Готово»; a token that locks says so instead.
func TestBrowserPINWrongThenRight(t *testing.T) {
	told := make(chan string, 1)
	b := &Browser{BaseURL: "https://127.0.0.1:24730", Dir: t.TempDir(), Settle: 100 * time.Millisecond,
		Open: func(string) error { return errors.New("no browser") }, Tell: func(p string) { told <- p }}
	var tried []string
	run := func(answers ...error) (*page, chan error) {
		tried = nil
		done := make(chan error, 1)
		go func() {
			done <- b.TryPIN(context.Background(), "https://lk.example.ru", keystore.PINRequest{Token: "Rutoken", Certificate: testCert(), Login: true},
				func(pin []byte, save bool) (keystore.PINRequest, error) {
					tried = append(tried, string(pin))
					err := answers[0]
					answers = answers[1:]
					return keystore.PINRequest{TriesLeft: 2, TriesLow: true}, err
				})
		}()
		content, _ := os.ReadFile(<-told)
		m := forwardRE.FindStringSubmatch(string(content))
		if m == nil {
			t.Fatalf("no question: %q", content)
		}
		return &page{b: b, url: html.UnescapeString(m[1])}, done
	}
	send := func(p *page, pin string) string {
		t.Helper()
		if p.csrf == "" {
			p.get(t)
		}
		time.Sleep(150 * time.Millisecond)
		w := p.post(b.BaseURL, url.Values{"choice": {"sign"}, "csrf": {p.csrf}, "pin": {pin}}, true)
		if w.Code != 200 {
			t.Fatalf("posting a PIN: %d %s", w.Code, w.Body)
		}
		// The page shown again carries a fresh token and cookie.
		for _, c := range w.Result().Cookies() {
			if c.Name == cookieName {
				p.cookie = c
			}
		}
		if m := csrfRE.FindStringSubmatch(w.Body.String()); m != nil {
			p.csrf = m[1]
		}
		return w.Body.String()
	}

	p, done := run(keystore.ErrPINIncorrect, nil)
	body := send(p, "0000")
	if strings.Contains(body, "Готово") || !strings.Contains(body, "Неверный PIN-код") || !strings.Contains(body, "Осталось попыток: 2") {
		t.Fatalf("the page after a wrong PIN:\n%s", body)
	}
	if body := send(p, "1234"); !strings.Contains(body, "Готово") {
		t.Fatalf("the page after the right PIN:\n%s", body)
	}
	if err := <-done; err != nil || fmt.Sprint(tried) != "[0000 1234]" {
		t.Fatalf("TryPIN: %v, PINs tried %q", err, tried)
	}

	p, done = run(keystore.ErrPINLocked)
	if body := send(p, "0000"); strings.Contains(body, "Готово") || !strings.Contains(body, "Токен заблокирован") {
		t.Fatalf("the page after the token locked:\n%s", body)
	}
	if err := <-done; !errors.Is(err, keystore.ErrPINLocked) {
		t.Fatalf("TryPIN on a lock: %v", err)
	}
}
