package uiproto

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// ErrNoProgram: podpis-ui is not installed where podpis looks for it.
var ErrNoProgram = errors.New("uiproto: podpis-ui not found")

// Program finds podpis-ui for the agent and podpis settings:
// $PODPIS_UI (tests, developers), else next to the running executable
// (where the packages install both), else on PATH.
func Program() (string, error) {
	if p := os.Getenv("PODPIS_UI"); p != "" {
		return p, nil
	}
	name := "podpis-ui"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoProgram, err)
	}
	return p, nil
}

// Env is env (nil: this process's) as podpis-ui must get it. Fyne
// parses the locale before any of podpis-ui's code runs and complains on
// stderr of "C" and "C.UTF-8", the locales of services, containers and
// many autostarts: those are dropped, and LANG becomes ru_RU.UTF-8 (the
// windows are in Russian whatever the locale).
func Env(env []string) []string {
	if env == nil {
		env = os.Environ()
	}
	out := make([]string, 0, len(env)+1)
	lang := false
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "LC_ALL", "LC_MESSAGES", "LANG":
			if name, _, _ := strings.Cut(strings.SplitN(v, "@", 2)[0], "."); name == "" || name == "C" || name == "POSIX" {
				continue
			}
			lang = lang || k == "LANG"
		}
		out = append(out, kv)
	}
	if !lang {
		out = append(out, "LANG=ru_RU.UTF-8")
	}
	return out
}
