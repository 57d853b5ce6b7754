package testpg

import (
	"os"
	"syscall"
	"testing"

	"github.com/podpis/podpis/internal/testdeps"
)

// credential is who runs PostgreSQL: this process's own user, or, as
// root (which PostgreSQL refuses), testdeps.OtherUser, made owner of dir.
func credential(t testing.TB, dir string) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	uid, gid := testdeps.OtherAccount(t)
	if err := os.Chown(dir, int(uid), int(gid)); err != nil {
		t.Fatal(err)
	}
	return &syscall.Credential{Uid: uid, Gid: gid}
}
