// Package windows holds the Windows installer's NSIS script; this test
// builds it on Linux as make package does.
package windows

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/podpis/podpis/internal/testdeps"
	"github.com/podpis/podpis/internal/testwine"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testwine.Cleanup()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// TestInstallerCrossBuild: the per-user installer is built on Linux
// (mingw, makensis) and signed with osslsigncode; the signature verifies
// against the signing certificate.
func TestInstallerCrossBuild(t *testing.T) {
	setup, cert := buildSetup(t)
	b, err := os.ReadFile(setup)
	if err != nil || len(b) < 1<<20 || string(b[:2]) != "MZ" {
		t.Fatalf("installer: %v, %d bytes", err, len(b))
	}
	v, err := exec.Command("osslsigncode", "verify", "-CAfile", cert, "-in", setup).CombinedOutput()
	if err != nil || !strings.Contains(string(v), "Signature verification: ok") {
		t.Fatalf("osslsigncode verify: %v\n%s", err, v)
	}
	if !strings.Contains(string(v), "podpis test signing") {
		t.Errorf("signer not shown:\n%s", v)
	}
}

var built struct {
	once             sync.Once
	dir, setup, cert string
	err              error
}

// buildSetup builds podpis-setup-1.2.3.exe signed by a throwaway
// certificate, once per test binary (the Wine test installs the same
// file), and returns it and the certificate.
func buildSetup(t *testing.T) (setup, cert string) {
	t.Helper()
	testdeps.Need(t, "makensis", "osslsigncode", "x86_64-w64-mingw32-gcc", "openssl")
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "podpis-setup-")
		if err != nil {
			built.err = err
			return
		}
		built.dir = dir
		cert, key := filepath.Join(dir, "sign.pem"), filepath.Join(dir, "sign.key")
		if out, err := exec.Command("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
			"-subj", "/CN=podpis test signing", "-addext", "extendedKeyUsage=codeSigning",
			"-keyout", key, "-out", cert).CombinedOutput(); err != nil {
			built.err = fmt.Errorf("openssl: %v\n%s", err, out)
			return
		}
		cmd := exec.Command("../../scripts/package-windows.sh", "1.2.3", filepath.Join(dir, "out"))
		cmd.Env = append(os.Environ(), "SIGN_CERT="+cert, "SIGN_KEY="+key)
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("package-windows: %v\n%s", err, out)
			return
		}
		built.setup, built.cert = filepath.Join(dir, "out", "podpis-setup-1.2.3.exe"), cert
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.setup, built.cert
}
