//go:build !windows

package nativemsg

import (
	"os"
	"path/filepath"
)

// target is one browser's per-user host manifest.
type target struct {
	browser string
	path    string
	firefox bool
}

// targets are the per-user manifest paths of each browser on Linux:
// Chromium-family browsers under their folder in XDG_CONFIG_HOME
// (~/.config), Firefox under ~/.mozilla.
func targets() ([]target, error) {
	cfg, err := os.UserConfigDir()
	if err != nil {
		return nil, err
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return nil, err
	}
	file := Name + ".json"
	return []target{
		{"Chromium", filepath.Join(cfg, "chromium", "NativeMessagingHosts", file), false},
		{"Google Chrome", filepath.Join(cfg, "google-chrome", "NativeMessagingHosts", file), false},
		{"Яндекс Браузер", filepath.Join(cfg, "yandex-browser", "NativeMessagingHosts", file), false},
		{"Microsoft Edge", filepath.Join(cfg, "microsoft-edge", "NativeMessagingHosts", file), false},
		{"Firefox", filepath.Join(home, ".mozilla", "native-messaging-hosts", file), true},
	}, nil
}

// Install writes the host manifest for every browser, naming exe (the
// podpis executable, which the browser starts with the extension's
// origin as its argument), and records what it wrote.
func (r *Record) Install(exe string) []Result {
	ts, err := targets()
	if err != nil {
		return []Result{{Browser: "браузеры", Err: err}}
	}
	var out []Result
	for _, t := range ts {
		b := ChromeManifest(exe)
		if t.firefox {
			b = FirefoxManifest(exe)
		}
		err := r.writeFile(t.path, b)
		out = append(out, Result{Browser: t.browser, Path: t.path, Err: err})
	}
	if err := r.save(); err != nil {
		out = append(out, Result{Browser: "запись установки", Path: r.path, Err: err})
	}
	return out
}

func browserOf(path string) string {
	ts, _ := targets()
	for _, t := range ts {
		if t.path == path {
			return t.browser
		}
	}
	return path
}

// removeKeys: no registry here.
func (r *Record) removeKeys() []Result { return nil }
