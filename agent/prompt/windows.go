//go:build windows

package prompt

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
	"golang.org/x/sys/windows"
)

// Windows asks with the system's own dialogs: MessageBox for the
// questions, and the credential prompt for the PIN, whose «Сохранить»
// checkbox is «Сохранить пароль». The refusing button is the default, and
// an approval in a dialog's first second is taken for keys meant for
// another window: the dialog is shown again.
type Windows struct{}

// winSettle: see Zenity.Settle; a MessageBox appears at once.
const winSettle = time.Second

// Native returns the platform's dialog prompter.
func Native() agent.Prompter { return &Windows{} }

var (
	credui                = windows.NewLazySystemDLL("credui.dll")
	procPromptCredentials = credui.NewProc("CredUIPromptForWindowsCredentialsW")
	procUnPackAuthBuffer  = credui.NewProc("CredUnPackAuthenticationBufferW")
)

// credUIInfo is CREDUI_INFOW.
type credUIInfo struct {
	size    uint32
	parent  windows.Handle
	message *uint16
	caption *uint16
	banner  windows.Handle
}

// MessageBox answers (winuser.h).
const (
	idOK  = 1
	idYes = 6
	idNo  = 7
)

const (
	creduiwinGeneric  = 0x1
	creduiwinCheckbox = 0x2
	errorCancelled    = 1223
)

func wide(s string) *uint16 {
	p, _ := windows.UTF16PtrFromString(s)
	return p
}

