package prompt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/internal/testdeps"
	"github.com/podpis/podpis/login"
	"github.com/podpis/podpis/ui/uiproto"
)

// uiBin is podpis-ui, built once for the test binary by TestMain.
var uiBin, uiBuildErr = "", error(nil)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "podpis-ui-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	uiBin = filepath.Join(dir, "podpis-ui")
	if out, err := exec.Command("go", "build", "-o", uiBin, "github.com/podpis/podpis/cmd/podpis-ui").CombinedOutput(); err != nil {
		uiBuildErr = fmt.Errorf("building podpis-ui: %v\n%s", err, out)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		return m.Run()
	}()
	os.Exit(code)
}

func testCert() *keystore.Certificate {
	return &keystore.Certificate{Identity: login.Identity{CommonName: "Иванов <Иван>"}}
}

// ownerCert is the certificate the windows' screenshots show.
func ownerCert() *keystore.Certificate {
	return &keystore.Certificate{Identity: login.Identity{CommonName: "Иванов Иван Иванович"}}
}

// display is a virtual X display with podpis-ui's windows on it.
type display struct {
	t    *testing.T
	name string
	// failed holds the first window that could not be shown, and why.
	failed chan error
}

// xvfb starts a virtual display for the test.
func xvfb(t *testing.T) *display {
	t.Helper()
	if uiBuildErr != nil {
		t.Fatal(uiBuildErr)
	}
	testdeps.Need(t, "xdotool", "import")
	return &display{t: t, name: testdeps.Xvfb(t), failed: make(chan error, 1)}
}

// window is the prompter drawing on d, with a settle time tests can
// outwait.
func (d *display) window(settle time.Duration) *Window {
	return &Window{Path: uiBin, Env: []string{"DISPLAY=" + d.name}, Settle: settle, failed: func(err error) {
		select {
		case d.failed <- err:
		default:
		}
	}}
}

func (d *display) run(args ...string) (string, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "DISPLAY="+d.name)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// find waits for the window titled title and returns its id. A minute:
// the first frame of a software-GL window on a loaded machine is slow.
func (d *display) find(title string) string {
	d.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-d.failed:
			d.t.Fatalf("no window %q on %s: %v", title, d.name, err)
		default:
		}
		// xdotool's --name matches WM_NAME, in which X's compound text
		// has lost the em dash: the full title is compared here.
		out, _ := d.run("xdotool", "search", "--onlyvisible", "--name", "^podpis")
		for _, id := range strings.Fields(out) {
			if name, err := d.run("xdotool", "getwindowname", id); err == nil && name == title {
				return id
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !testdeps.XReady(d.name, 0) {
		d.t.Fatalf("no window %q: the display %s is gone", title, d.name)
	}
	all, _ := d.run("xdotool", "search", "--name", ".")
	d.t.Fatalf("no window %q on %s (windows there: %s)", title, d.name, all)
	return ""
}

// keys focuses the window and sends xdotool's key or type commands.
func (d *display) keys(win string, actions ...[]string) {
	d.t.Helper()
	if out, err := d.run("xdotool", "windowfocus", "--sync", win); err != nil {
		d.t.Errorf("focus: %v: %s", err, out)
	}
	for _, a := range actions {
		args := append([]string{"xdotool"}, a...)
		if a[0] == "type" {
			args = append([]string{"xdotool", "type", "--delay", "40"}, a[1:]...)
		}
		if out, err := d.run(args...); err != nil {
			d.t.Errorf("%v: %v: %s", a, err, out)
		}
	}
}

// click clicks in the window dx, dy from its bottom right corner: the
// buttons are pinned there, whatever the window says above them.
func (d *display) click(win string, dx, dy int) {
	d.t.Helper()
	var w, h int
	fmt.Sscanf(d.size(win), "%dx%d", &w, &h)
	if out, err := d.run("xdotool", "mousemove", "--window", win, "--sync", fmt.Sprint(w-dx), fmt.Sprint(h-dy), "click", "1"); err != nil {
		d.t.Errorf("click: %v: %s", err, out)
	}
}

// yesNo asks question, a yes/no window titled title, in the background,
// lets act work on its window, and returns the person's answer.
func (d *display) yesNo(title string, question func(w *Window) (bool, error), act func(win string)) bool {
	d.t.Helper()
	type answer struct {
		ok  bool
		err error
	}
	done := make(chan answer, 1)
	go func() {
		ok, err := question(d.window(settle))
		done <- answer{ok, err}
	}()
	act(d.find(title))
	a := within(d.t, done, title)
	if a.err != nil {
		d.t.Error(a.err)
	}
	return a.ok
}

// within waits for a result from ch.
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: no answer in 30 s", what)
	}
	var zero T
	return zero
}

