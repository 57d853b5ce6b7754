package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podpis/podpis/agent/config"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/agent/settings"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/testdeps"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/ui"
	"github.com/podpis/podpis/ui/uiproto"
)

// TestMain: the tests run podpis-ui as the agent does, by re-executing
// the test binary with PODPIS_UI_MAIN set; Fyne's driver has locked the
// main goroutine to the main thread by then, as its windows need.
func TestMain(m *testing.M) {
	if os.Getenv("PODPIS_UI_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// display is the X display of the running test's windows (tests of
// this package do not run in parallel).
var display string

// xserver starts a virtual display for the test.
func xserver(t *testing.T) {
	t.Helper()
	testdeps.Need(t, "xdotool", "import", "xclip")
	display = testdeps.Xvfb(t)
}

// x runs an X tool on the display.
func x(t *testing.T, name string, args ...string) string {
	t.Helper()
	// A window that never shows (one that hangs laying out a hostile
	// name) fails the test instead of hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, stderr.Bytes())
	}
	return string(out)
}

// screen is the settings window on the display, found by its title.
type screen struct {
	t          *testing.T
	id         string
	x, y, w, h int
}

func findWindow(t *testing.T) *screen {
	t.Helper()
	// xdotool's patterns fail on the title's em dash; its end is enough.
	ids := strings.Fields(x(t, "xdotool", "search", "--sync", "--onlyvisible", "--name", "настройки$"))
	id := ids[len(ids)-1]
	if name := strings.TrimSpace(x(t, "xdotool", "getwindowname", id)); name != ui.SettingsTitle {
		t.Fatalf("window %q", name)
	}
	s := &screen{t: t, id: id}
	// Fyne lays the window out after mapping it.
	time.Sleep(1500 * time.Millisecond)
	s.geometry()
	return s
}

func (s *screen) geometry() {
	s.t.Helper()
	out := x(s.t, "xdotool", "getwindowgeometry", "--shell", s.id)
	for _, l := range strings.Fields(out) {
		k, v, _ := strings.Cut(l, "=")
		n, _ := strconv.Atoi(v)
		switch k {
		case "X":
			s.x = n
		case "Y":
			s.y = n
		case "WIDTH":
			s.w = n
		case "HEIGHT":
			s.h = n
		}
	}
}

// click clicks at a point of the window.
func (s *screen) click(px, py int) {
	s.t.Helper()
	x(s.t, "xdotool", "mousemove", strconv.Itoa(s.x+px), strconv.Itoa(s.y+py), "click", "1")
	time.Sleep(700 * time.Millisecond)
}

func (s *screen) key(keys ...string) {
	s.t.Helper()
	x(s.t, "xdotool", append([]string{"key", "--window", s.id}, keys...)...)
	time.Sleep(700 * time.Millisecond)
}

// shot saves the window for a person to look at.
func (s *screen) shot(name string) {
	s.t.Helper()
	s.shotTo(testdeps.Artifact(s.t, name))
}

func (s *screen) shotTo(path string) {
	s.t.Helper()
	x(s.t, "import", "-window", "root", "-crop", fmt.Sprintf("%dx%d+%d+%d", s.w, s.h, s.x, s.y), "+repage", path)
}

// source is the opener's side: a real configuration file and certificates
// issued by testpki, as the agent's stores give them.
type source struct {
	conf    *config.Config
	certs   []*keystore.Certificate
	report  string
	reports atomic.Int32 // how many times doctor was asked
}

func (s *source) Certificates(context.Context) ([]*keystore.Certificate, error) { return s.certs, nil }
func (s *source) Allowed() []string                                             { return s.conf.Allowances() }
func (s *source) Revoke(_ context.Context, o string) error                      { return s.conf.Revoke(o) }
func (s *source) Report(context.Context) string {
	return s.report + fmt.Sprintf("Проверка № %d\n", s.reports.Add(1))
}

// lastReport is the report as the window got it last (the opener cleans
// the trailing line break).
func (s *source) lastReport() string {
	return s.report + fmt.Sprintf("Проверка № %d", s.reports.Load())
}

var (
	oidSNILS = []int{1, 2, 643, 100, 3}
	oidINN   = []int{1, 2, 643, 3, 131, 1, 1}
	oidOGRN  = []int{1, 2, 643, 100, 1}
	oidINNLE = []int{1, 2, 643, 100, 4}
)

func newSource(t *testing.T) (*source, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(path, []byte(`{"allowedOrigins":["https://lk.example.ru","https://gosuslugi.example.ru"]}`), 0o600)
	conf, err := config.Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ca := testpki.Root(t, gost3410.CurveTC26256A, "Тестовый удостоверяющий центр", now)
	person, _ := ca.Person(t, gost3410.CurveTC26256A, pkix.Name{CommonName: "Иванов Иван Иванович",
		Organization: []string{"ООО «Ромашка»"},
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidSNILS, Value: "12345678901"}, {Type: oidINN, Value: "500100732259"},
			{Type: oidOGRN, Value: "1027700132195"}, {Type: oidINNLE, Value: "7707083893"}}}, now, nil)
	expired, _ := ca.Person(t, gost3410.CurveTC26512A, pkix.Name{CommonName: "Петрова Мария Сергеевна",
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidSNILS, Value: "98765432109"}}}, now, func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = now.AddDate(-2, 0, 0), now.AddDate(0, -1, 0)
	})
	s := &source{conf: conf, report: "podpis 1.2.3 — диагностика\nСистема: Debian GNU/Linux 12\n\nАгент: запущен, порт 24730\n\nСертификаты:\n" +
		"  Иванов Иван Иванович — GOST R 34.10-2012 256, до " + person.NotAfter.Format("02.01.2006") + " (пригоден)\n\nИтог:\n  ✓ Вход по сертификату возможен\n"}
	for _, c := range []struct {
		cert *x509.Certificate
		alg  string
	}{{person, "ГОСТ Р 34.10-2012 256 (tc26-256-a)"}, {expired, "ГОСТ Р 34.10-2012 512 (tc26-512-a)"}} {
		k := keystore.Examine(c.cert, true, now)
		k.Token, k.Source, k.Algorithm = "Рутокен ЭЦП 3.0 (podpis-test)", "podpis GOST soft token", c.alg
		s.certs = append(s.certs, k)
	}
	return s, path
}

