package prompt

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/internal/testdeps"
	"github.com/podpis/podpis/internal/testwait"
	"github.com/podpis/podpis/login"
)

// xvfb starts a virtual display for the test and returns its DISPLAY.
func xvfb(t *testing.T) string {
	t.Helper()
	testdeps.Need(t, "Xvfb", "xdotool", "zenity")
	// -displayfd lets Xvfb pick a free display itself and tell us which:
	// probing /tmp/.X11-unix ourselves runs out of numbers on a machine
	// where earlier servers died without removing their sockets.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1024x768x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	// SIGTERM, not SIGKILL: Xvfb removes its socket and lock file.
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case n := <-line:
		if n == "" {
			t.Fatal("Xvfb did not start")
		}
		return ":" + n
	case <-time.After(10 * time.Second):
		t.Fatal("Xvfb did not start")
	}
	return ""
}

// settle is the tests' Zenity.Settle, long enough that keys sent as soon
// as xdotool sees the dialog arrive within it on a loaded machine; a
// person who reads waits as long again.
const settle = 2 * time.Second

// person acts on the dialog titled podpis: waits for it, reads it for
// longer than settle, then sends keys.
func person(t *testing.T, display string, actions ...[]string) {
	t.Helper()
	personAfter(t, display, settle, actions...)
}