// shot saves the window as a test artifact, for a person to look at.
func (d *display) shot(win, name string) {
	d.t.Helper()
	time.Sleep(300 * time.Millisecond) // the last frame drawn
	if out, err := d.run("import", "-window", win, testdeps.Artifact(d.t, name)); err != nil {
		d.t.Errorf("screenshot %s: %v: %s", name, err, out)
	}
}

// size is the window's size as X has it.
func (d *display) size(win string) string {
	d.t.Helper()
	out, err := d.run("xdotool", "getwindowgeometry", win)
	if err != nil {
		d.t.Fatalf("geometry: %v: %s", err, out)
	}
	for _, l := range strings.Split(out, "\n") {
		if g, ok := strings.CutPrefix(strings.TrimSpace(l), "Geometry: "); ok {
			return g
		}
	}
	return out
}

// settle is the windows' settle time in the tests, and read how long the
// test's person looks at a window before acting: longer, so that a
// loaded machine does not push their keys into the first moment.
const (
	settle = time.Second
	read   = 1500 * time.Millisecond
)

// Where the buttons are, from the bottom right corner of the windows
// (read off the screenshots).
const (
	okX, okY                   = 103, 27
	consentOnceX, consentOnceY = 168, 27
	signX, signY               = 132, 27
)

// tries records the PINs a window hands over and answers from a script.
type tries struct {
	mu      sync.Mutex
	pins    []string
	answers []error
	next    keystore.PINRequest
	called  chan struct{}
}

func newTries(next keystore.PINRequest, answers ...error) *tries {
	return &tries{answers: answers, next: next, called: make(chan struct{}, 10)}
}

func (tr *tries) try(pin []byte, save bool) (keystore.PINRequest, error) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.pins = append(tr.pins, fmt.Sprintf("%s save=%v", pin, save))
	var err error
	if len(tr.answers) > 0 {
		err, tr.answers = tr.answers[0], tr.answers[1:]
	}
	tr.called <- struct{}{}
	return tr.next, err
}

func (tr *tries) wait(t *testing.T) {
	t.Helper()
	select {
	case <-tr.called:
	case <-time.After(30 * time.Second):
		t.Fatal("the window handed no PIN over")
	}
}

// TestWindowPIN: the PIN window for a login to an IDN site; a wrong PIN
// is said in the same window with the token's new count, and the person
// types again: each press of Return or OK is one PIN handed over, and the
// window closes once one is taken.
func TestWindowPIN(t *testing.T) {
	d := xvfb(t)
	tr := newTries(keystore.PINRequest{TriesLeft: 2, TriesLow: true}, keystore.ErrPINIncorrect, nil)
	done := make(chan error, 1)
	go func() {
		done <- d.window(settle).TryPIN(context.Background(), "https://xn--e1afmkfd.xn--p1ai",
			keystore.PINRequest{Token: "Rutoken ECP 2.0 (3a5f8c21)", Certificate: ownerCert(), TriesLeft: 3, Login: true}, tr.try)
	}()
	win := d.find(uiproto.TitlePIN)
	time.Sleep(read)
	d.shot(win, "window-pin-01-fresh.png")
	d.keys(win, []string{"type", "0000"}, []string{"key", "Return"})
	tr.wait(t)
	d.shot(win, "window-pin-02-wrong.png")
	d.keys(win, []string{"type", "1234"}, []string{"key", "Return"})
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the window did not close on the right PIN")
	}
	if want := []string{"0000 save=false", "1234 save=false"}; fmt.Sprint(tr.pins) != fmt.Sprint(want) {
		t.Fatalf("PINs handed over: %q, want %q", tr.pins, want)
	}
}