// open starts the settings window the way the agent does (agent/settings)
// and returns when it is on the screen.
func open(t *testing.T, src settings.Source, home string) (*screen, chan error) {
	t.Helper()
	xserver(t)
	win := &settings.Window{Program: os.Args[0], Source: src, Version: "1.2.3", LogPath: "/home/ivanov/.local/state/podpis/podpis.log",
		Env:    append(os.Environ(), "PODPIS_UI_MAIN=1", "LANG=ru_RU.UTF-8", "DISPLAY="+display, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config")),
		Stderr: os.Stderr}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ended := make(chan struct{})
	go func() {
		err := win.Show(ctx)
		close(ended)
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		<-ended
	})
	return findWindow(t), done
}

// Where the window's controls are, at its 760×520 size (read off the
// screenshots).
var (
	tabCertificates   = [2]int{78, 23}
	tabSites          = [2]int{245, 23}
	tabDiagnostics    = [2]int{408, 23}
	tabAbout          = [2]int{545, 23}
	saveCertificate   = [2]int{650, 452}
	firstRevoke       = [2]int{713, 118}
	copyReport        = [2]int{85, 452}
	saveReport        = [2]int{260, 452}
	refreshReport     = [2]int{705, 452}
	secondCertificate = [2]int{130, 125}
	secondSiteRow     = image.Rect(40, 150, 600, 180)
)

func (s *screen) tap(p [2]int) { s.t.Helper(); s.click(p[0], p[1]) }

// blank reports whether r of the screenshot at path is one colour.
func blank(t *testing.T, path string, r image.Rectangle) bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	first := img.At(r.Min.X, r.Min.Y)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if img.At(x, y) != first {
				return false
			}
		}
	}
	return true
}

// TestSettingsWindow clicks through the window as a person would: a
// certificate's details, «Отозвать» (the opener's configuration forgets
// the site and the window shows the next snapshot without it),
// «Обновить» and «Скопировать отчёт» (the clipboard holds the fresh
// report), «Сохранить отчёт…», «Сохранить сертификат…» (the file is the
// certificate selected), and Esc closes it.
func TestSettingsWindow(t *testing.T) {
	src, confPath := newSource(t)
	home := t.TempDir()
	docs := filepath.Join(home, "Documents")
	os.Mkdir(docs, 0o700)
	s, done := open(t, src, home)
	if s.w != 760 || s.h != 520 {
		t.Errorf("window is %dx%d", s.w, s.h)
	}
	s.shot("window-settings-certificates.png")

	s.tap(secondCertificate)
	s.shot("window-settings-certificate-expired.png")

	s.tap(tabSites)
	s.shot("window-settings-sites.png")
	s.tap(firstRevoke)
	for i := 0; i < 50 && src.conf.Allowed("https://lk.example.ru"); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	if got := src.conf.Allowances(); len(got) != 1 || got[0] != "https://gosuslugi.example.ru" {
		t.Errorf("after «Отозвать» the opener allows %v", got)
	}
	if b, _ := os.ReadFile(confPath); strings.Contains(string(b), "lk.example.ru") {
		t.Errorf("the configuration file still allows the site: %s", b)
	}
	time.Sleep(500 * time.Millisecond)
	after := testdeps.Artifact(t, "window-settings-sites-revoked.png")
	s.shotTo(after)
	if !blank(t, after, secondSiteRow) {
		t.Error("the window still shows two sites after the revoke")
	}

	s.tap(tabDiagnostics)
	s.tap(refreshReport)
	for i := 0; i < 50 && src.reports.Load() < 2; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	if n := src.reports.Load(); n != 2 {
		t.Errorf("«Обновить» asked doctor %d times in all", n)
	}
	time.Sleep(300 * time.Millisecond)
	s.tap(copyReport)
	s.shot("window-settings-diagnostics.png")
	// The clipboard holds the fresh report: the window showed the
	// snapshot that «Обновить» brought.
	if clip := x(t, "xclip", "-o", "-selection", "clipboard", "-t", "UTF8_STRING"); clip != src.lastReport() {
		t.Errorf("clipboard holds %q", clip)
	}
	s.tap(saveReport)
	s.key("Return")
	var reports []string
	for i := 0; i < 50 && len(reports) == 0; i++ {
		reports, _ = filepath.Glob(filepath.Join(docs, "podpis-doctor-*.txt"))
		time.Sleep(100 * time.Millisecond)
	}
	if len(reports) != 1 {
		t.Errorf("«Сохранить отчёт…» saved %v", reports)
	} else {
		if b, _ := os.ReadFile(reports[0]); string(b) != src.lastReport()+"\n" {
			t.Errorf("the saved report is %q", b)
		}
		// The report names the person and their sites: other accounts
		// do not read it.
		if st, err := os.Stat(reports[0]); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("the saved report's mode: %v %v", st.Mode(), err)
		}
	}

	s.tap(tabAbout)
	s.shot("window-settings-about.png")

	// Two snapshots later the certificate chosen is still the one
	// selected, and «Сохранить сертификат…» saves that very certificate.
	s.tap(tabCertificates)
	s.tap(saveCertificate)
	s.shot("window-settings-save-certificate.png")
	s.key("Return")
	saved := filepath.Join(docs, "Петрова_Мария_Сергеевна.cer")
	var der []byte
	for i := 0; i < 50 && len(der) == 0; i++ {
		der, _ = os.ReadFile(saved)
		time.Sleep(100 * time.Millisecond)
	}
	if c, err := x509.ParseCertificate(der); err != nil || !bytes.Equal(c.Raw, src.certs[1].Cert.Raw) {
		t.Errorf("saved certificate %s: %v (%d bytes)", saved, err, len(der))
	}
	s.key("Escape")
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the window ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("Esc did not close the window")
	}
}

