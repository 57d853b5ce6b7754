package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podpis/podpis/internal/testdeps"
)

// TestInstallCommand: install, run again, doctor sees the trust, uninstall
// leaves the home folder as it found it.
func TestInstallCommand(t *testing.T) {
	testdeps.Need(t, "certutil")
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("PODPIS_DATA_DIR", filepath.Join(home, "data"))
	t.Setenv("PODPIS_CONFIG", filepath.Join(home, "data", "config.json"))
	profile := filepath.Join(home, ".mozilla", "firefox", "k2.default-release")
	os.MkdirAll(profile, 0o700)
	if out, err := exec.Command("certutil", "-N", "-d", "sql:"+profile, "--empty-password").CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}

	out, errOut, code := runCLI(t, "install")
	if code != 0 || strings.Count(out, "добавлен в доверенные") != 2 {
		t.Fatalf("install: exit %d\n%s%s", code, out, errOut)
	}
	hostManifest := filepath.Join(home, ".config", "chromium", "NativeMessagingHosts", "ru.podpis.agent.json")
	exe, _ := os.Executable()
	exe, _ = filepath.EvalSymlinks(exe)
	if b, err := os.ReadFile(hostManifest); err != nil || !strings.Contains(string(b), `"path": "`+exe+`"`) {
		t.Errorf("native messaging host manifest: %v %s", err, b)
	}
	if strings.Count(out, "расширение podpis может обращаться к podpis") != 5 {
		t.Errorf("install, native messaging:\n%s", out)
	}
	if out, _, code = runCLI(t, "install"); code != 0 || strings.Count(out, "уже доверяет") != 2 {
		t.Fatalf("second install: exit %d\n%s", code, out)
	}
	entry := filepath.Join(home, ".config", "autostart", "podpis.desktop")
	if b, err := os.ReadFile(entry); err != nil || !strings.Contains(string(b), " run --autostart") {
		t.Errorf("no autostart entry: %v %s", err, b)
	}
	trusted := func() (n int, codes string) {
		out, _, _ := runCLI(t, "doctor", "--json", "--module", tokenEnv.SoftToken, "--no-known-modules", "--agent", silentAddr(t))
		var r struct {
			TLSTrust []struct{ Trusted bool }
			Report   struct{ Findings []struct{ Code string } }
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		for _, s := range r.TLSTrust {
			if s.Trusted {
				n++
			}
		}
		for _, f := range r.Report.Findings {
			codes += f.Code + " "
		}
		return n, codes
	}
	if n, codes := trusted(); n != 2 || strings.Contains(codes, "TLS_") {
		t.Errorf("doctor after install: %d stores trust, findings %s", n, codes)
	}
	if out, _, code = runCLI(t, "uninstall"); code != 0 || strings.Count(out, "удалён") != 2 {
		t.Fatalf("uninstall: exit %d\n%s", code, out)
	}
	if n, codes := trusted(); n != 0 || !strings.Contains(codes, "TLS_NOT_TRUSTED") {
		t.Errorf("doctor after uninstall: %d stores trust, findings %s", n, codes)
	}
	if _, err := os.Stat(filepath.Join(home, ".config", "chromium")); !os.IsNotExist(err) {
		t.Errorf("native messaging host manifest left behind: %v", err)
	}
	if _, err := os.Stat(entry); !os.IsNotExist(err) {
		t.Errorf("autostart entry left behind: %v", err)
	}
	if _, err := os.Stat(filepath.Join(home, ".pki")); !os.IsNotExist(err) {
		t.Errorf("~/.pki left behind: %v", err)
	}
}