// personAfter is a person whose keys reach the dialog after read:
// personAfter(…, 0, …) is someone typing elsewhere when it appears.
func personAfter(t *testing.T, display string, read time.Duration, actions ...[]string) {
	t.Helper()
	env := append(os.Environ(), "DISPLAY="+display)
	find := exec.Command("xdotool", "search", "--sync", "--onlyvisible", "--name", "^podpis$")
	find.Env = env
	out, err := find.Output()
	if err != nil {
		t.Errorf("no dialog: %v", err)
		return
	}
	win := strings.Fields(string(out))[0]
	// GTK ignores events sent to a window (XSendEvent): focus it and type
	// through XTEST, like a keyboard. Xvfb has no window manager, hence
	// windowfocus rather than windowactivate.
	focus := exec.Command("xdotool", "windowfocus", "--sync", win)
	focus.Env = env
	focus.Run()
	time.Sleep(read)
	for _, a := range actions {
		cmd := exec.Command("xdotool", a...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("xdotool %v: %v %s", a, err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// inFirstMoment reports whether keys sent now reached the dialog within
// its first moment. The prompter counts from zenity's start, as it cannot
// see the window appear; on a loaded machine the window itself may come up
// after that moment, and then there is nothing early to refuse.
func inFirstMoment(t *testing.T, start time.Time) bool {
	t.Helper()
	if d := time.Since(start); d > settle-500*time.Millisecond {
		t.Logf("the dialog came up %v after its start: its first moment was over", d.Round(time.Millisecond))
		return false
	}
	return true
}

// dismiss presses Escape on the dialog until it answers on done: on a
// loaded machine a key can reach the window before GTK listens to it, and
// a lost Escape would leave the dialog open for good.
func dismiss(t *testing.T, display string, done <-chan bool) bool {
	t.Helper()
	env := append(os.Environ(), "DISPLAY="+display)
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		find := exec.CommandContext(ctx, "xdotool", "search", "--sync", "--onlyvisible", "--name", "^podpis$")
		find.Env = env
		out, _ := find.Output()
		cancel()
		if f := strings.Fields(string(out)); len(f) > 0 {
			for _, a := range [][]string{{"windowfocus", "--sync", f[0]}, {"key", "Escape"}} {
				cmd := exec.Command("xdotool", a...)
				cmd.Env = env
				cmd.Run()
			}
		}
		select {
		case v := <-done:
			return v
		case <-time.After(time.Second):
		}
	}
	t.Fatal("the dialog did not close on Escape")
	return false
}

func testCert() *keystore.Certificate {
	return &keystore.Certificate{Identity: login.Identity{CommonName: "Иванов <Иван>"}}
}

// TestZenityDialogs shows the real dialogs on a virtual display and
// answers them with keystrokes, as a person would.
func TestZenityDialogs(t *testing.T) {
	display := xvfb(t)
	z := &Zenity{Env: []string{"DISPLAY=" + display}, Settle: settle}
	ctx := context.Background()

	type pinResult struct {
		pin  []byte
		save bool
		err  error
	}
	res := make(chan pinResult, 1)
	go func() {
		pin, save, err := z.PIN(ctx, "https://lk.example.ru", keystore.PINRequest{Token: "Rutoken", Certificate: testCert(), FinalTry: true})
		res <- pinResult{pin, save, err}
	}()
	// Type the PIN, Tab past «Сохранить пароль» and «Отмена» to
	// «Подписать», press Enter.
	person(t, display, []string{"type", "--delay", "30", "12|34"}, []string{"key", "Tab", "Tab", "Tab", "Return"})
	select {
	case r := <-res:
		if r.err != nil || string(r.pin) != "12|34" || r.save {
			t.Fatalf("PIN dialog: %q save=%v %v", r.pin, r.save, r.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("PIN dialog did not return")
	}
	// The same with «Сохранить пароль» switched to «Да».
	go func() {
		pin, save, err := z.PIN(ctx, "https://lk.example.ru", keystore.PINRequest{Token: "Rutoken", Certificate: testCert()})
		res <- pinResult{pin, save, err}
	}()
	person(t, display, []string{"type", "--delay", "30", "5678"}, []string{"key", "Tab", "Down", "Down", "Tab", "Tab", "Return"})
	select {
	case r := <-res:
		if r.err != nil || string(r.pin) != "5678" || !r.save {
			t.Fatalf("PIN dialog with saving: %q save=%v %v", r.pin, r.save, r.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("PIN dialog did not return")
	}

	go func() {
		pin, save, err := z.PIN(ctx, "https://lk.example.ru", keystore.PINRequest{Token: "Rutoken", Certificate: testCert()})
		res <- pinResult{pin, save, err}
	}()
	person(t, display, []string{"key", "Escape"})
	if r := <-res; !errors.Is(r.err, keystore.ErrCancelled) {
		t.Fatalf("cancelled PIN dialog: %v", r.err)
	}

	decision := make(chan agent.Decision, 1)
	go func() {
		d, _ := z.ConfirmOrigin(ctx, "https://new.example")
		decision <- d
	}()
	// Deny is the default: Return, as from someone typing elsewhere when
	// the dialog appears, denies.
	personAfter(t, display, 0, []string{"key", "Return"})
	if d := <-decision; d != agent.Deny {
		t.Fatalf("Return at once on the origin question: %v, want Deny", d)
	}
	go func() {
		d, _ := z.ConfirmOrigin(ctx, "https://new.example")
		decision <- d
	}()
	// Tab to «Разрешить всегда» and Return at once: taken for stray
	// keys, the dialog comes back; the person then reads and allows.
	personAfter(t, display, 0, []string{"key", "Tab", "Return"})
	select {
	case d := <-decision:
		t.Fatalf("an approval in the dialog's first moment was taken: %v", d)
	case <-time.After(300 * time.Millisecond):
	}
	person(t, display, []string{"key", "Tab", "Return"})
	if d := <-decision; d != agent.AllowAlways {
		t.Fatalf("«Разрешить всегда» after reading: %v", d)
	}
	go func() {
		d, _ := z.ConfirmOrigin(ctx, "https://new.example")
		decision <- d
	}()
	person(t, display, []string{"key", "Escape"})
	if d := <-decision; d != agent.Deny {
		t.Fatalf("Escape on the origin question: %v", d)
	}

	// A document: Return at once cancels (the default button); «Подписать»
	// pressed at once is asked again; after reading it signs.
	signed := make(chan bool, 1)
	sign := func() {
		go func() {
			ok, _ := z.ConfirmSign(ctx, "https://lk.example.ru", testCert(), agent.SignSummary{Description: "Договор", Size: 5, Streebog: "ab"})
			signed <- ok
		}()
	}
	sign()
	personAfter(t, display, 0, []string{"key", "Return"})
	if <-signed {
		t.Fatal("Return at once signed the document")
	}
	start := time.Now()
	sign()
	personAfter(t, display, 0, []string{"key", "Tab", "Return"})
	early := inFirstMoment(t, start)
	select {
	case ok := <-signed:
		if early {
			t.Fatal("«Подписать» in the dialog's first moment was taken")
		}
		if !ok {
			t.Fatal("«Подписать» after reading did not sign")
		}
	case <-time.After(300 * time.Millisecond):
		person(t, display, []string{"key", "Tab", "Return"})
		if !<-signed {
			t.Fatal("«Подписать» after reading did not sign")
		}
	}

	// A PIN typed and sent as the dialog appears is not taken: the dialog
	// asks again, and only what the person then types counts.
	start = time.Now()
	go func() {
		pin, save, err := z.PIN(ctx, "https://lk.example.ru", keystore.PINRequest{Token: "Rutoken", Certificate: testCert(), Login: true})
		res <- pinResult{pin, save, err}
	}()
	personAfter(t, display, 0, []string{"type", "99"}, []string{"key", "Tab", "Tab", "Tab", "Return"})
	early = inFirstMoment(t, start)
	select {
	case r := <-res:
		if early {
			t.Fatalf("a PIN sent in the dialog's first moment was taken: %q %v", r.pin, r.err)
		}
	case <-time.After(300 * time.Millisecond):
		person(t, display, []string{"type", "--delay", "30", "4321"}, []string{"key", "Tab", "Tab", "Tab", "Return"})
		if r := <-res; r.err != nil || string(r.pin) != "4321" {
			t.Fatalf("PIN after the early one: %q %v", r.pin, r.err)
		}
	}
	// Return in the PIN field does not send it.
	go func() {
		pin, save, err := z.PIN(ctx, "https://lk.example.ru", keystore.PINRequest{Token: "Rutoken", Certificate: testCert(), Login: true})
		res <- pinResult{pin, save, err}
	}()
	person(t, display, []string{"type", "5555"}, []string{"key", "Return"})
	select {
	case r := <-res:
		t.Fatalf("Return in the PIN field sent it: %q %v", r.pin, r.err)
	case <-time.After(500 * time.Millisecond):
	}
	person(t, display, []string{"key", "Escape"})
	if r := <-res; !errors.Is(r.err, keystore.ErrCancelled) {
		t.Fatalf("Escape: %v", r.err)
	}

	// A cancelled request closes its dialog.
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		_, _, err := z.PIN(cctx, "https://lk.example.ru", keystore.PINRequest{Token: "t", Certificate: testCert()})
		res <- pinResult{err: err}
	}()
	personAfter(t, display, 0)
	cancel()
	if r := <-res; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancel: %v", r.err)
	}
	testwait.Until(t, "the dialog closed after cancel", func() bool {
		check := exec.Command("xdotool", "search", "--onlyvisible", "--name", "^podpis$")
		check.Env = append(os.Environ(), "DISPLAY="+display)
		out, _ := check.Output()
		return len(strings.TrimSpace(string(out))) == 0
	})

	// Without a display the prompter says so instead of hanging.
	none := &Zenity{Env: []string{"DISPLAY=:1234567"}}
	if _, _, err := none.PIN(ctx, "x", keystore.PINRequest{Certificate: testCert()}); !errors.Is(err, ErrNoDialog) {
		t.Fatalf("no display: %v", err)
	}
}

// TestZenityMarkup: what a page writes is shown as text. zenity expands
// C escapes before parsing Pango markup, so "\074b\076" was a <b> tag: an
// unclosed one blanked the dialog down to zenity's default question with
// «Подписать». A wrapper records zenity's complaints about markup; with
// every payload there must be none, and the dialog still answers.
func TestZenityMarkup(t *testing.T) {
	display := xvfb(t)
	dir := t.TempDir()
	log := filepath.Join(dir, "stderr")
	wrapper := filepath.Join(dir, "zenity")
	real, _ := exec.LookPath("zenity")
	os.WriteFile(wrapper, []byte("#!/bin/sh\nexec '"+real+"' \"$@\" 2>>'"+log+"'\n"), 0o755)
	z := &Zenity{Path: wrapper, Env: []string{"DISPLAY=" + display}, Settle: settle}
	ctx := context.Background()
	cert := &keystore.Certificate{Identity: login.Identity{CommonName: `\074i\076Иванов`}}
	for _, desc := range []string{
		`\074b\076Договор`,                               // unclosed tag through escapes
		`\074span size="100000"\076ОГРОМНО\074/span\076`, // huge text
		"<b>Договор",                                     // unclosed tag as is
		"&bogus; & <",
		"Договор\n\nРазмер: 1 байт\nХэш (Стрибог-256): 00",
		"счёт\u202Efdp.exe",
	} {
		os.Remove(log)
		done := make(chan bool, 1)
		go func() {
			ok, _ := z.ConfirmSign(ctx, "https://lk.example.ru", cert, agent.SignSummary{Description: desc, Size: 5, Streebog: "ab"})
			done <- ok
		}()
		if dismiss(t, display, done) {
			t.Fatalf("%q: Escape signed", desc)
		}
		go func() {
			_, _, err := z.PIN(ctx, "https://lk.example.ru", keystore.PINRequest{Token: `\074b\076`, Certificate: cert,
				Document: &keystore.Summary{Description: desc, Size: 5, Streebog: "ab"}})
			done <- err == nil
		}()
		dismiss(t, display, done)
		if b, _ := os.ReadFile(log); strings.Contains(string(b), "markup") {
			t.Errorf("%q reached zenity as markup: %s", desc, b)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{`\074b\076`, `\\074b\\076`},
		{"<b>&amp;", "&lt;b&gt;&amp;amp;"},
		{"a\\", `a\\`},
	} {
		if got := pango(tc.in); got != tc.want {
			t.Errorf("pango(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestPINText: the PIN dialog says what the PIN is for; the document's
// description comes last, as the site's words, on one line.
func TestPINText(t *testing.T) {
	login := pinText("https://lk.example.ru", keystore.PINRequest{Token: "Rutoken", Certificate: testCert(), Login: true})
	if !strings.Contains(login, "вход на сайт") || strings.Contains(login, "документ") {
		t.Errorf("login PIN dialog: %s", login)
	}
	doc := pinText("https://lk.example.ru", keystore.PINRequest{Token: "Rutoken", Certificate: testCert(),
		Document: &keystore.Summary{Description: "Договор\nРазмер: 1 байт", Size: 1234, Streebog: "abcd"}})
	for _, want := range []string{"подпись документа", "Размер: 1234 байт", "abcd", "Иванов &lt;Иван&gt;"} {
		if !strings.Contains(doc, want) {
			t.Errorf("document PIN dialog lacks %q: %s", want, doc)
		}
	}
	if !strings.HasSuffix(doc, "\n\nОписание со слов сайта: «Договор Размер: 1 байт»") {
		t.Errorf("the site's words are not last and on one line: %q", doc)
	}
}
