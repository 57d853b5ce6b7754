// Package testdeps lets a test skip when a program it drives is missing
// on a developer's machine, and fail instead under make test, which
// installs everything (PODPIS_REQUIRE_DEPS=1): CI never skips silently.
package testdeps

import (
	"os"
	"os/exec"
	"testing"
)

// Need checks that every program is on PATH.
func Need(t testing.TB, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			if os.Getenv("PODPIS_REQUIRE_DEPS") != "" {
				t.Fatalf("%s is missing (scripts/test-deps.sh installs it)", p)
			}
			t.Skipf("%s is not installed; make test installs it", p)
		}
	}
}
