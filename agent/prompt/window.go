package prompt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/idna"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/ui/uiproto"
)

// Window asks in podpis's own windows: it runs podpis-ui (package ui) for
// each question, as gpg-agent runs pinentry, and speaks ui/uiproto to it
// over its stdin and stdout. A request that is cancelled kills its
// window. The PIN window stays open after a wrong PIN and asks again
// (agent.PINTrier); each PIN the token sees is one the person entered.
type Window struct {
	// Path of podpis-ui; empty means the one next to this program's
	// executable, else podpis-ui from PATH.
	Path string
	// Env is added to the window's environment (tests set DISPLAY).
	Env []string
	// Settle is how long a new window ignores the keyboard and its
	// approving buttons (keys meant for another window are no answer);
	// zero means 1 s. An approval that arrives sooner than that after the
	// window was started cannot have come from the window as it should
	// behave, and is refused here too.
	Settle time.Duration

	// failed, when set, hears of every window that could not be shown:
	// the tests waiting for a window learn why there is none at once.
	failed func(error)
}

// ErrNoDialog means the window program is missing or cannot show (no
// display).
var ErrNoDialog = errors.New("prompt: cannot show a dialog")

// Native returns the prompter of podpis's own windows.
func Native() agent.Prompter { return &Window{} }

// NativeAvailable reports whether podpis's windows can be shown here:
// podpis-ui is installed, and there is a display (always on Windows; an X
// display elsewhere, which Wayland desktops give through XWayland: Fyne
// draws on Wayland itself only when built with -tags wayland). Where they
// cannot, the agent asks through its own page in the browser (Browser).
func NativeAvailable() bool {
	if _, err := uiPath(""); err != nil {
		return false
	}
	return runtime.GOOS == "windows" || os.Getenv("DISPLAY") != ""
}

// uiPath is path when given, else podpis-ui where uiproto.Program finds
// it.
func uiPath(path string) (string, error) {
	if path != "" {
		return path, nil
	}
	p, err := uiproto.Program()
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoDialog, err)
	}
	return p, nil
}

// fail passes err to w.failed, if anyone listens, and returns it.
func (w *Window) fail(err error) error {
	if err != nil && w.failed != nil {
		w.failed(err)
	}
	return err
}

func (w *Window) settle() time.Duration {
	if w.Settle <= 0 {
		return time.Second
	}
	return w.Settle
}

// window is one running podpis-ui.
type window struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	out     *uiproto.Reader
	started time.Time
	errOut  *limitedBuffer
	failed  func(error) error
}

// open starts podpis-ui kind and sends it the prompt.
func (w *Window) open(ctx context.Context, kind string, p uiproto.Prompt) (*window, error) {
	win, err := w.start(ctx, kind, p)
	if err != nil {
		return nil, w.fail(err)
	}
	win.failed = w.fail
	return win, nil
}

func (w *Window) start(ctx context.Context, kind string, p uiproto.Prompt) (*window, error) {
	path, err := uiPath(w.Path)
	if err != nil {
		return nil, err
	}
	p.SettleMillis = int(w.settle() / time.Millisecond)
	cmd := exec.CommandContext(ctx, path, kind)
	cmd.Env = uiproto.Env(append(cmd.Environ(), w.Env...))
	errOut := &limitedBuffer{max: 4096}
	cmd.Stderr = errOut
	// A process the window leaves behind may hold its stderr open (under
	// Wine, the crash handler winedbg does): the window's end, not that
	// process's, ends the question.
	cmd.WaitDelay = time.Second
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoDialog, err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoDialog, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoDialog, err)
	}
	win := &window{cmd: cmd, in: in, out: uiproto.NewReader(out), started: time.Now(), errOut: errOut}
	if err := uiproto.Write(in, p); err != nil {
		win.close()
		return nil, fmt.Errorf("%w: %v", ErrNoDialog, err)
	}
	return win, nil
}

// answer reads the window's next answer. A window that ends without one
// could not be shown (no display, a crash) — unless ctx was cancelled,
// which killed it.
func (win *window) answer(ctx context.Context) (uiproto.Answer, error) {
	var a uiproto.Answer
	err := win.out.Read(&a)
	if ctx.Err() != nil {
		clear(a.PIN)
		return uiproto.Answer{}, ctx.Err()
	}
	if err != nil {
		return uiproto.Answer{}, win.failed(fmt.Errorf("%w: podpis-ui: %v: %s", ErrNoDialog, err, strings.TrimSpace(win.errOut.String())))
	}
	return a, nil
}

// tooSoon: an approval sooner than the window could have taken one.
func (w *Window) tooSoon(win *window) bool { return time.Since(win.started) < w.settle() }

// close ends the window: its stdin is closed (it quits by itself once it
// has answered) and it is killed if it lingers.
func (win *window) close() {
	win.in.Close()
	done := make(chan struct{})
	go func() { win.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		win.cmd.Process.Kill()
		<-done
	}
}

// origin gives the site as the browser shows it and, for an IDN, its
// punycode form: https://пример.рф and https://xn--e1afmkfd.xn--p1ai.
func origin(o string) (shown, ascii string) {
	u, err := url.Parse(o)
	if err != nil || u.Host == "" {
		return o, ""
	}
	host := u.Hostname()
	uni, err := idna.Display.ToUnicode(host)
	if err != nil || uni == host {
		return o, ""
	}
	h := uni
	if port := u.Port(); port != "" {
		h += ":" + port
	}
	return u.Scheme + "://" + h, o
}

