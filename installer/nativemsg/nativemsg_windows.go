package nativemsg

import (
	"errors"
	"path/filepath"

	"golang.org/x/sys/windows/registry"
)

// keys are the per-user registry keys each browser reads the host
// manifest's path from (HKCU), and which manifest it takes.
var keys = []struct {
	browser string
	key     string
	firefox bool
}{
	{"Chromium", `Software\Chromium\NativeMessagingHosts\` + Name, false},
	{"Google Chrome", `Software\Google\Chrome\NativeMessagingHosts\` + Name, false},
	{"Яндекс Браузер", `Software\Yandex\YandexBrowser\NativeMessagingHosts\` + Name, false},
	{"Microsoft Edge", `Software\Microsoft\Edge\NativeMessagingHosts\` + Name, false},
	{"Firefox", `Software\Mozilla\NativeMessagingHosts\` + Name, true},
}

// Install writes the two manifests next to the record (the agent's data
// folder) and points each browser's HKCU key at the right one.
func (r *Record) Install(exe string) []Result {
	dir := filepath.Dir(r.path)
	chrome, firefox := filepath.Join(dir, Name+".chrome.json"), filepath.Join(dir, Name+".firefox.json")
	if err := r.writeFile(chrome, ChromeManifest(exe)); err != nil {
		return []Result{{Browser: "браузеры", Path: chrome, Err: err}}
	}
	if err := r.writeFile(firefox, FirefoxManifest(exe)); err != nil {
		return []Result{{Browser: "Firefox", Path: firefox, Err: err}}
	}
	var out []Result
	for _, k := range keys {
		m := chrome
		if k.firefox {
			m = firefox
		}
		key, _, err := registry.CreateKey(registry.CURRENT_USER, k.key, registry.SET_VALUE)
		if err == nil {
			err = key.SetStringValue("", m)
			key.Close()
		}
		if err == nil && !contains(r.Keys, k.key) {
			r.Keys = append(r.Keys, k.key)
		}
		out = append(out, Result{Browser: k.browser, Path: `HKCU\` + k.key, Err: err})
	}
	if err := r.save(); err != nil {
		out = append(out, Result{Browser: "запись установки", Path: r.path, Err: err})
	}
	return out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func browserOf(path string) string { return path }

func (r *Record) removeKeys() []Result {
	var out []Result
	var left []string
	for _, k := range r.Keys {
		err := registry.DeleteKey(registry.CURRENT_USER, k)
		if errors.Is(err, registry.ErrNotExist) {
			err = nil
		}
		if err != nil {
			left = append(left, k)
		}
		name := k
		for _, kk := range keys {
			if kk.key == k {
				name = kk.browser
			}
		}
		out = append(out, Result{Browser: name, Path: `HKCU\` + k, Err: err})
	}
	r.Keys = left
	return out
}