// TestWindowPINContainer: a CSP container's password window (title and
// «Имя контейнера»), «Сохранить пароль» ticked with the mouse and OK
// clicked; then Esc on the final try cancels.
func TestWindowPINContainer(t *testing.T) {
	d := xvfb(t)
	tr := newTries(keystore.PINRequest{}, nil)
	done := make(chan error, 1)
	go func() {
		done <- d.window(settle).TryPIN(context.Background(), "https://lk.example.ru",
			keystore.PINRequest{Token: "eea1c548-7f1e-4b9a-9d1c-4c0a2a1b6e33", Container: true, Certificate: ownerCert(), TriesLeft: 3,
				Document: &keystore.Summary{Size: 48213, Streebog: strings.Repeat("3fa9", 16)}}, tr.try)
	}()
	win := d.find(uiproto.TitleContainer)
	time.Sleep(read)
	// Tab from the field to «Сохранить пароль», Space ticks it.
	d.keys(win, []string{"type", "secret"}, []string{"key", "Tab"}, []string{"key", "space"})
	d.shot(win, "window-pin-03-container.png")
	d.click(win, okX, okY)
	if err := within(t, done, "OK clicked"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"secret save=true"}; fmt.Sprint(tr.pins) != fmt.Sprint(want) {
		t.Fatalf("PINs handed over: %q, want %q", tr.pins, want)
	}

	go func() {
		done <- d.window(settle).TryPIN(context.Background(), "https://lk.example.ru",
			keystore.PINRequest{Token: "Rutoken ECP 2.0", Certificate: ownerCert(), TriesLow: true, FinalTry: true, TriesLeft: 1, Login: true}, tr.try)
	}()
	win = d.find(uiproto.TitlePIN)
	time.Sleep(read)
	d.shot(win, "window-pin-04-final-try.png")
	d.keys(win, []string{"key", "Escape"})
	if err := within(t, done, "Esc"); !errors.Is(err, keystore.ErrCancelled) {
		t.Fatalf("Esc: %v, want USER_CANCELLED", err)
	}
}

// TestWindowPINSettle: keys that reach the PIN window in its first moment
// (the person was typing elsewhere when it appeared) are dropped: neither
// their characters nor their Return make a PIN.
func TestWindowPINSettle(t *testing.T) {
	d := xvfb(t)
	tr := newTries(keystore.PINRequest{}, nil)
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		done <- d.window(3*time.Second).TryPIN(context.Background(), "https://lk.example.ru",
			keystore.PINRequest{Token: "Rutoken", Certificate: ownerCert(), Login: true}, tr.try)
	}()
	win := d.find(uiproto.TitlePIN)
	d.keys(win, []string{"type", "9999"}, []string{"key", "Return"})
	if time.Since(start) > 2500*time.Millisecond {
		t.Skipf("the window came up %v after its start: its first moment was over", time.Since(start))
	}
	time.Sleep(3*time.Second + 500*time.Millisecond)
	select {
	case <-tr.called:
		t.Fatalf("a PIN typed in the first moment was handed over: %q", tr.pins)
	default:
	}
	d.keys(win, []string{"type", "1234"}, []string{"key", "Return"})
	if err := within(t, done, "the PIN after the first moment"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"1234 save=false"}; fmt.Sprint(tr.pins) != fmt.Sprint(want) {
		t.Fatalf("PINs handed over: %q, want %q (the early keys must not be in it)", tr.pins, want)
	}
}

