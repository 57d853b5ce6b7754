// Package windows holds the Windows installer's NSIS script; this test
// builds it on Linux as make package does.
package windows

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podpis/podpis/internal/testdeps"
)

// TestInstallerCrossBuild: the per-user installer is built on Linux
// (mingw, makensis) and signed with osslsigncode; the signature verifies
// against the signing certificate.
func TestInstallerCrossBuild(t *testing.T) {
	testdeps.Need(t, "makensis", "osslsigncode", "x86_64-w64-mingw32-gcc", "openssl")
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "sign.pem"), filepath.Join(dir, "sign.key")
	if out, err := exec.Command("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
		"-subj", "/CN=podpis test signing", "-addext", "extendedKeyUsage=codeSigning",
		"-keyout", key, "-out", cert).CombinedOutput(); err != nil {
		t.Fatalf("openssl: %v\n%s", err, out)
	}
	cmd := exec.Command("../../scripts/package-windows.sh", "1.2.3", filepath.Join(dir, "out"))
	cmd.Env = append(os.Environ(), "SIGN_CERT="+cert, "SIGN_KEY="+key)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("package-windows: %v\n%s", err, out)
	}
	setup := filepath.Join(dir, "out", "podpis-setup-1.2.3.exe")
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