// prompt fills in what every window shows: the site, cleaned.
func prompt(o string) uiproto.Prompt {
	shown, ascii := origin(o)
	return uiproto.Prompt{Origin: agent.CleanText(shown, 300), OriginASCII: agent.CleanText(ascii, 300)}
}

func document(d *keystore.Summary) *uiproto.Document {
	if d == nil {
		return nil
	}
	return &uiproto.Document{Description: agent.CleanText(d.Description, agent.MaxShownDescription), Size: d.Size, Streebog: d.Streebog,
		DigestName: d.DigestName, Count: d.Count}
}

func (w *Window) ConfirmOrigin(ctx context.Context, origin string) (agent.Decision, error) {
	win, err := w.open(ctx, uiproto.KindConsent, prompt(origin))
	if err != nil {
		return agent.Deny, err
	}
	defer win.close()
	a, err := win.answer(ctx)
	if err != nil {
		return agent.Deny, err
	}
	switch {
	case a.Consent == uiproto.ConsentDeny || a.Consent == "" || w.tooSoon(win):
		return agent.Deny, nil
	case a.Consent == uiproto.ConsentAlways:
		return agent.AllowAlways, nil
	case a.Consent == uiproto.ConsentOnce:
		return agent.AllowOnce, nil
	}
	return agent.Deny, nil
}

func (w *Window) ConfirmSign(ctx context.Context, origin string, cert *keystore.Certificate, what agent.SignSummary) (bool, error) {
	p := prompt(origin)
	p.Owner = agent.CleanText(cert.Identity.CommonName, 200)
	p.Document = document(&keystore.Summary{Description: what.Description, Size: what.Size, Streebog: what.Streebog, DigestName: what.DigestName})
	p.Document.HashOnly = what.HashOnly
	for _, d := range what.Documents {
		p.Document.Items = append(p.Document.Items, uiproto.Item{Name: agent.CleanText(d.Name, agent.MaxName), Size: d.Size, Digest: d.Digest})
	}
	if len(what.Documents) == 1 {
		p.Document.Name = p.Document.Items[0].Name
		p.Document.Items = nil
	}
	return w.approve(ctx, uiproto.KindDocument, p)
}

// pinPrompt is what the PIN window shows.
func pinPrompt(origin string, req keystore.PINRequest) uiproto.Prompt {
	p := prompt(origin)
	if req.Certificate != nil {
		p.Owner = agent.CleanText(req.Certificate.Identity.CommonName, 200)
	}
	p.Token, p.Container = agent.CleanText(req.Token, 200), req.Container
	p.TriesLeft, p.TriesLow, p.FinalTry = req.TriesLeft, req.TriesLow, req.FinalTry
	p.Login, p.Document = req.Login, document(req.Document)
	switch {
	case req.NewKey:
		p.Purpose = uiproto.PurposeNewKey
	case req.Install:
		p.Purpose = uiproto.PurposeInstall
	}
	return p
}

// TryPIN shows the PIN window and tries each PIN the person enters in it:
// after a wrong one the window says so with the token's new count and
// waits for them again.
func (w *Window) TryPIN(ctx context.Context, origin string, req keystore.PINRequest, try keystore.TryPIN) error {
	win, err := w.open(ctx, uiproto.KindPIN, pinPrompt(origin, req))
	if err != nil {
		return err
	}
	defer win.close()
	for {
		a, err := win.answer(ctx)
		if err != nil {
			return err
		}
		if a.Cancelled || len(a.PIN) == 0 || w.tooSoon(win) {
			clear(a.PIN)
			uiproto.Write(win.in, uiproto.Outcome{Status: uiproto.OutcomeFailed})
			return keystore.ErrCancelled
		}
		next, err := try(a.PIN, a.Save)
		clear(a.PIN)
		switch {
		case err == nil:
			uiproto.Write(win.in, uiproto.Outcome{Status: uiproto.OutcomeOK})
			return nil
		case errors.Is(err, keystore.ErrPINIncorrect):
			uiproto.Write(win.in, uiproto.Outcome{Status: uiproto.OutcomeWrong, TriesLeft: next.TriesLeft, TriesLow: next.TriesLow, FinalTry: next.FinalTry})
		case errors.Is(err, keystore.ErrPINLocked):
			uiproto.Write(win.in, uiproto.Outcome{Status: uiproto.OutcomeLocked})
			return err
		default:
			uiproto.Write(win.in, uiproto.Outcome{Status: uiproto.OutcomeFailed})
			return err
		}
	}
}

// PIN asks once, for callers that try the PIN themselves.
func (w *Window) PIN(ctx context.Context, origin string, req keystore.PINRequest) ([]byte, bool, error) {
	var pin []byte
	var save bool
	err := w.TryPIN(ctx, origin, req, func(p []byte, s bool) (keystore.PINRequest, error) {
		pin, save = bytes.Clone(p), s
		return req, nil
	})
	if err != nil {
		return nil, false, err
	}
	return pin, save, nil
}

// limitedBuffer keeps the first max bytes written to it: podpis-ui's
// diagnostics, for the agent's error.
type limitedBuffer struct {
	mu  sync.Mutex
	max int
	b   bytes.Buffer
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
