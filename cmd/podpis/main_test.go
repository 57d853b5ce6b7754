package main

import (
	"bytes"
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
