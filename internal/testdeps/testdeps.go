// Package testdeps is the one way a test stops for want of something the
// machine lacks (a program, a module, an account): it skips on a
// developer's machine and fails instead under make test, which installs
// everything first and sets PODPIS_REQUIRE_DEPS and PODPIS_REQUIRE_ENGINE:
// CI never skips silently.
package testdeps

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// Rule is the environment variable under which a missing dependency
// fails a test instead of skipping it.
type Rule string

const (
	// Deps covers what scripts/test-deps.sh installs.
	Deps Rule = "PODPIS_REQUIRE_DEPS"
	// Engine covers the interoperability oracles: OpenSSL's GOST engine
	// and GnuTLS's certtool (internal/enginetest).
	Engine Rule = "PODPIS_REQUIRE_ENGINE"
)

// Missing ends t for want of what the message names: a failure when r's
// variable is set, a skip otherwise.
func (r Rule) Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(string(r)) != "" {
		t.Fatalf("%s, and %s is set: make test provides this (scripts/test-deps.sh)", msg, r)
	}
	t.Skip(msg)
}

// Need ends t under r's rule unless every program is on PATH.
func (r Rule) Need(t testing.TB, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			r.Missing(t, "%s is not installed (make test installs it)", p)
		}
	}
}

// Need checks that every program is on PATH, under the Deps rule.
func Need(t testing.TB, programs ...string) {
	t.Helper()
	Deps.Need(t, programs...)
}

// OtherUser is the second local account tests attack the agent with.
const OtherUser = "podpis-test-other"

// OtherAccount returns the uid and gid of OtherUser, creating the account
// (a system account without a home) when it is absent. Only root can:
// elsewhere the test skips, or fails under make test.
func OtherAccount(t testing.TB) (uid, gid uint32) {
	t.Helper()
	if runtime.GOOS != "linux" {
		Deps.Missing(t, "a second account is made with useradd, on Linux only")
	}
	u, err := user.Lookup(OtherUser)
	if err != nil {
		if os.Geteuid() != 0 {
			Deps.Missing(t, "account %s is missing and only root can create it (make test runs as root in CI)", OtherUser)
		}
		// Test binaries run in parallel: another may be creating it too,
		// and useradd then finds /etc/passwd locked or the user there.
		for try := 0; ; try++ {
			out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OtherUser).CombinedOutput()
			if _, lerr := user.Lookup(OtherUser); err == nil || lerr == nil {
				break
			}
			if try == 10 {
				t.Fatalf("useradd %s: %v: %s", OtherUser, err, out)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if u, err = user.Lookup(OtherUser); err != nil {
			t.Fatal(err)
		}
	}
	if os.Geteuid() != 0 {
		Deps.Missing(t, "running a process as %s needs root", OtherUser)
	}
	uid64, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	gid64, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	if int(uid64) == os.Getuid() {
		t.Fatalf("%s has this process's own uid %d", OtherUser, uid64)
	}
	return uint32(uid64), uint32(gid64)
}
