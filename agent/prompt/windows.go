//go:build windows

package prompt

import (
	"context"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
	"golang.org/x/sys/windows"
)

// Windows asks with the system's own dialogs: MessageBox for the
// questions, and the credential prompt for the PIN, whose «Сохранить»
// checkbox is «Сохранить пароль».
type Windows struct{}

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

func utf16(s string) *uint16 {
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

func (w *Windows) ConfirmOrigin(ctx context.Context, origin string) (agent.Decision, error) {
	text := fmt.Sprintf("Сайт %s запрашивает доступ к сертификатам. Разрешить?\n\n"+
		"«Да» — разрешить всегда\n«Нет» — только сейчас\n«Отмена» — запретить", origin)
	return modal(ctx, func() (agent.Decision, error) {
		r, err := windows.MessageBox(0, utf16(text), utf16("podpis"), windows.MB_YESNOCANCEL|windows.MB_ICONQUESTION|windows.MB_TOPMOST|windows.MB_SETFOREGROUND)
		switch r {
		case idYes:
			return agent.AllowAlways, nil
		case idNo:
			return agent.AllowOnce, nil
		}
		return agent.Deny, err
	})
}

func (w *Windows) ConfirmSign(ctx context.Context, origin string, cert *keystore.Certificate, what agent.SignSummary) (bool, error) {
	text := fmt.Sprintf("Сайт %s просит подписать документ.\n\nОписание (со слов сайта): %s\nРазмер: %d байт\n"+
		"Хэш (Стрибог-256): %s\n\nСертификат: %s\n\nПодписать?", origin, what.Description, what.Size, what.Streebog, cert.Identity.CommonName)
	return modal(ctx, func() (bool, error) {
		r, err := windows.MessageBox(0, utf16(text), utf16("podpis"), windows.MB_OKCANCEL|windows.MB_ICONWARNING|windows.MB_TOPMOST|windows.MB_SETFOREGROUND)
		return r == idOK, err
	})
}

type pinAnswer struct {
	pin  []byte
	save bool
}

func (w *Windows) PIN(ctx context.Context, origin string, req keystore.PINRequest) ([]byte, bool, error) {
	msg := fmt.Sprintf("Сайт %s просит подписать вход.\nСертификат: %s\nТокен: %s\nВведите PIN-код в поле пароля.",
		origin, req.Certificate.Identity.CommonName, req.Token)
	if req.FinalTry {
		msg += "\n\nПоследняя попытка: после неверного PIN-кода токен будет заблокирован."
	}
	a, err := modal(ctx, func() (pinAnswer, error) { return credPrompt(msg) })
	return a.pin, a.save, err
}

// credPrompt shows the credential dialog and unpacks the password field.
func credPrompt(message string) (pinAnswer, error) {
	info := credUIInfo{message: utf16(message), caption: utf16("podpis: PIN-код токена")}
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
	pin := []byte(windows.UTF16ToString(pass[:passLen]))
	clear(pass[:])
	if len(pin) == 0 {
		return pinAnswer{}, keystore.ErrCancelled
	}
	return pinAnswer{pin: pin, save: save != 0}, nil
}
