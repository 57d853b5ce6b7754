package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestHash(t *testing.T) {
	dir := t.TempDir()
	m1 := filepath.Join(dir, "m1")
	// RFC 6986, example M1.
	os.WriteFile(m1, []byte("012345678901234567890123456789012345678901234567890123456789012"), 0o600)
	cases := []struct {
		args       []string
		want       string
		wantStderr string
		code       int
	}{
		{[]string{"hash", m1}, "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500  " + m1 + "\n", "", 0},
		{[]string{"hash", "--alg", "streebog512", m1}, "1b54d01a4af5b9d5cc3d86d68d285462b19abc2475222f35c085122be4ba1ffa00ad30f8767b3a82384c6574f024c311e2a481332b08ef7f41797891c1646f48  " + m1 + "\n", "", 0},
		{[]string{"hash", "--alg", "md5", m1}, "", "podpis: unknown digest", 2},
		{[]string{"hash", filepath.Join(dir, "missing"), m1}, "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500  " + m1 + "\n", "no such file", 1},
	}
	for _, c := range cases {
		out, errOut, code := runCLI(t, c.args...)
		if out != c.want || code != c.code || !strings.Contains(errOut, c.wantStderr) {
			t.Errorf("podpis %v = %q, %q, exit %d; want %q, %q, exit %d", c.args, out, errOut, code, c.want, c.wantStderr, c.code)
		}
	}
}

func TestUsage(t *testing.T) {
	if _, errOut, code := runCLI(t, "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: exit %d, %q", code, errOut)
	}
	if out, _, code := runCLI(t, "version"); code != 0 || !strings.HasPrefix(out, "podpis ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
}

// TestSpeedContract checks the exact line shapes other checks rely on.
func TestSpeedContract(t *testing.T) {
	out, errOut, code := runCLI(t, "speed", "--seconds", "0.02")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, re := range []string{
		`(?m)^streebog256 MB/s [0-9.]+$`,
		`(?m)^streebog512 MB/s [0-9.]+$`,
		`(?m)^gost2012_256 sign/s [0-9.]+ verify/s [0-9.]+$`,
		`(?m)^gost2012_512 sign/s [0-9.]+ verify/s [0-9.]+$`,
		`(?m)^curve tc26-256-a$`,
		`(?m)^curve tc26-512-a$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("no line matching %s in:\n%s", re, out)
		}
	}
	out, _, code = runCLI(t, "speed", "--seconds", "0.02", "--curve", "cryptopro-xchb")
	if code != 0 || !strings.Contains(out, "curve cryptopro-xchb\ngost2012_256 sign/s ") || strings.Contains(out, "streebog") {
		t.Errorf("--curve: exit %d:\n%s", code, out)
	}
	if _, _, code := runCLI(t, "speed", "--curve", "nope"); code != 2 {
		t.Errorf("unknown curve: exit %d", code)
	}
}
