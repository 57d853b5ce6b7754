package wineagent

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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

// TestDoctorBrokenModule: a rtPKCS11ECP.dll in System32, where Rutoken's
// installer puts it, that does not load is "installed but failing to
// load", with the reason and «Переустановите…», and not «Не установлен
// криптопровайдер»: a file that is not a DLL (an interrupted
// installation), a DLL for 32-bit Windows (the x86 driver on a 64-bit
// system; here a 64-bit DLL whose header says i386), and a DLL that is no
// PKCS#11 module (the ProcessPrng stand-in).
func TestDoctorBrokenModule(t *testing.T) {
	p, b := build(t)
	dll, err := os.ReadFile(b.dll)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := os.ReadFile(p.Path(`C:\windows\system32\bcryptprimitives.dll`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		file []byte
		why  string
	}{
		{"not a DLL", []byte("an interrupted installation\n"), "not a DLL"},
		{"32-bit", machine(t, dll, 0x14c), "built for 32-bit Windows (i386)"},
		{"not PKCS#11", stranger, "not a PKCS#11 module"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := p.Path(`C:\windows\system32\rtPKCS11ECP.dll`)
			if err := os.WriteFile(bad, tc.file, 0o644); err != nil {
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
				if !m.Found || m.Loaded || !strings.Contains(m.Error, tc.why) || !strings.EqualFold(m.File, `C:\windows\system32\rtPKCS11ECP.dll`) {
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
		})
	}
}

// machine returns a copy of a PE file whose COFF header names another
// machine.
func machine(t *testing.T, pe []byte, m uint16) []byte {
	t.Helper()
	if len(pe) < 0x40 {
		t.Fatal("not a PE file")
	}
	off := int(binary.LittleEndian.Uint32(pe[0x3c:]))
	if len(pe) < off+6 || string(pe[off:off+4]) != "PE\x00\x00" {
		t.Fatal("no PE signature")
	}
	out := slices.Clone(pe)
	binary.LittleEndian.PutUint16(out[off+4:], m)
	return out
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

// TestDoctorRegisteredCSP: a GOST CSP registered with CryptoAPI (its
// provider entry in the registry, as CryptoPro's installer writes it)
// without its PKCS#11 module is not «Не установлен криптопровайдер»: the
// CSP is there, and what is missing is a certificate with its key in the
// «Личное» store.
func TestDoctorRegisteredCSP(t *testing.T) {
	p, b := build(t)
	const key = `HKLM\SOFTWARE\Microsoft\Cryptography\Defaults\Provider\Crypto-Pro GOST R 34.10-2012 Cryptographic Service Provider`
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := p.Run(ctx, "wine", "reg", "add", key, "/v", "Type", "/t", "REG_DWORD", "/d", "80", "/f"); err != nil {
		t.Fatalf("reg add: %v: %s", err, out)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		p.Run(ctx, "wine", "reg", "delete", key, "/f")
	}()
	r := doctor(t, p, "", agentEnv(t, t.TempDir()), b.exe)
	if _, _, ok := r.finding("NO_PROVIDER"); ok {
		t.Errorf("a registered CSP reported as none: %+v", r.Report.Findings)
	}
	if title, _, ok := r.finding("NO_CERTIFICATES"); !ok || !strings.HasPrefix(title, "Crypto-Pro GOST R 34.10-2012") {
		t.Errorf("no NO_CERTIFICATES naming the registered CSP: %+v", r.Report.Findings)
	}
}
