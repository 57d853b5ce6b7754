// Package enginetest runs Debian's OpenSSL GOST engine and GnuTLS's certtool
// for interoperability tests: they are the implementations we did not write,
// so tests generate their material with them at test time instead of
// trusting ours to test itself.
//
// When the engine is missing a test stops under internal/testdeps's Engine
// rule: a skip, or a failure under make test.
package enginetest

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/podpis/podpis/internal/testdeps"
)

var (
	once     sync.Once
	availErr error
)

func probe() {
	if _, err := exec.LookPath("openssl"); err != nil {
		availErr = fmt.Errorf("openssl not found: %w", err)
		return
	}
	out, err := command(nil, "engine", "gost", "-c")
	if err != nil || !bytes.Contains(out, []byte("gost2012_256")) {
		availErr = fmt.Errorf("openssl GOST engine not usable: %v: %s", err, out)
	}
}

// Require skips or fails t when the engine is not usable.
func Require(t testing.TB) {
	t.Helper()
	once.Do(probe)
	if availErr == nil {
		return
	}
	testdeps.Engine.Missing(t, "GOST engine not usable: %v (Debian libengine-gost-openssl)", availErr)
}

func command(stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command("openssl", args...)
	// The engine is named on each command line; a system openssl.cnf that
	// loads it (or something else) must not interfere.
	cmd.Env = append(os.Environ(), "OPENSSL_CONF=/dev/null")
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return append(stdout.Bytes(), stderr.Bytes()...), fmt.Errorf("openssl %s: %w", strings.Join(args, " "), err)
	}
	return stdout.Bytes(), nil
}

// Run runs openssl with args (add "-engine", "gost" where the command takes
// it) and returns its standard output, failing t on error.
func Run(t testing.TB, stdin []byte, args ...string) []byte {
	t.Helper()
	out, err := command(stdin, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return out
}

// Try runs openssl and returns its output and error without failing t, for
// tests that expect the engine to reject something.
func Try(stdin []byte, args ...string) ([]byte, error) { return command(stdin, args...) }

// Paramset names a curve as OpenSSL's GOST engine spells it.
type Paramset struct {
	Algorithm string // gost2012_256 or gost2012_512
	Name      string // value of -pkeyopt paramset:
}

// Paramsets lists every named parameter set the engine knows, each spelled
// once per distinct OID it writes.
var Paramsets = []Paramset{
	{"gost2012_256", "A"}, {"gost2012_256", "B"}, {"gost2012_256", "C"},
	{"gost2012_256", "XA"}, {"gost2012_256", "XB"},
	{"gost2012_256", "TCA"}, {"gost2012_256", "TCB"}, {"gost2012_256", "TCC"}, {"gost2012_256", "TCD"},
	{"gost2012_512", "A"}, {"gost2012_512", "B"}, {"gost2012_512", "C"},
}

// GenKey makes a PEM PKCS#8 private key on ps in dir and returns its path.
func GenKey(t testing.TB, dir string, ps Paramset) string {
	t.Helper()
	path := fmt.Sprintf("%s/%s-%s.key", dir, ps.Algorithm, ps.Name)
	Run(t, nil, "genpkey", "-engine", "gost", "-algorithm", ps.Algorithm,
		"-pkeyopt", "paramset:"+ps.Name, "-out", path)
	return path
}

// ReadPEM returns the bytes of the first PEM block of a file the engine
// wrote.
func ReadPEM(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	return blk.Bytes
}