// TestSettingsHostileCertificate attacks the window's own layout with a
// snapshot that no cleaning went through: names of five thousand
// characters with no space, line breaks, U+202E. They stay data in their
// fields: the window keeps its size (nothing pushes it wider than the
// screen) and its other fields and buttons stay where they were.
func TestSettingsHostileCertificate(t *testing.T) {
	xserver(t)
	long := strings.Repeat("Щ", 5000)
	snap := &uiproto.Settings{Version: "1.2.3\nВерсия 9.9.9", LogPath: long, Report: long + "\n" + long,
		Failure: "\u202eьтазовто" + long,
		Allowed: []string{"https://" + strings.Repeat("a", 3000) + ".example", "https://b.example\nhttps://c.example"},
		Certificates: []uiproto.SettingsCertificate{{
			Owner: "Иванов Иван\nСНИЛС: 000-000-000 00\n" + long, Organization: "ООО \u202eакшамоР\u202c " + long,
			SNILS: long, INN: long, Issuer: long + "\r\nИздатель: Минцифры России", Token: long, Provider: long, Algorithm: long,
			Thumbprint: long, Problems: []string{long}, NotBefore: time.Now(), NotAfter: time.Now(),
		}},
	}
	s := rawWindow(t, snap)
	s.shot("window-settings-hostile.png")
	for _, tab := range [][2]int{tabSites, tabDiagnostics, tabAbout, tabCertificates} {
		s.tap(tab)
		s.geometry()
		if s.w != 760 || s.h != 520 {
			t.Fatalf("after tab %v the window is %dx%d, not 760x520", tab, s.w, s.h)
		}
	}
	s.tap(tabSites)
	s.shot("window-settings-hostile-sites.png")
}

// rawWindow shows snap in podpis-ui directly, with no opener (and none of
// its cleaning) in between; the window closes at the test's end, when its
// stdin does.
func rawWindow(t *testing.T, snap *uiproto.Settings) *screen {
	t.Helper()
	xserver(t)
	cmd := exec.Command(os.Args[0], "settings")
	cmd.Env = append(os.Environ(), "PODPIS_UI_MAIN=1", "LANG=ru_RU.UTF-8", "DISPLAY="+display, "HOME="+t.TempDir())
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		cmd.Wait()
	})
	if err := uiproto.WriteSettings(in, snap); err != nil {
		t.Fatal(err)
	}
	return findWindow(t)
}

// TestSettingsEmpty: with no token and no site allowed, each tab says so
// and what to do, rather than showing an empty list.
func TestSettingsEmpty(t *testing.T) {
	s := rawWindow(t, &uiproto.Settings{Version: "1.2.3", Report: "podpis 1.2.3 — диагностика\n\nСертификаты:\n  не найдены"})
	s.shot("window-settings-empty.png")
	s.tap(tabSites)
	s.shot("window-settings-empty-sites.png")
	// Nothing to save: «Сохранить сертификат…» is not there to press.
	s.tap(tabCertificates)
	s.tap(saveCertificate)
	after := testdeps.Artifact(t, "window-settings-empty-after-click.png")
	s.shotTo(after)
	if !blank(t, after, image.Rect(300, 400, 740, 470)) {
		t.Error("a button or a dialog is drawn where «Сохранить сертификат…» would be")
	}
}
