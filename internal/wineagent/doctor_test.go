package wineagent

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestVersionConsole: podpis.exe's output reaches whoever ran it, for the
// console build and for the -H windowsgui build the installer ships (a GUI
// program, which writes only through the handles it was given or the
// console it attaches to: cmd/podpis/console_windows.go), both written to
// a file and from cmd.exe.
func TestVersionConsole(t *testing.T) {
	p, b := build(t)
	for _, exe := range []string{b.exe, b.guiExe} {
		name := filepath.Base(exe)
		if out, code := wine(t, p, "", nil, exe, "version"); code != 0 || strings.TrimSpace(out) != "podpis "+version {
			t.Errorf("%s version: exit %d: %q", name, code, out)
		}
		out, code := wine(t, p, filepath.Dir(exe), nil, "cmd", "/c", name, "version")
		if code != 0 || !strings.Contains(out, "podpis "+version) {
			t.Errorf("cmd /c %s version: exit %d: %q", name, code, out)
		}
		// doctor's report, the longest output, arrives whole.
		r := doctor(t, p, "", agentEnv(t, t.TempDir()), exe, "--no-known-modules")
		if r.Version != version {
			t.Errorf("%s doctor --json: version %q", name, r.Version)
		}
	}
}

// TestDoctorNoProvider: on a Windows with no CSP and no token driver at
// all, doctor says «Не установлен криптопровайдер» — not that each of the
// four vendors' modules is installed and broken («не загружается …
// Переустановите»), which is what a bare DLL name that LoadLibrary cannot
// find looked like — and names the Windows it runs on, not the Linux
// host's os-release that Wine shows through.
func TestDoctorNoProvider(t *testing.T) {
	p, b := build(t)
	r := doctor(t, p, "", agentEnv(t, t.TempDir()), b.exe)
	for _, m := range r.Report.Modules {
		t.Errorf("module reported on a machine with none: %+v", m)
	}
	if _, _, ok := r.finding("MODULE_NOT_LOADABLE"); ok {
		t.Errorf("an absent module taken for a broken one: %+v", r.Report.Findings)
	}
	if title, _, ok := r.finding("NO_PROVIDER"); !ok || title != "Не установлен криптопровайдер" {
		t.Errorf("no NO_PROVIDER: %+v", r.Report.Findings)
	}
	checkOS(t, p, r.Report.OS)
}

// checkOS: the system is named from Windows' own version (cmd's ver
// prints the same numbers from the same API), and never from os-release.
func checkOS(t *testing.T, p interface {
	Run(context.Context, string, ...string) ([]byte, error)
}, osName string) {
	t.Helper()
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		if m := regexp.MustCompile(`(?m)^PRETTY_NAME="?([^"\n]+)`).FindSubmatch(b); m != nil && strings.Contains(osName, string(m[1])) {
			t.Errorf("doctor names the Linux host: %q", osName)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ver, err := p.Run(ctx, "wine", "cmd", "/c", "ver")
	m := regexp.MustCompile(`(\d+\.\d+\.\d+)`).FindSubmatch(ver)
	if err != nil || m == nil {
		t.Fatalf("cmd /c ver: %v: %s", err, ver)
	}
	if !strings.Contains(osName, "Windows") || !strings.Contains(osName, "("+string(m[1])) || !strings.Contains(osName, "Wine") || !strings.HasSuffix(osName, "windows/amd64)") {
		t.Errorf("doctor's system %q; Windows says %s", osName, m[1])
	}
}

// TestDoctorBrokenModule: a file where Rutoken's installer puts
// rtPKCS11ECP.dll (System32) that is not a DLL is "installed but failing
// to load", with the reason and the fix, and not «Не установлен
// криптопровайдер».
func TestDoctorBrokenModule(t *testing.T) {
	p, b := build(t)
	bad := p.Path(`C:\windows\system32\rtPKCS11ECP.dll`)
	if err := os.WriteFile(bad, []byte("an interrupted installation\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(bad)
	r := doctor(t, p, "", agentEnv(t, t.TempDir()), b.exe)
	var found bool
	for _, m := range r.Report.Modules {
		if m.Name != "Rutoken" {
			t.Errorf("module reported that is not installed: %+v", m)
			continue
		}
		found = true
		if !m.Found || m.Loaded || !strings.Contains(m.Error, "not a DLL") || !strings.EqualFold(m.File, `C:\windows\system32\rtPKCS11ECP.dll`) {
			t.Errorf("the broken Rutoken module: %+v", m)
		}
	}
	if !found {
		t.Fatalf("the broken Rutoken module is not reported: %+v", r.Report.Modules)
	}
	if title, _, ok := r.finding("MODULE_NOT_LOADABLE"); !ok || title != "Модуль Rutoken не загружается" {
		t.Errorf("no MODULE_NOT_LOADABLE for Rutoken: %+v", r.Report.Findings)
	}
	if _, _, ok := r.finding("NO_PROVIDER"); ok {
		t.Errorf("an installed, failing module reported as no provider: %+v", r.Report.Findings)
	}
}

// TestPlantedModuleNotLoaded: a rtPKCS11ECP.dll next to podpis.exe in the
// folder it is started from (Downloads, with a portable copy) is not
// loaded into podpis: LoadLibrary with a bare name would take it before
// System32's, and whoever planted it would sign in the person's name.
// The planted DLL is a working PKCS#11 module (the soft token), so a
// podpis that loads it would list its token.
func TestPlantedModuleNotLoaded(t *testing.T) {
	p, b := build(t)
	downloads := t.TempDir()
	for src, dst := range map[string]string{b.exe: "podpis.exe", b.dll: "rtPKCS11ECP.dll"} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(downloads, dst), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tk := newToken(t)
	r := doctor(t, p, downloads, agentEnv(t, tk.dir), filepath.Join(downloads, "podpis.exe"))
	if len(r.Report.Modules) != 0 || len(r.Report.Certificates) != 0 || r.Report.Ready {
		t.Errorf("a module planted in the current and program folder was loaded: %+v", r.Report.Modules)
	}
	if _, _, ok := r.finding("NO_PROVIDER"); !ok {
		t.Errorf("no NO_PROVIDER: %+v", r.Report.Findings)
	}
}
