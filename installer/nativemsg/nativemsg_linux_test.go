package nativemsg

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestChromeExtensionID(t *testing.T) {
	if id := ChromeExtensionID(); !regexp.MustCompile(`^[a-p]{32}$`).MatchString(id) {
		t.Fatalf("extension id %q", id)
	}
}

// files lists every file under dir.
func files(t *testing.T, dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	})
	slices.Sort(out)
	return out
}

// TestInstallUninstall: install writes exactly the five manifests with
// exactly their content; uninstall removes them and the folders install
// created, and leaves what was there before (another host's manifest, a
// browser's own folder) as it was.
func TestInstallUninstall(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	data := filepath.Join(home, "data")
	os.Mkdir(data, 0o700)
	// Chrome is in use: its folder, and another host's manifest, exist.
	other := filepath.Join(home, ".config", "google-chrome", "NativeMessagingHosts", "com.other.host.json")
	os.MkdirAll(filepath.Dir(other), 0o700)
	os.WriteFile(other, []byte(`{"name":"com.other.host"}`), 0o644)
	prefs := filepath.Join(home, ".config", "chromium", "Default", "Preferences")
	os.MkdirAll(filepath.Dir(prefs), 0o700)
	os.WriteFile(prefs, []byte("{}"), 0o600)
	before := files(t, home)

	const exe = "/opt/podpis/bin/podpis"
	r, err := LoadRecord(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range r.Install(exe) {
		if res.Err != nil {
			t.Fatalf("%s: %v", res.Browser, res.Err)
		}
	}
	chrome := `{
  "allowed_origins": [
    "chrome-extension://` + ChromeExtensionID() + `/"
  ],
  "description": "podpis: вход и подпись по сертификату",
  "name": "ru.podpis.agent",
  "path": "/opt/podpis/bin/podpis",
  "type": "stdio"
}
`
	firefox := `{
  "allowed_extensions": [
    "agent@podpis.ru"
  ],
  "description": "podpis: вход и подпись по сертификату",
  "name": "ru.podpis.agent",
  "path": "/opt/podpis/bin/podpis",
  "type": "stdio"
}
`
	want := map[string]string{
		filepath.Join(home, ".config/chromium/NativeMessagingHosts/ru.podpis.agent.json"):       chrome,
		filepath.Join(home, ".config/google-chrome/NativeMessagingHosts/ru.podpis.agent.json"):  chrome,
		filepath.Join(home, ".config/yandex-browser/NativeMessagingHosts/ru.podpis.agent.json"): chrome,
		filepath.Join(home, ".config/microsoft-edge/NativeMessagingHosts/ru.podpis.agent.json"): chrome,
		filepath.Join(home, ".mozilla/native-messaging-hosts/ru.podpis.agent.json"):             firefox,
	}
	wantFiles := append(slices.Clone(before), filepath.Join(data, RecordFile))
	for p, content := range want {
		wantFiles = append(wantFiles, p)
		b, err := os.ReadFile(p)
		if err != nil || string(b) != content {
			t.Errorf("%s: %v\n%s", p, err, b)
		}
		var m map[string]any
		if json.Unmarshal(b, &m) != nil {
			t.Errorf("%s is not JSON", p)
		}
	}
	slices.Sort(wantFiles)
	if got := files(t, home); !reflect.DeepEqual(got, wantFiles) {
		t.Fatalf("after install:\n%q\nwant\n%q", got, wantFiles)
	}
	// Installing again changes nothing and records nothing twice.
	r2, _ := LoadRecord(data)
	r2.Install(exe)
	if got := files(t, home); !reflect.DeepEqual(got, wantFiles) {
		t.Fatalf("after a second install:\n%q", got)
	}

	r3, err := LoadRecord(data)
	if err != nil || len(r3.Files) != 5 {
		t.Fatalf("record: %v %+v", err, r3)
	}
	for _, res := range r3.Uninstall() {
		if res.Err != nil {
			t.Fatalf("%s: %v", res.Browser, res.Err)
		}
	}
	if got := files(t, home); !reflect.DeepEqual(got, before) {
		t.Fatalf("after uninstall:\n%q\nwant\n%q", got, before)
	}
	for _, d := range []string{".config/yandex-browser", ".config/microsoft-edge", ".mozilla", ".config/chromium/NativeMessagingHosts"} {
		if _, err := os.Stat(filepath.Join(home, d)); !os.IsNotExist(err) {
			t.Errorf("%s left behind: %v", d, err)
		}
	}
	if _, err := os.Stat(filepath.Join(home, ".config/google-chrome/NativeMessagingHosts")); err != nil {
		t.Errorf("Chrome's own folder went away: %v", err)
	}
}

// A folder install created that something else has used since stays.
func TestUninstallKeepsUsedFolder(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	r, _ := LoadRecord(home)
	r.Install("/usr/bin/podpis")
	mine := filepath.Join(home, ".mozilla", "native-messaging-hosts", "org.other.json")
	os.WriteFile(mine, []byte("{}"), 0o644)
	r.Uninstall()
	if _, err := os.Stat(mine); err != nil {
		t.Fatalf("another host's manifest went away: %v", err)
	}
	if _, err := os.Stat(filepath.Join(home, ".mozilla", "native-messaging-hosts", Name+".json")); !os.IsNotExist(err) {
		t.Fatalf("ours stayed: %v", err)
	}
}

// TestDebManifests: the package's system-wide manifests are what install
// writes per user, for /usr/bin/podpis, and nfpm installs each one where
// its browser looks.
func TestDebManifests(t *testing.T) {
	for file, want := range map[string][]byte{
		"chromium.json": ChromeManifest("/usr/bin/podpis"),
		"firefox.json":  FirefoxManifest("/usr/bin/podpis"),
	} {
		got, err := os.ReadFile(filepath.Join("..", "linux", "native-messaging", file))
		if err != nil || string(got) != string(want) {
			t.Errorf("%s: %v\n%s\nwant\n%s", file, err, got, want)
		}
	}
	nfpm, err := os.ReadFile("../linux/nfpm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"src: installer/linux/native-messaging/chromium.json\n    dst: /etc/chromium/native-messaging-hosts/" + Name + ".json",
		"src: installer/linux/native-messaging/chromium.json\n    dst: /etc/opt/chrome/native-messaging-hosts/" + Name + ".json",
		"src: installer/linux/native-messaging/chromium.json\n    dst: /etc/opt/edge/native-messaging-hosts/" + Name + ".json",
		"src: installer/linux/native-messaging/firefox.json\n    dst: /usr/lib/mozilla/native-messaging-hosts/" + Name + ".json",
	} {
		if !strings.Contains(string(nfpm), line) {
			t.Errorf("nfpm.yaml lacks\n%s", line)
		}
	}
}
