package wineui

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/login"
	"github.com/podpis/podpis/ui/uiproto"
)

// settle is the windows' settle time here, and read how long the test's
// person looks at a window before acting: longer, so that a loaded
// machine does not push their keys into the first moment.
const (
	settle = time.Second
	read   = 1500 * time.Millisecond
)

// Where «Только сейчас» is, from the bottom right corner of the consent
// window (the same as on Linux: read off the screenshots).
const consentOnceX, consentOnceY = 168, 27

func owner() *keystore.Certificate {
	return &keystore.Certificate{Identity: login.Identity{CommonName: "Иванов Иван Иванович"}}
}

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

func (tr *tries) got() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return fmt.Sprint(tr.pins)
}

// askPIN shows the PIN window through the agent's prompter; its result
// arrives on the channel. Every window is bounded: a hung one is killed.
func (d desk) askPIN(t *testing.T, req keystore.PINRequest, tr *tries) <-chan error {
	done := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	go func() {
		done <- d.window(settle).TryPIN(ctx, "https://lk.example.ru", req, tr.try)
	}()
	return done
}

// TestWinePIN: the PIN window under Wine takes a PIN typed on the
// keyboard and Return; after the agent's «wrong» it says so in the same
// window (the screenshot) and takes another; the agent gets exactly the
// PINs typed, one per Return. A second window, Esc: cancelled, no PIN;
// a third, Alt+F4 (Windows closes it): cancelled too.
func TestWinePIN(t *testing.T) {
	d := setup(t)
	tr := newTries(keystore.PINRequest{TriesLeft: 2, TriesLow: true}, keystore.ErrPINIncorrect, nil)
	start := time.Now()
	done := d.askPIN(t, keystore.PINRequest{Token: "Rutoken ECP 2.0 (3a5f8c21)", Certificate: owner(), TriesLeft: 3, Login: true}, tr)
	win := d.find(t, uiproto.TitlePIN)
	t.Logf("the PIN window appeared %v after the agent asked", time.Since(start).Round(time.Millisecond))
	time.Sleep(read)
	d.keys(t, win, []string{"type", "0000"}, []string{"key", "Return"})
	select {
	case <-tr.called:
	case err := <-done:
		t.Fatalf("the window ended without handing a PIN over: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the window handed no PIN over")
	}
	d.shot(t, win, "wine-window-pin.png")
	d.keys(t, win, []string{"type", "1234"}, []string{"key", "Return"})
	if err := within(t, d, done, "the right PIN"); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprint([]string{"0000 save=false", "1234 save=false"}); tr.got() != want {
		t.Fatalf("PINs handed over: %s, want %s", tr.got(), want)
	}
	d.gone(t)

	tr = newTries(keystore.PINRequest{})
	done = d.askPIN(t, keystore.PINRequest{Token: "Rutoken ECP 2.0", Certificate: owner(), TriesLeft: 1, TriesLow: true, FinalTry: true, Login: true}, tr)
	win = d.find(t, uiproto.TitlePIN)
	time.Sleep(read)
	d.keys(t, win, []string{"type", "99"}, []string{"key", "Escape"})
	if err := within(t, d, done, "Esc"); !errors.Is(err, keystore.ErrCancelled) {
		t.Fatalf("Esc: %v, want cancelled", err)
	}
	if tr.got() != "[]" {
		t.Fatalf("Esc handed a PIN over: %s", tr.got())
	}
	d.gone(t)

	// Alt+F4: Windows closes the window (WM_CLOSE), which is Отмена.
	done = d.askPIN(t, keystore.PINRequest{Token: "Rutoken ECP 2.0", Certificate: owner(), Login: true}, tr)
	win = d.find(t, uiproto.TitlePIN)
	time.Sleep(read)
	d.keys(t, win, []string{"type", "12"}, []string{"key", "alt+F4"})
	if err := within(t, d, done, "Alt+F4"); !errors.Is(err, keystore.ErrCancelled) {
		t.Fatalf("Alt+F4: %v, want cancelled", err)
	}
	if tr.got() != "[]" {
		t.Fatalf("Alt+F4 handed a PIN over: %s", tr.got())
	}
	d.gone(t)
}

