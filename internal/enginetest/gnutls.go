package enginetest

import (
	"os/exec"
	"testing"

	"github.com/podpis/podpis/internal/testdeps"
)

// RequireCerttool skips or fails t when GnuTLS's certtool is missing, under
// the same rule as Require.
func RequireCerttool(t testing.TB) {
	t.Helper()
	testdeps.Engine.Need(t, "certtool") // Debian gnutls-bin
}

// Certtool runs GnuTLS's certtool and returns its output, failing t on error.
func Certtool(t testing.TB, args ...string) []byte {
	t.Helper()
	out, err := exec.Command("certtool", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("certtool %v: %v\n%s", args, err, out)
	}
	return out
}

// CerttoolCurves are the GOST curves GnuTLS generates keys on, with the
// key type certtool wants for each.
var CerttoolCurves = []struct{ KeyType, Curve string }{
	{"gost12-256", "CryptoPro-A"},
	{"gost12-256", "CryptoPro-XchA"},
	{"gost12-256", "TC26-256-B"},
	{"gost12-512", "TC26-512-A"},
}
