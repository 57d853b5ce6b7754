// Package autostart starts podpis when the person logs in — per user,
// never as a system service: a service in session 0 (or a system unit
// without the person's display) can show neither a tray icon nor a PIN
// dialog. The tray's «Автозапуск» switches it.
package autostart

// Method names how podpis is started at logon, for doctor and the tray.
type Method string

const (
	SystemdUser Method = "systemd --user" // Linux with a user manager
	XDG         Method = "XDG autostart"  // other Linux desktops
	RunKey      Method = "HKCU\\...\\Run" // Windows
	None        Method = ""
)

// Starter is the set-up of one OS.
type Starter interface {
	Method() Method
	Enable() error
	Disable() error
	Remove() error
}
