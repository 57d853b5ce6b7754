package windows

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/podpis/podpis/internal/testwine"
)

const (
	runKey       = `HKCU\Software\Microsoft\Windows\CurrentVersion\Run`
	uninstallKey = `HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\podpis`
	rootKey      = `HKCU\Software\Microsoft\SystemCertificates\Root\Certificates\`
	hostName     = "ru.podpis.agent"
)

// hostKeys are the browsers' HKCU keys podpis install points at its
// native-messaging manifests (installer/nativemsg), and which manifest.
var hostKeys = map[string]string{
	`HKCU\Software\Chromium\NativeMessagingHosts\` + hostName:             "chrome",
	`HKCU\Software\Google\Chrome\NativeMessagingHosts\` + hostName:        "chrome",
	`HKCU\Software\Yandex\YandexBrowser\NativeMessagingHosts\` + hostName: "chrome",
	`HKCU\Software\Microsoft\Edge\NativeMessagingHosts\` + hostName:       "chrome",
	`HKCU\Software\Mozilla\NativeMessagingHosts\` + hostName:              "firefox",
}

// TestInstallUnderWine installs podpis-setup-1.2.3.exe silently (/S) in a
// throwaway Wine prefix, as a person without administrator rights would:
// the program files under %LOCALAPPDATA%\Programs\podpis, the HKCU Run
// value, the Start-menu shortcut, the Add/Remove entry, and what the
// installer's podpis install adds — the local CA in the user's Root store,
// the native-messaging host keys. Installed again over a running agent
// (an upgrade), it ends the agent. The uninstaller (silent) then takes all
// of it away — the agent's own files and logs too — and nothing else:
// another program's Run value and host key, another CA of podpis's name,
// and the person's settings stay.
func TestInstallUnderWine(t *testing.T) {
	p := testwine.Shared(t)
	setup, _ := buildSetup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	home := `C:\users\` + u.Username
	instWin := home + `\AppData\Local\Programs\podpis`
	inst := p.Path(instWin)
	data := p.Path(home + `\AppData\Roaming\podpis`)
	cache := p.Path(home + `\AppData\Local\podpis`)
	shortcut := p.Path(home + `\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\podpis.lnk`)

	reg := func(args ...string) {
		t.Helper()
		if out, err := p.Reg(ctx, args...); err != nil {
			t.Fatalf("reg %v: %v\n%s", args, err, out)
		}
	}
	// Bystanders: another program's logon start and native host.
	reg("add", runKey, "/v", "other-agent", "/d", `C:\other\agent.exe`, "/f")
	otherHost := `HKCU\Software\Google\Chrome\NativeMessagingHosts\ru.rtlabs.ifcplugin`
	reg("add", otherHost, "/ve", "/d", `C:\other\ifcplugin.json`, "/f")

	out, err := p.Run(ctx, "wine", setup, "/S")
	if err != nil {
		t.Fatalf("setup /S: %v\n%s", err, out)
	}
	t.Logf("setup /S:\n%s", out)

	// The demo soft token is not for end users: podpis-ui draws the windows.
	if _, err := os.Stat(filepath.Join(inst, "podpis-softtoken.dll")); err == nil {
		t.Error("the installer ships the demo soft token")
	}
	for _, f := range []string{"podpis.exe", "podpis-ui.exe", "podpis.ico", "uninstall.exe"} {
		b, err := os.ReadFile(filepath.Join(inst, f))
		if err != nil || len(b) == 0 {
			t.Errorf("%s not installed: %v", f, err)
		} else if strings.HasSuffix(f, ".exe") || strings.HasSuffix(f, ".dll") {
			if string(b[:2]) != "MZ" {
				t.Errorf("%s is not a Windows program", f)
			}
		}
	}
	exe := instWin + `\podpis.exe`
	if got, ok := p.RegValue(ctx, runKey, "podpis"); got != `"`+exe+`" run --autostart` {
		t.Errorf("Run value podpis = %q (%v)", got, ok)
	}
	for name, want := range map[string]string{
		"DisplayName": "podpis", "DisplayVersion": "1.2.3", "Publisher": "podpis developers",
		"InstallLocation": instWin, "UninstallString": `"` + instWin + `\uninstall.exe"`, "DisplayIcon": instWin + `\podpis.ico`,
		"NoModify": "0x1", "NoRepair": "0x1",
	} {
		if got, _ := p.RegValue(ctx, uninstallKey, name); got != want {
			t.Errorf("Add/Remove %s = %q, want %q", name, got, want)
		}
	}
	if lnk, err := os.ReadFile(shortcut); err != nil {
		t.Errorf("Start-menu shortcut: %v", err)
	} else if !bytes.Contains(lnk, utf16le(exe)) && !bytes.Contains(lnk, []byte(exe)) {
		t.Errorf("the shortcut does not start %s", exe)
	}

	caThumb := thumbprint(t, filepath.Join(data, "localca.pem"))
	if !p.RegKeyExists(ctx, rootKey+caThumb) {
		t.Errorf("the local CA %s is not in the user's Root store", caThumb)
	}
	for key, kind := range hostKeys {
		manifest, ok := p.RegValue(ctx, key, "")
		if want := home + `\AppData\Roaming\podpis\` + hostName + "." + kind + ".json"; manifest != want {
			t.Errorf("%s = %q (%v), want %s", key, manifest, ok, want)
			continue
		}
		var m struct{ Path string }
		if b, err := os.ReadFile(p.Path(manifest)); err != nil || json.Unmarshal(b, &m) != nil || m.Path != exe {
			t.Errorf("%s: the manifest does not start %s: %v %+v", manifest, exe, err, m)
		}
	}

	// An upgrade over a running agent: on Windows its podpis.exe cannot be
	// overwritten while it runs, so the installer ends it — though a
	// headless agent (or one in the tray) has no window to ask.
	agentLog := filepath.Join(t.TempDir(), "agent.log")
	f, err := os.Create(agentLog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	agent := p.Wine(ctx, exe, "run", "--headless", "--listen", "127.0.0.1:0")
	agent.Stdout, agent.Stderr = f, f
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- agent.Wait() }()
	waitForLine(t, agentLog, "listening on", exited)
	if out, err := p.Run(ctx, "wine", setup, "/S"); err != nil {
		t.Fatalf("setup /S over a running agent: %v\n%s", err, out)
	}
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		agent.Process.Kill()
		<-exited
		t.Error("the installer left the running agent, whose files Windows keeps from being replaced")
	}
	if got, _ := p.RegValue(ctx, uninstallKey, "DisplayVersion"); got != "1.2.3" {
		t.Errorf("after the upgrade, DisplayVersion = %q", got)
	}

	// Another CA of podpis's name (another data folder: another person's
	// install, a renewed CA) and the person's settings: not ours to remove.
	bystander := home + `\bystander`
	t.Setenv("PODPIS_DATA_DIR", bystander)
	if out, err := p.Run(ctx, "wine", exe, "install", "--no-autostart"); err != nil {
		t.Fatalf("podpis install for the bystander CA: %v\n%s", err, out)
	}
	t.Setenv("PODPIS_DATA_DIR", "")
	os.Unsetenv("PODPIS_DATA_DIR")
	otherCA := thumbprint(t, filepath.Join(p.Path(bystander), "localca.pem"))
	settings := filepath.Join(data, "config.json")
	os.WriteFile(settings, []byte(`{"trustedOrigins":["https://esia.gosuslugi.ru"]}`), 0o600)
	os.MkdirAll(cache, 0o700)
	for _, f := range []string{"podpis.log", "podpis.log.1"} {
		os.WriteFile(filepath.Join(cache, f), []byte("agent log\n"), 0o600)
	}

	// The uninstaller copies itself to %TEMP% and returns at once: wait
	// for the copy with wineserver -w.
	if out, err := p.Run(ctx, "wine", instWin+`\uninstall.exe`, "/S"); err != nil {
		t.Fatalf("uninstall /S: %v\n%s", err, out)
	}
	if out, err := p.Run(ctx, "wineserver", "-w"); err != nil {
		t.Fatalf("wineserver -w: %v\n%s", err, out)
	}

	if _, err := os.Stat(inst); !os.IsNotExist(err) {
		left, _ := os.ReadDir(inst)
		t.Errorf("%s is still there: %v", instWin, names(left))
	}
	if got, ok := p.RegValue(ctx, runKey, "podpis"); ok {
		t.Errorf("Run value podpis left: %q", got)
	}
	if p.RegKeyExists(ctx, uninstallKey) {
		t.Error("the Add/Remove entry is left")
	}
	if _, err := os.Stat(shortcut); !os.IsNotExist(err) {
		t.Error("the Start-menu shortcut is left")
	}
	if p.RegKeyExists(ctx, rootKey+caThumb) {
		t.Errorf("the local CA %s is still in the user's Root store", caThumb)
	}
	for key := range hostKeys {
		if p.RegKeyExists(ctx, key) {
			t.Errorf("%s is left", key)
		}
	}
	left, _ := os.ReadDir(data)
	if got := names(left); len(got) != 1 || got[0] != "config.json" {
		t.Errorf("the data folder holds %v, want the person's config.json alone", got)
	}
	if _, err := os.Stat(cache); !os.IsNotExist(err) {
		left, _ := os.ReadDir(cache)
		t.Errorf("the log folder is still there: %v", names(left))
	}

	if got, _ := p.RegValue(ctx, runKey, "other-agent"); got != `C:\other\agent.exe` {
		t.Errorf("another program's Run value was touched: %q", got)
	}
	if got, _ := p.RegValue(ctx, otherHost, ""); got != `C:\other\ifcplugin.json` {
		t.Errorf("another program's native host was touched: %q", got)
	}
	if !p.RegKeyExists(ctx, rootKey+otherCA) {
		t.Error("another CA of podpis's name was taken out of the Root store")
	}
}

// waitForLine waits until the file holds line, failing if the process
// exits first or 30 s pass.
func waitForLine(t *testing.T, path, line string, exited <-chan error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(line)) {
			return
		}
		select {
		case err := <-exited:
			b, _ := os.ReadFile(path)
			t.Fatalf("the agent exited (%v) before %q:\n%s", err, line, b)
		case <-time.After(200 * time.Millisecond):
		}
	}
	b, _ := os.ReadFile(path)
	t.Fatalf("no %q in 30 s:\n%s", line, b)
}

// thumbprint is the SHA-1 of a PEM certificate as the registry names it.
func thumbprint(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the local CA: %v", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", path)
	}
	sum := sha1.Sum(blk.Bytes)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

func utf16le(s string) []byte {
	var b []byte
	for _, r := range utf16.Encode([]rune(s)) {
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}

func names(es []os.DirEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}
