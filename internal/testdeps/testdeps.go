// Package testdeps lets a test skip when a program it drives is missing
// on a developer's machine, and fail instead under make test, which
// installs everything (PODPIS_REQUIRE_DEPS=1): CI never skips silently.
package testdeps

import (
	"os"
	"os/exec"
	"os/user"
	"runtime"
	"strconv"
	"testing"
	"time"
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

// OtherUser is the second local account tests attack the agent with.
const OtherUser = "podpis-test-other"

// OtherAccount returns the uid and gid of OtherUser, creating the account
// (a system account without a home) when it is absent. Only root can:
// elsewhere the test skips, or fails under make test.
func OtherAccount(t testing.TB) (uid, gid uint32) {
	t.Helper()
	need := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("PODPIS_REQUIRE_DEPS") != "" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	if runtime.GOOS != "linux" {
		need("a second account is made with useradd, on Linux only")
	}
	u, err := user.Lookup(OtherUser)
	if err != nil {
		if os.Geteuid() != 0 {
			need("account %s is missing and only root can create it (make test runs as root in CI)", OtherUser)
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
		need("running a process as %s needs root", OtherUser)
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