// modal runs a blocking dialog on a locked thread, so that a cancelled
// request does not leave the caller waiting: the answer is then ignored.
func modal[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// MessageBox default buttons (winuser.h).
const (
	mbDefButton2 = 0x100
	mbDefButton3 = 0x200
)

// messageBox shows text until an answer comes that is a refusal or came
// after the dialog had been up for winSettle.
func messageBox(text string, flags uint32, refusal func(int32) bool) (int32, error) {
	for {
		start := time.Now()
		r, err := windows.MessageBox(0, wide(text), wide("podpis"), flags|windows.MB_TOPMOST|windows.MB_SETFOREGROUND)
		if err != nil || refusal(r) || time.Since(start) >= winSettle {
			return r, err
		}
	}
}

// plainWords: see the zenity prompter's; MessageBox shows plain text.
func plainWords(desc string) string {
	if desc == "" {
		return ""
	}
	return "\n\nОписание со слов сайта: «" + desc + "»"
}

func (w *Windows) ConfirmOrigin(ctx context.Context, origin string) (agent.Decision, error) {
	text := fmt.Sprintf("Сайт %s запрашивает доступ к сертификатам. Разрешить?\n\n"+
		"«Да» — разрешить всегда\n«Нет» — только сейчас\n«Отмена» — запретить", agent.CleanText(origin, 300))
	return modal(ctx, func() (agent.Decision, error) {
		r, err := messageBox(text, windows.MB_YESNOCANCEL|windows.MB_ICONQUESTION|mbDefButton3,
			func(r int32) bool { return r != idYes && r != idNo })
		switch r {
		case idYes:
			return agent.AllowAlways, nil
		case idNo:
			return agent.AllowOnce, nil
		}
		return agent.Deny, err
	})
}

func plainDocument(size int, digest string) string {
	return fmt.Sprintf("Размер: %d байт\nХэш (Стрибог-256): %s", size, digest)
}

func (w *Windows) ConfirmSign(ctx context.Context, origin string, cert *keystore.Certificate, what agent.SignSummary) (bool, error) {
	text := fmt.Sprintf("Сайт %s просит подписать документ.\n\n%s\n\nСертификат: %s%s\n\nПодписать?",
		agent.CleanText(origin, 300), plainDocument(what.Size, what.Streebog), agent.CleanText(cert.Identity.CommonName, 100),
		plainWords(agent.CleanText(what.Description, agent.MaxShownDescription)))
	return modal(ctx, func() (bool, error) {
		r, err := messageBox(text, windows.MB_OKCANCEL|windows.MB_ICONWARNING|mbDefButton2, func(r int32) bool { return r != idOK })
		return r == idOK, err
	})
}

type pinAnswer struct {
	pin  []byte
	save bool
}

func (w *Windows) PIN(ctx context.Context, origin string, req keystore.PINRequest) ([]byte, bool, error) {
	var b strings.Builder
	origin = agent.CleanText(origin, 300)
	switch {
	case req.Login:
		fmt.Fprintf(&b, "Сайт %s: вход на сайт.", origin)
	case req.Document != nil:
		fmt.Fprintf(&b, "Сайт %s: подпись документа.\n%s", origin, plainDocument(req.Document.Size, req.Document.Streebog))
	default:
		fmt.Fprintf(&b, "Сайт %s просит подпись.", origin)
	}
	fmt.Fprintf(&b, "\nСертификат: %s\nТокен: %s\nВведите PIN-код в поле пароля.",
		agent.CleanText(req.Certificate.Identity.CommonName, 100), agent.CleanText(req.Token, 100))
	if req.FinalTry {
		b.WriteString("\n\nПоследняя попытка: после неверного PIN-кода токен будет заблокирован.")
	}
	if req.Document != nil {
		b.WriteString(plainWords(agent.CleanText(req.Document.Description, agent.MaxShownDescription)))
	}
	msg := b.String()
	a, err := modal(ctx, func() (pinAnswer, error) {
		for {
			start := time.Now()
			a, err := credPrompt(msg)
			if err != nil || time.Since(start) >= winSettle {
				return a, err
			}
			clear(a.pin) // sent as the dialog appeared: ask again
		}
	})
	return a.pin, a.save, err
}

// credPrompt shows the credential dialog and unpacks the password field.
func credPrompt(message string) (pinAnswer, error) {
	info := credUIInfo{message: wide(message), caption: wide("podpis: PIN-код токена")}
	info.size = uint32(unsafe.Sizeof(info))
	var pkg uint32
	var out unsafe.Pointer
	var outSize uint32
	var save int32
	r, _, _ := procPromptCredentials.Call(uintptr(unsafe.Pointer(&info)), 0, uintptr(unsafe.Pointer(&pkg)), 0, 0,
		uintptr(unsafe.Pointer(&out)), uintptr(unsafe.Pointer(&outSize)), uintptr(unsafe.Pointer(&save)),
		creduiwinGeneric|creduiwinCheckbox)
	if r == errorCancelled {
		return pinAnswer{}, keystore.ErrCancelled
	}
	if r != 0 {
		return pinAnswer{}, fmt.Errorf("%w: CredUIPromptForWindowsCredentials: %d", ErrNoDialog, r)
	}
	defer func() {
		clear(unsafe.Slice((*byte)(out), outSize))
		windows.CoTaskMemFree(out)
	}()
	var user, domain, pass [256]uint16
	userLen, domainLen, passLen := uint32(len(user)), uint32(len(domain)), uint32(len(pass))
	ok, _, err := procUnPackAuthBuffer.Call(0, uintptr(out), uintptr(outSize),
		uintptr(unsafe.Pointer(&user[0])), uintptr(unsafe.Pointer(&userLen)),
		uintptr(unsafe.Pointer(&domain[0])), uintptr(unsafe.Pointer(&domainLen)),
		uintptr(unsafe.Pointer(&pass[0])), uintptr(unsafe.Pointer(&passLen)))
	if ok == 0 {
		return pinAnswer{}, fmt.Errorf("%w: CredUnPackAuthenticationBuffer: %v", ErrNoDialog, err)
	}
	pin := utf8Of(pass[:passLen])
	clear(pass[:])
	if len(pin) == 0 {
		return pinAnswer{}, keystore.ErrCancelled
	}
	return pinAnswer{pin: pin, save: save != 0}, nil
}

// utf8Of encodes UTF-16 as UTF-8 straight into a byte slice, so that the
// PIN is never a Go string (windows.UTF16ToString would make it one).
func utf8Of(s []uint16) []byte {
	out := make([]byte, 0, 4*len(s)) // no growth: no copies left behind
	for i := 0; i < len(s) && s[i] != 0; i++ {
		r := rune(s[i])
		if utf16.IsSurrogate(r) && i+1 < len(s) {
			r = utf16.DecodeRune(r, rune(s[i+1]))
			i++
		}
		out = utf8.AppendRune(out, r)
	}
	return out
}
