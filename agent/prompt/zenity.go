package prompt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
)

// Zenity asks through zenity dialogs (GNOME; the .deb depends on it). A
// dialog is killed when its request is cancelled.
type Zenity struct {
	// Path of zenity; empty means "zenity" from PATH.
	Path string
	// Env is added to the dialog's environment (tests set DISPLAY).
	Env []string
	// Settle is how long after a dialog is started an approving answer is
	// taken for a keystroke meant for another window: it is discarded and
	// the dialog shown again. Zero means 1.5 s — zenity takes up to half a
	// second to appear, which leaves about a second of the dialog on the
	// screen (a page that opens a prompt while the person types elsewhere
	// must not get their Return or Space).
	Settle time.Duration
}

// ErrNoDialog means the dialog program is missing or cannot show (no
// display).
var ErrNoDialog = errors.New("prompt: cannot show a dialog")

// sep separates form fields in zenity's output: a PIN may contain any
// printable character, so a control character.
const sep = "\x1f"

// maxOutput bounds what a dialog may print: a PIN, a separator and a
// label. Its buffer is allocated once, at this size, so that the PIN is in
// one place we clear.
const maxOutput = 4096

// run shows one dialog and returns what it printed (the caller clears it:
// it may hold a PIN), its exit code (0 OK, 1 Cancel/Esc/extra button) and
// how long it was up.
func (z *Zenity) run(ctx context.Context, args ...string) ([]byte, int, time.Duration, error) {
	path := z.Path
	if path == "" {
		path = "zenity"
	}
	cmd := exec.CommandContext(ctx, path, append([]string{"--title", "podpis", "--width", "460"}, args...)...)
	cmd.Env = append(cmd.Environ(), z.Env...)
	// An *os.File as Stdout: os/exec then copies nothing through buffers
	// of its own, and we read the output straight into ours.
	r, w, err := os.Pipe()
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%w: %v", ErrNoDialog, err)
	}
	defer r.Close()
	var errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &errOut
	start := time.Now()
	err = cmd.Start()
	w.Close()
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%w: %v", ErrNoDialog, err)
	}
	// A cancelled request kills zenity, but a wrapper's child may still
	// hold the pipe open: closing our end ends the read all the same.
	stop := context.AfterFunc(ctx, func() { r.Close() })
	defer stop()
	out := make([]byte, 0, maxOutput)
	for len(out) < cap(out) {
		n, err := r.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if err != nil {
			break
		}
	}
	err = cmd.Wait()
	up := time.Since(start)
	if ctx.Err() != nil {
		clear(out)
		return nil, 0, up, ctx.Err()
	}
	out = bytes.TrimRight(out, "\n")
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		// GTK without a display also exits 1, after saying so.
		if strings.Contains(errOut.String(), "cannot open display") {
			clear(out)
			return nil, 0, up, fmt.Errorf("%w: %s", ErrNoDialog, strings.TrimSpace(errOut.String()))
		}
		if exit.ExitCode() == 1 { // Cancel, Esc, or an extra button
			return out, 1, up, nil
		}
		clear(out)
		return nil, 0, up, fmt.Errorf("%w: zenity: %v: %s", ErrNoDialog, err, strings.TrimSpace(errOut.String()))
	}
	if err != nil {
		clear(out)
		return nil, 0, up, fmt.Errorf("%w: %v", ErrNoDialog, err)
	}
	return out, 0, up, nil
}

func (z *Zenity) settle() time.Duration {
	if z.Settle == 0 {
		return 1500 * time.Millisecond
	}
	return z.Settle
}

