package tray

import (
	"os"
	"path/filepath"
	"runtime"
)

// Available reports whether an icon can be shown: a desktop session with a
// session bus, where a StatusNotifierItem host may show it (Windows always
// has its notification area). PODPIS_NO_TRAY turns the icon off. Without
// one the agent runs without an icon.
func Available() bool {
	if os.Getenv("PODPIS_NO_TRAY") != "" {
		return false
	}
	if runtime.GOOS == "windows" {
		return true
	}
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return false
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		return true
	}
	_, err := os.Stat(filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), "bus"))
	return os.Getenv("XDG_RUNTIME_DIR") != "" && err == nil
}
