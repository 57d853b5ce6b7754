package prompt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"

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
}

// ErrNoDialog means the dialog program is missing or cannot show (no
// display).
var ErrNoDialog = errors.New("prompt: cannot show a dialog")

// sep separates form fields in zenity's output: a PIN may contain any
// printable character, so a control character.
const sep = "\x1f"

func (z *Zenity) run(ctx context.Context, args ...string) (string, int, error) {
	path := z.Path
	if path == "" {
		path = "zenity"
	}
	cmd := exec.CommandContext(ctx, path, append([]string{"--title", "podpis", "--width", "460"}, args...)...)
	cmd.Env = append(cmd.Environ(), z.Env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		return "", 0, ctx.Err()
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		// GTK without a display also exits 1, after saying so.
		if strings.Contains(errOut.String(), "cannot open display") {
			return "", 0, fmt.Errorf("%w: %s", ErrNoDialog, strings.TrimSpace(errOut.String()))
		}
		if exit.ExitCode() == 1 { // Cancel, Esc, or an extra button
			return strings.TrimRight(out.String(), "\n"), 1, nil
		}
		return "", 0, fmt.Errorf("%w: zenity: %v: %s", ErrNoDialog, err, strings.TrimSpace(errOut.String()))
	}
	if err != nil {
		return "", 0, fmt.Errorf("%w: %v", ErrNoDialog, err)
	}
	return strings.TrimRight(out.String(), "\n"), 0, nil
}

// pango escapes text for zenity's markup.
func pango(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

const (
	labelAlways = "Разрешить всегда"
	labelOnce   = "Только сейчас"
	labelDeny   = "Запретить"
)

func (z *Zenity) ConfirmOrigin(ctx context.Context, origin string) (agent.Decision, error) {
	out, code, err := z.run(ctx, "--question", "--icon-name", "dialog-password",
		"--text", fmt.Sprintf("Сайт <b>%s</b> запрашивает доступ к сертификатам. Разрешить?", pango(origin)),
		"--ok-label", labelAlways, "--cancel-label", labelDeny, "--extra-button", labelOnce)
	switch {
	case err != nil:
		return agent.Deny, err
	case code == 0:
		return agent.AllowAlways, nil
	case out == labelOnce:
		return agent.AllowOnce, nil
	}
	return agent.Deny, nil
}

func (z *Zenity) ConfirmSign(ctx context.Context, origin string, cert *keystore.Certificate, what agent.SignSummary) (bool, error) {
	text := fmt.Sprintf("Сайт <b>%s</b> просит подписать документ.\n\n"+
		"Описание (со слов сайта): %s\nРазмер: %d байт\nХэш (Стрибог-256): <tt>%s</tt>\n\nСертификат: %s",
		pango(origin), pango(what.Description), what.Size, what.Streebog, pango(cert.Identity.CommonName))
	_, code, err := z.run(ctx, "--question", "--text", text, "--ok-label", "Подписать", "--cancel-label", "Отмена")
	return err == nil && code == 0, err
}

const (
	saveNo  = "Нет"
	saveYes = "Да, до выхода из сеанса"
)

func (z *Zenity) PIN(ctx context.Context, origin string, req keystore.PINRequest) ([]byte, bool, error) {
	text := fmt.Sprintf("Сайт <b>%s</b> просит подписать вход.\nСертификат: %s\nТокен: %s",
		pango(origin), pango(req.Certificate.Identity.CommonName), pango(req.Token))
	if req.FinalTry {
		text += "\n\n<b>Последняя попытка: после неверного PIN-кода токен будет заблокирован.</b>"
	} else if req.TriesLow {
		text += "\n\nРанее был введён неверный PIN-код."
	}
	out, code, err := z.run(ctx, "--forms", "--text", text, "--separator", sep,
		"--add-password", "PIN-код", "--add-combo", "Сохранить пароль", "--combo-values", saveNo+"|"+saveYes,
		"--ok-label", "Подписать", "--cancel-label", "Отмена")
	if err != nil {
		return nil, false, err
	}
	if code != 0 {
		return nil, false, keystore.ErrCancelled
	}
	pin, save, _ := strings.Cut(out, sep)
	if pin == "" {
		return nil, false, keystore.ErrCancelled
	}
	return []byte(pin), save == saveYes, nil
}
