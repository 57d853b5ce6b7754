package autostart

import (
	"errors"
	"os"

	"golang.org/x/sys/windows/registry"
)

// Windows starts podpis at the person's logon through the Run value under
// HKCU, which the installer also writes; no service, no administrator.
type Windows struct {
	Exec string
}

// ForCurrentUser is the Windows set-up for this person.
func ForCurrentUser() (*Windows, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return &Windows{Exec: exe}, nil
}

const runKey = `Software\Microsoft\Windows\CurrentVersion\Run`

func (w *Windows) Method() Method {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if err != nil {
		return None
	}
	defer k.Close()
	if _, _, err := k.GetStringValue("podpis"); err != nil {
		return None
	}
	return RunKey
}

func (w *Windows) Enable() error {
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if err != nil {
		return err
	}
	defer k.Close()
	return k.SetStringValue("podpis", `"`+w.Exec+`" run --autostart`)
}

func (w *Windows) Disable() error {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if err != nil {
		return err
	}
	defer k.Close()
	if err := k.DeleteValue("podpis"); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return err
	}
	return nil
}

// Remove is Disable: the Run value is all there is.
func (w *Windows) Remove() error { return w.Disable() }
