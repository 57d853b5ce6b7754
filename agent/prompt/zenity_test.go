package prompt

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/verify"
)

// xvfb starts a virtual display for the test and returns its DISPLAY.
func xvfb(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"Xvfb", "xdotool", "zenity"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("PODPIS_REQUIRE_DEPS") != "" {
				t.Fatalf("%s required (Debian xvfb, xdotool, zenity)", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
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

// person acts on the dialog titled podpis: waits for it, then sends keys.
func person(t *testing.T, display string, actions ...[]string) {
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
	time.Sleep(300 * time.Millisecond)
	for _, a := range actions {
		cmd := exec.Command("xdotool", a...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("xdotool %v: %v %s", a, err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func testCert() *keystore.Certificate {
	return &keystore.Certificate{Identity: verify.Identity{CommonName: "Иванов <Иван>"}}
}

// TestZenityDialogs shows the real dialogs on a virtual display and
// answers them with keystrokes, as a person would.
func TestZenityDialogs(t *testing.T) {
	display := xvfb(t)
	z := &Zenity{Env: []string{"DISPLAY=" + display}}
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
	person(t, display, []string{"key", "Return"})
	if d := <-decision; d != agent.AllowAlways {
		t.Fatalf("Enter on the origin question: %v", d)
	}
	go func() {
		d, _ := z.ConfirmOrigin(ctx, "https://new.example")
		decision <- d
	}()
	person(t, display, []string{"key", "Escape"})
	if d := <-decision; d != agent.Deny {
		t.Fatalf("Escape on the origin question: %v", d)
	}

	// A cancelled request closes its dialog.
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		_, _, err := z.PIN(cctx, "https://lk.example.ru", keystore.PINRequest{Token: "t", Certificate: testCert()})
		res <- pinResult{err: err}
	}()
	person(t, display)
	cancel()
	if r := <-res; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancel: %v", r.err)
	}
	check := exec.Command("xdotool", "search", "--onlyvisible", "--name", "^podpis$")
	check.Env = append(os.Environ(), "DISPLAY="+display)
	time.Sleep(300 * time.Millisecond)
	if out, _ := check.Output(); len(strings.TrimSpace(string(out))) > 0 {
		t.Fatal("the dialog stayed open after cancel")
	}

	// Without a display the prompter says so instead of hanging.
	none := &Zenity{Env: []string{"DISPLAY=:1234567"}}
	if _, _, err := none.PIN(ctx, "x", keystore.PINRequest{Certificate: testCert()}); !errors.Is(err, ErrNoDialog) {
		t.Fatalf("no display: %v", err)
	}
}
