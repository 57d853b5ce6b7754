package prompt

import (
	"os"
	"os/exec"
	"runtime"
)

// NativeAvailable reports whether Native's dialogs can be shown here:
// always on Windows; elsewhere when zenity and a display exist. Where they
// cannot, the agent asks through its own page in the browser (Browser).
func NativeAvailable() bool {
	if runtime.GOOS == "windows" {
		return true
	}
	if _, err := exec.LookPath("zenity"); err != nil {
		return false
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}
