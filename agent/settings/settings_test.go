package settings

import (
	"bufio"
	"context"
	"crypto/x509/pkix"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/podpis/podpis/agent/config"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/ui/uiproto"
)

// source is a Source over a real configuration file and certificates
// issued by testpki; it counts the revocations it was asked for.
type source struct {
	conf    *config.Config
	certs   []*keystore.Certificate
	listed  int // how many times the certificates were listed
	reports int
	revoked []string
}

func (s *source) Certificates(context.Context) ([]*keystore.Certificate, error) {
	s.listed++
	return s.certs, nil
}
func (s *source) Allowed() []string { return s.conf.Allowances() }
func (s *source) Revoke(_ context.Context, origin string) error {
	s.revoked = append(s.revoked, origin)
	return s.conf.Revoke(origin)
}
func (s *source) Report(context.Context) string {
	s.reports++
	return "podpis — диагностика\n  ✓ Вход по сертификату возможен\nотчёт " + strings.Repeat("I", s.reports)
}

func newSource(t *testing.T, allowed string, subjects ...pkix.Name) (*source, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(`{"allowedOrigins":[`+allowed+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	conf, err := config.Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	s := &source{conf: conf}
	ca := testpki.Root(t, gost3410.CurveTC26256A, "Тестовый УЦ", time.Now())
	for _, sub := range subjects {
		cert, _ := ca.Person(t, gost3410.CurveTC26256A, sub, time.Now(), nil)
		c := keystore.Examine(cert, true, time.Now())
		c.Token, c.Source, c.Algorithm = "podpis-test", "podpis GOST soft token", "GOST R 34.10-2012 256"
		s.certs = append(s.certs, c)
	}
	return s, path
}

// window plays podpis-ui over pipes: it reads snapshots and writes
// actions; the driver's serve runs until the window closes its end.
type window struct {
	snapshots *bufio.Reader
	actions   *io.PipeWriter
	done      chan error
}

func open(t *testing.T, src Source) *window {
	t.Helper()
	sr, sw := io.Pipe()
	ar, aw := io.Pipe()
	w := &window{snapshots: bufio.NewReader(sr), actions: aw, done: make(chan error, 1)}
	win := &Window{Source: src, Version: "1.2.3", LogPath: "/var/log/podpis.log"}
	go func() {
		err := win.serve(context.Background(), bufio.NewReader(ar), sw)
		sw.Close()
		ar.Close()
		w.done <- err
	}()
	t.Cleanup(func() { aw.Close() })
	return w
}

func (w *window) next(t *testing.T) *uiproto.Settings {
	t.Helper()
	s, err := uiproto.ReadSettings(w.snapshots)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return s
}

func (w *window) send(t *testing.T, a uiproto.SettingsAction) {
	t.Helper()
	if err := uiproto.WriteAction(w.actions, a); err != nil {
		t.Fatal(err)
	}
}

// TestRevoke: revoking from the window takes effect in the opener's
// configuration — on disk too — and the next snapshot shows the site
// gone; «Обновить» brings a new report.
func TestRevoke(t *testing.T) {
	src, path := newSource(t, `"https://lk.example.ru","https://b.example.ru"`, pkix.Name{CommonName: "Иванов Иван"})
	w := open(t, src)
	first := w.next(t)
	if len(first.Allowed) != 2 || len(first.Certificates) != 1 || first.Version != "1.2.3" || !strings.Contains(first.Report, "отчёт I") {
		t.Fatalf("first snapshot: %+v", first)
	}
	if c := first.Certificates[0]; c.Owner != "Иванов Иван" || string(c.DER) != string(src.certs[0].Cert.Raw) || c.Thumbprint != src.certs[0].ID {
		t.Errorf("certificate: %+v", c)
	}
	w.send(t, uiproto.SettingsAction{Action: uiproto.ActionRevoke, Origin: "https://lk.example.ru"})
	after := w.next(t)
	if len(after.Allowed) != 1 || after.Allowed[0] != "https://b.example.ru" || after.Failure != "" {
		t.Errorf("after revoke: %v %q", after.Allowed, after.Failure)
	}
	if b, _ := os.ReadFile(path); strings.Contains(string(b), "lk.example.ru") {
		t.Errorf("the file still allows the site: %s", b)
	}
	if after.Report != first.Report || src.listed != 1 || len(after.Certificates) != 1 {
		t.Errorf("a revoke re-examined: report %q, certificates listed %d times", after.Report, src.listed)
	}
	w.send(t, uiproto.SettingsAction{Action: uiproto.ActionRefresh})
	if r := w.next(t).Report; !strings.Contains(r, "отчёт II") || src.listed != 2 {
		t.Errorf("refresh gave report %q, certificates listed %d times", r, src.listed)
	}
	w.actions.Close()
	if err := <-w.done; err != nil {
		t.Errorf("serve after the window closed: %v", err)
	}
}

// TestWindowCannotAllow attacks the channel from the window's side: a
// window that sends an «allow», or revokes a site that is not allowed,
// grants nothing and revokes nothing; only a listed site is revoked.
func TestWindowCannotAllow(t *testing.T) {
	src, _ := newSource(t, `"https://lk.example.ru"`)
	w := open(t, src)
	w.next(t)
	for _, a := range []struct {
		uiproto.SettingsAction
		answered bool // unknown actions get no snapshot
	}{
		{uiproto.SettingsAction{Action: "allow", Origin: "https://evil.example"}, false},
		{uiproto.SettingsAction{Action: "Revoke", Origin: "https://lk.example.ru"}, false},
		{uiproto.SettingsAction{Action: uiproto.ActionRevoke, Origin: "https://evil.example"}, true},
		{uiproto.SettingsAction{Action: uiproto.ActionRevoke, Origin: "https://LK.example.ru"}, true},
		{uiproto.SettingsAction{Action: uiproto.ActionRefresh}, true},
	} {
		w.send(t, a.SettingsAction)
		if !a.answered {
			continue
		}
		if s := w.next(t); len(s.Allowed) != 1 || s.Allowed[0] != "https://lk.example.ru" {
			t.Errorf("after %+v: allowed %v", a.SettingsAction, s.Allowed)
		}
	}
	if len(src.revoked) != 0 {
		t.Errorf("revoked for the window: %v", src.revoked)
	}
	if src.conf.Allowed("https://evil.example") {
		t.Error("the window allowed a site")
	}
}

// TestOversizedAction: a window that writes an endless line is given up,
// not read into memory.
func TestOversizedAction(t *testing.T) {
	src, _ := newSource(t, "")
	w := open(t, src)
	w.next(t)
	go func() {
		w.actions.Write([]byte(`{"action":"revoke","origin":"` + strings.Repeat("a", uiproto.MaxActionLine*4)))
	}()
	select {
	case err := <-w.done:
		if !errors.Is(err, uiproto.ErrLineTooLong) {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve kept reading an oversized line")
	}
}

// TestHostileCertificate: names chosen by whoever issued a certificate
// — a line break that forges a «СНИЛС» line, U+202E that reverses what
// follows, five thousand characters — reach the window as one short line
// of what they really say.
func TestHostileCertificate(t *testing.T) {
	long := strings.Repeat("Щ", 5000)
	src, _ := newSource(t, "", pkix.Name{
		CommonName:   "Иванов Иван\nСНИЛС: 000-000-000 00",
		Organization: []string{"ООО \u202eьтсонсапоб\u202c"},
		ExtraNames:   []pkix.AttributeTypeAndValue{{Type: []int{1, 2, 643, 100, 3}, Value: long}},
	})
	src.certs[0].Token = "токен\r\nПровайдер: КриптоПро"
	w := open(t, src)
	c := w.next(t).Certificates[0]
	for name, v := range map[string]string{"owner": c.Owner, "organization": c.Organization, "snils": c.SNILS, "token": c.Token, "issuer": c.Issuer} {
		if strings.ContainsAny(v, "\n\r\u202e\u202c") {
			t.Errorf("%s keeps a line break or a bidi control: %q", name, v)
		}
		if n := utf8.RuneCountInString(v); n > maxField {
			t.Errorf("%s is %d characters long", name, n)
		}
	}
	if c.Owner != "Иванов Иван СНИЛС: 000-000-000 00" || !strings.HasSuffix(c.SNILS, "…") {
		t.Errorf("owner %q, SNILS %q", c.Owner, c.SNILS)
	}
}

// TestCleanReport: the report keeps its lines and indentation; a line
// break or a bidi control inside a name in it does not survive within a
// line.
func TestCleanReport(t *testing.T) {
	in := "Сертификаты:\n  Иванов \u202eвонавИ — истёк\n\nИтог:\n      Причина: нет\n"
	want := "Сертификаты:\n  Иванов вонавИ — истёк\n\nИтог:\n      Причина: нет"
	if got := cleanReport(in); got != want {
		t.Errorf("cleanReport:\n%q\nwant\n%q", got, want)
	}
}

// TestShowOnce: a second «Настройки…» while the window is open opens no
// second window; cancelling the opener closes the window.
func TestShowOnce(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "podpis-ui")
	// A window that reads its first snapshot and stays open.
	if err := os.WriteFile(prog, []byte("#!/bin/sh\nread line\necho \"$1 $LANG\" > "+dir+"/mode\nexec sleep 60\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LANG", "C")
	src, _ := newSource(t, "")
	win := &Window{Program: prog, Source: src}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- win.Show(ctx) }()
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(filepath.Join(dir, "mode")); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Started as podpis-ui settings, in a UTF-8 locale though the agent
	// runs in "C".
	if b, _ := os.ReadFile(filepath.Join(dir, "mode")); string(b) != "settings ru_RU.UTF-8\n" {
		t.Fatalf("the window program was started with %q", b)
	}
	if err := win.Show(context.Background()); !errors.Is(err, ErrOpen) {
		t.Errorf("second Show: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Show after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelling did not close the window")
	}
}

// failing is a source whose revokes fail with err.
type failing struct {
	*source
	err error
}

func (f failing) Revoke(context.Context, string) error { return f.err }

// TestRevokeFailure: a revoke that could not be made says why in the
// window, in words a person can act on, and the site stays listed.
func TestRevokeFailure(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{ErrAgentRunning, "«Настройки…»"},
		{config.ErrNotSaved, "файл настроек повреждён"},
		{errors.New("disk full"), "Подробности — в журнале podpis"},
	} {
		src, _ := newSource(t, `"https://lk.example.ru"`)
		w := open(t, failing{src, tc.err})
		w.next(t)
		w.send(t, uiproto.SettingsAction{Action: uiproto.ActionRevoke, Origin: "https://lk.example.ru"})
		s := w.next(t)
		if !strings.Contains(s.Failure, tc.want) || len(s.Allowed) != 1 {
			t.Errorf("%v: failure %q, allowed %v", tc.err, s.Failure, s.Allowed)
		}
	}
}

// TestWithLocale: the window's program gets a locale its toolkit parses,
// and a person's own locale is left alone.
func TestWithLocale(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"PATH=/bin"}, []string{"PATH=/bin", "LANG=ru_RU.UTF-8"}},
		{[]string{"LANG=C.UTF-8", "HOME=/h"}, []string{"HOME=/h", "LANG=ru_RU.UTF-8"}},
		{[]string{"LANG=en_US.UTF-8", "LC_ALL=C"}, []string{"LANG=en_US.UTF-8"}},
		{[]string{"LC_MESSAGES=POSIX", "LANG=ru_RU.UTF-8"}, []string{"LANG=ru_RU.UTF-8"}},
		{[]string{"LANG=de_DE.UTF-8@euro", "LC_ALL="}, []string{"LANG=de_DE.UTF-8@euro"}},
	} {
		if got := uiproto.Env(tc.in); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("Env(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