// TestWindowConsent: the consent window shows an IDN site in Unicode and
// punycode. Return — on a fresh window or later — and Esc deny; «Только
// сейчас» clicked allows once; the approving buttons do nothing in the
// window's first moment.
func TestWindowConsent(t *testing.T) {
	d := xvfb(t)
	const site = "https://xn--e1afmkfd.xn--p1ai"
	ask := func(settle time.Duration, act func(win string)) agent.Decision {
		t.Helper()
		type result struct {
			d   agent.Decision
			err error
		}
		done := make(chan result, 1)
		go func() {
			dec, err := d.window(settle).ConfirmOrigin(context.Background(), site)
			done <- result{dec, err}
		}()
		act(d.find(uiproto.TitleConsent))
		select {
		case r := <-done:
			if r.err != nil {
				t.Fatal(r.err)
			}
			return r.d
		case <-time.After(30 * time.Second):
			t.Fatal("the consent window did not answer")
		}
		return 0
	}
	if dec := ask(settle, func(win string) {
		time.Sleep(read)
		d.shot(win, "window-consent-01-idn.png")
		d.keys(win, []string{"key", "Return"})
	}); dec != agent.Deny {
		t.Errorf("Return on the consent window: %v, want Deny", dec)
	}
	if dec := ask(3*time.Second, func(win string) {
		d.click(win, consentOnceX, consentOnceY) // in the first moment: nothing
		d.keys(win, []string{"key", "Return"})
	}); dec != agent.Deny {
		t.Errorf("a click on «Только сейчас» then Return in the first moment: %v, want Deny", dec)
	}
	if dec := ask(settle, func(win string) {
		time.Sleep(read)
		d.keys(win, []string{"key", "Escape"})
	}); dec != agent.Deny {
		t.Errorf("Esc: %v, want Deny", dec)
	}
	if dec := ask(settle, func(win string) {
		time.Sleep(read)
		d.click(win, consentOnceX, consentOnceY)
	}); dec != agent.AllowOnce {
		t.Errorf("«Только сейчас»: %v, want AllowOnce", dec)
	}
}

// TestWindowDocument: the document window; Return is Отмена, the button
// «Подписать» approves.
func TestWindowDocument(t *testing.T) {
	d := xvfb(t)
	what := agent.SignSummary{Description: "Договор поставки № 17/2026 от 12 ноября 2026 г., приложение 2 (спецификация)",
		Size: 1536000, Streebog: "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500"}
	ask := func(act func(win string)) bool {
		return d.yesNo(uiproto.TitleDocument, func(w *Window) (bool, error) {
			return w.ConfirmSign(context.Background(), "https://lk.example.ru", ownerCert(), what)
		}, act)
	}
	if ask(func(win string) {
		time.Sleep(read)
		d.shot(win, "window-document-01.png")
		d.keys(win, []string{"key", "Return"})
	}) {
		t.Error("Return signed the document; Отмена is the default")
	}
	if !ask(func(win string) {
		time.Sleep(read)
		d.click(win, signX, signY)
	}) {
		t.Error("«Подписать» did not approve")
	}
}

// TestWindowHostileDescription: what a page writes is fed to podpis-ui
// as it is, without the agent's cleaning — line breaks, an RTL override,
// 10 000 characters, lines that imitate podpis's own and its buttons. It
// stays inside its box: the window keeps its size, and «Подписать» is
// where it always is.
func TestWindowHostileDescription(t *testing.T) {
	d := xvfb(t)
	imitation := "Вход\n\n\n\nРазмер: 1 байт\n[ Разрешить всегда ]   [ Подписать ]\n\u202Efdp.exe\n"
	hostile := imitation + strings.Repeat("Ы", 10000)
	cmd := exec.Command(uiBin, uiproto.KindDocument)
	cmd.Env = append(os.Environ(), "DISPLAY="+d.name)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	uiproto.Write(stdin, uiproto.Prompt{Origin: "https://lk.example.ru\n" + strings.Repeat("x", 5000), Owner: imitation + strings.Repeat("Ж", 300),
		Document: &uiproto.Document{Description: hostile, Name: imitation + strings.Repeat("Щ", 300), Size: 10, Streebog: strings.Repeat("ab", 32)}, SettleMillis: 1000})
	win := d.find(uiproto.TitleDocument)
	time.Sleep(read)
	d.shot(win, "window-document-02-hostile.png")
	if got := d.size(win); got != "560x560" {
		t.Errorf("the window is %s, want 560x560", got)
	}
	d.click(win, signX, signY)
	answered := make(chan uiproto.Answer, 1)
	go func() {
		var a uiproto.Answer
		uiproto.NewReader(stdout).Read(&a)
		answered <- a
	}()
	if a := within(t, answered, "«Подписать» under a hostile description"); !a.Approve {
		t.Fatalf("«Подписать» at its place: %+v", a)
	}
}

