//go:build unix

package testdeps

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// AsOther returns a command that runs this test binary again as
// OtherUser, with env and a bare PATH as its whole environment: the
// attacker of the tests that need a second account. The binary is run
// from a copy in a fresh folder the other account may enter, for go
// test's build cache may be closed to it.
func AsOther(t testing.TB, env ...string) *exec.Cmd {
	t.Helper()
	uid, gid := OtherAccount(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "podpis-other")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "helper")
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=/usr/bin:/bin"}, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	return cmd
}
