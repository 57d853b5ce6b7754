//go:build unix

package testpg

import (
	"os"
	"syscall"
	"testing"

	"github.com/podpis/podpis/internal/testdeps"
)

// procAttr says who runs PostgreSQL: this process's own user, or, as
// root (which PostgreSQL refuses), testdeps.OtherUser, made owner of dir.
func procAttr(t testing.TB, dir string) *syscall.SysProcAttr {
	t.Helper()
	if os.Geteuid() != 0 {
		return &syscall.SysProcAttr{}
	}
	uid, gid := testdeps.OtherAccount(t)
	if err := os.Chown(dir, int(uid), int(gid)); err != nil {
		t.Fatal(err)
	}
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
}