// TestOriginForms: an IDN site is shown as the browser shows it, with its
// punycode form beside; an ASCII one as it is.
func TestOriginForms(t *testing.T) {
	for _, c := range []struct{ in, shown, ascii string }{
		{"https://xn--e1afmkfd.xn--p1ai", "https://пример.рф", "https://xn--e1afmkfd.xn--p1ai"},
		{"https://xn--e1afmkfd.xn--p1ai:8443", "https://пример.рф:8443", "https://xn--e1afmkfd.xn--p1ai:8443"},
		{"https://lk.example.ru", "https://lk.example.ru", ""},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", ""},
		// Latin look-alikes in Cyrillic: the punycode gives them away.
		{"https://xn--80ak6aa92e.com", "https://аррӏе.com", "https://xn--80ak6aa92e.com"},
	} {
		shown, ascii := origin(c.in)
		if shown != c.shown || ascii != c.ascii {
			t.Errorf("origin(%q) = %q, %q; want %q, %q", c.in, shown, ascii, c.shown, c.ascii)
		}
	}
}

// TestWindowCancelled: a request that is cancelled (the page went away,
// the agent stops) takes its window off the screen at once: no PIN
// window is left asking for a signature nobody waits for.
func TestWindowCancelled(t *testing.T) {
	d := xvfb(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- d.window(settle).TryPIN(ctx, "https://lk.example.ru", keystore.PINRequest{Token: "Rutoken", Certificate: ownerCert(), Login: true},
			func([]byte, bool) (keystore.PINRequest, error) {
				t.Error("a PIN was tried")
				return keystore.PINRequest{}, nil
			})
	}()
	d.find(uiproto.TitlePIN)
	cancel()
	if err := within(t, done, "the cancelled request"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	time.Sleep(500 * time.Millisecond)
	if out, _ := d.run("xdotool", "search", "--onlyvisible", "--name", "^podpis"); out != "" {
		t.Fatalf("a window is still up after the request was cancelled: %s", out)
	}
}

// TestNativeAvailable: the windows are used where podpis-ui is installed
// and there is a display; elsewhere the agent asks through its page.
func TestNativeAvailable(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows always has a display")
	}
	bin := t.TempDir()
	for _, c := range []struct {
		ui               bool
		display, wayland string
		want             bool
	}{
		{true, ":0", "", true},
		{true, "", "wayland-0", false}, // no XWayland
		{true, "", "", false},
		{false, ":0", "", false},
	} {
		os.Remove(filepath.Join(bin, "podpis-ui"))
		if c.ui {
			os.WriteFile(filepath.Join(bin, "podpis-ui"), []byte("#!/bin/sh\n"), 0o755)
		}
		t.Setenv("PATH", bin)
		t.Setenv("DISPLAY", c.display)
		t.Setenv("WAYLAND_DISPLAY", c.wayland)
		if got := NativeAvailable(); got != c.want {
			t.Errorf("podpis-ui %v, DISPLAY %q, WAYLAND_DISPLAY %q: %v, want %v", c.ui, c.display, c.wayland, got, c.want)
		}
	}
}

// TestWindowAgentGone: when the agent goes away (its end of podpis-ui's
// stdin closes: a crash, a kill), each window refuses and closes rather
// than wait on the screen for an answer nobody reads.
func TestWindowAgentGone(t *testing.T) {
	d := xvfb(t)
	for kind, title := range map[string]string{uiproto.KindPIN: uiproto.TitlePIN, uiproto.KindConsent: uiproto.TitleConsent, uiproto.KindDocument: uiproto.TitleDocument} {
		cmd := exec.Command(uiBin, kind)
		cmd.Env = uiproto.Env(append(os.Environ(), "DISPLAY="+d.name))
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		stdin, _ := cmd.StdinPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		uiproto.Write(stdin, uiproto.Prompt{Origin: "https://lk.example.ru", Login: true, Document: &uiproto.Document{Size: 1, Streebog: "ab"}})
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("podpis-ui %s said: %s", kind, errOut.Bytes())
			}
		})
		d.find(title)
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Errorf("the %s window stayed up after the agent went away", kind)
		}
	}
}