// TestWineConsent: the consent window under Wine. Return on a fresh
// window denies (Запретить is the default), and so do Esc and Alt+F4
// (Windows closes the window); Tab, Tab
// brings the focus to «Только сейчас» and Return then allows once, as a
// click on it does.
func TestWineConsent(t *testing.T) {
	d := setup(t)
	ask := func(act func(win string)) agent.Decision {
		t.Helper()
		type result struct {
			d   agent.Decision
			err error
		}
		done := make(chan result, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		go func() {
			dec, err := d.window(settle).ConfirmOrigin(ctx, "https://xn--e1afmkfd.xn--p1ai")
			done <- result{dec, err}
		}()
		act(d.find(t, uiproto.TitleConsent))
		r := within(t, d, done, "the consent window")
		if r.err != nil {
			t.Fatal(r.err)
		}
		d.gone(t)
		return r.d
	}
	for _, c := range []struct {
		name string
		act  func(win string)
		want agent.Decision
	}{
		{"Return", func(win string) { d.keys(t, win, []string{"key", "Return"}) }, agent.Deny},
		{"Esc", func(win string) { d.keys(t, win, []string{"key", "Escape"}) }, agent.Deny},
		{"Alt+F4", func(win string) { d.keys(t, win, []string{"key", "alt+F4"}) }, agent.Deny},
		{"Tab Tab Return", func(win string) {
			d.keys(t, win, []string{"key", "Tab"}, []string{"key", "Tab"})
			d.shot(t, win, "wine-window-consent.png")
			d.keys(t, win, []string{"key", "Return"})
		}, agent.AllowOnce},
		{"click «Только сейчас»", func(win string) { d.click(t, win, consentOnceX, consentOnceY) }, agent.AllowOnce},
	} {
		if got := ask(func(win string) { time.Sleep(read); c.act(win) }); got != c.want {
			t.Errorf("%s on the consent window: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestWinePINSettle: keys that reach the PIN window under Wine in its
// first moment (the person was typing elsewhere when it came up) are
// dropped by the window — WM_CHAR and WM_KEYDOWN through GLFW on Windows,
// not X's key events — neither their digits nor their Return make a PIN,
// and the window is still there for the PIN typed after.
func TestWinePINSettle(t *testing.T) {
	d := setup(t)
	const long = 4 * time.Second
	tr := newTries(keystore.PINRequest{})
	done := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	go func() {
		done <- d.window(long).TryPIN(ctx, "https://lk.example.ru", keystore.PINRequest{Token: "Rutoken", Certificate: owner(), Login: true}, tr.try)
	}()
	win := d.find(t, uiproto.TitlePIN)
	d.keys(t, win, []string{"type", "9999"}, []string{"key", "Return"})
	if time.Since(start) > long-time.Second {
		t.Skipf("the window came up %v after it was asked for: its first moment was over", time.Since(start))
	}
	time.Sleep(time.Until(start.Add(long + read)))
	select {
	case err := <-done:
		t.Fatalf("keys typed in the first moment ended the window: %v (PINs %s)", err, tr.got())
	default:
	}
	if tr.got() != "[]" {
		t.Fatalf("a PIN typed in the first moment was handed over: %s", tr.got())
	}
	d.keys(t, win, []string{"type", "1234"}, []string{"key", "Return"})
	if err := within(t, d, done, "the PIN after the first moment"); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprint([]string{"1234 save=false"}); tr.got() != want {
		t.Fatalf("PINs handed over: %s, want %s (the early keys must not be in it)", tr.got(), want)
	}
	d.gone(t)
}