// pango escapes text for zenity's --text: zenity first expands C escapes
// (g_strcompress: "\074b\076" would become "<b>"), then parses Pango
// markup, so the backslash is escaped as well as &, < and >.
func pango(s string) string {
	return strings.NewReplacer(`\`, `\\`, "&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// shown cleans and escapes text from outside podpis (a page, a token, a
// certificate) for a dialog.
func shown(s string, max int) string { return pango(agent.CleanText(s, max)) }

// siteWords is the page's description, last in a dialog and marked as
// the site's words: what a page writes cannot pass for podpis's own lines.
func siteWords(desc string) string {
	if desc == "" {
		return ""
	}
	return "\n\nОписание со слов сайта: «" + pango(desc) + "»"
}

const (
	labelAlways = "Разрешить всегда"
	labelOnce   = "Только сейчас"
	labelDeny   = "Запретить"
)

func (z *Zenity) ConfirmOrigin(ctx context.Context, origin string) (agent.Decision, error) {
	for {
		// --default-cancel: Return on a dialog that just appeared denies.
		out, code, up, err := z.run(ctx, "--question", "--default-cancel", "--icon-name", "dialog-password",
			"--text", fmt.Sprintf("Сайт <b>%s</b> запрашивает доступ к сертификатам. Разрешить?", shown(origin, 300)),
			"--ok-label", labelAlways, "--cancel-label", labelDeny, "--extra-button", labelOnce)
		d := agent.Deny
		switch {
		case err != nil:
			return agent.Deny, err
		case code == 0:
			d = agent.AllowAlways
		case string(out) == labelOnce:
			d = agent.AllowOnce
		}
		// An early «Запретить» stands: denying needs no care.
		if d == agent.Deny || up >= z.settle() {
			return d, nil
		}
	}
}

// documentLines are podpis's own lines about a document.
func documentLines(what agent.SignSummary) string {
	return fmt.Sprintf("Размер: %d байт\nХэш (Стрибог-256): <tt>%s</tt>", what.Size, pango(what.Streebog))
}

func (z *Zenity) ConfirmSign(ctx context.Context, origin string, cert *keystore.Certificate, what agent.SignSummary) (bool, error) {
	text := fmt.Sprintf("Сайт <b>%s</b> просит подписать документ.\n\n%s\nСертификат: %s%s",
		shown(origin, 300), documentLines(what), shown(cert.Identity.CommonName, 100),
		siteWords(agent.CleanText(what.Description, agent.MaxShownDescription)))
	for {
		_, code, up, err := z.run(ctx, "--question", "--default-cancel", "--text", text, "--ok-label", "Подписать", "--cancel-label", "Отмена")
		if err != nil || code != 0 {
			return false, err
		}
		if up >= z.settle() {
			return true, nil
		}
	}
}

const (
	saveNo  = "Нет"
	saveYes = "Да, до выхода из сеанса"
)

// pinText is what the PIN dialog says: who asks, for what — a login or
// which document — with which certificate on which token.
func pinText(origin string, req keystore.PINRequest) string {
	var b strings.Builder
	switch {
	case req.Login:
		fmt.Fprintf(&b, "Сайт <b>%s</b>: вход на сайт.", shown(origin, 300))
	case req.Document != nil:
		fmt.Fprintf(&b, "Сайт <b>%s</b>: подпись документа.\n%s", shown(origin, 300),
			documentLines(agent.SignSummary{Size: req.Document.Size, Streebog: req.Document.Streebog}))
	default:
		fmt.Fprintf(&b, "Сайт <b>%s</b> просит подпись.", shown(origin, 300))
	}
	fmt.Fprintf(&b, "\nСертификат: %s\nТокен: %s", shown(req.Certificate.Identity.CommonName, 100), shown(req.Token, 100))
	if req.FinalTry {
		b.WriteString("\n\n<b>Последняя попытка: после неверного PIN-кода токен будет заблокирован.</b>")
	} else if req.TriesLow {
		b.WriteString("\n\nРанее был введён неверный PIN-код.")
	}
	if req.Document != nil {
		b.WriteString(siteWords(agent.CleanText(req.Document.Description, agent.MaxShownDescription)))
	}
	return b.String()
}

// PIN asks in a form: Return in the PIN field does not send it (only the
// «Подписать» button does), and a PIN sent in the dialog's first moment is
// dropped and asked again.
func (z *Zenity) PIN(ctx context.Context, origin string, req keystore.PINRequest) ([]byte, bool, error) {
	text := pinText(origin, req)
	for {
		out, code, up, err := z.run(ctx, "--forms", "--text", text, "--separator", sep,
			"--add-password", "PIN-код", "--add-combo", "Сохранить пароль", "--combo-values", saveNo+"|"+saveYes,
			"--ok-label", "Подписать", "--cancel-label", "Отмена")
		if err != nil {
			return nil, false, err
		}
		if code != 0 {
			clear(out)
			return nil, false, keystore.ErrCancelled
		}
		i := bytes.Index(out, []byte(sep))
		if i < 0 {
			i = len(out)
		}
		if i == 0 {
			clear(out)
			return nil, false, keystore.ErrCancelled
		}
		if up < z.settle() {
			clear(out) // sent from a dialog that had just appeared: ask again
			continue
		}
		pin := bytes.Clone(out[:i])
		save := i < len(out) && string(out[i+1:]) == saveYes
		clear(out)
		return pin, save, nil
	}
}
