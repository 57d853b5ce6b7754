//go:build unix

package harden

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/podpis/podpis/internal/testdeps"
)

// TestDirNarrowsMode: a data folder an older version left at 0755 (or one
// made by hand, even 0777) is shut to 0700; a new one is made 0700.
func TestDirNarrowsMode(t *testing.T) {
	for _, mode := range []os.FileMode{0o755, 0o777, 0o750, 0o711, 0o500} {
		dir := filepath.Join(t.TempDir(), "podpis")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		os.Chmod(dir, mode)
		if err := Dir(dir); err != nil {
			t.Fatalf("%v: %v", mode, err)
		}
		if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
			t.Errorf("folder left at %v, want 0700 (was %v)", fi.Mode().Perm(), mode)
		}
	}
	fresh := filepath.Join(t.TempDir(), "a", "podpis")
	if err := Dir(fresh); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(fresh); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("new folder: %v %v", fi.Mode(), err)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if err := Dir(file); err == nil {
		t.Error("a file accepted as the data folder")
	}
}

// TestDirRefusesForeignOwner: a data folder that belongs to another
// account is refused and left as it is, even for root (CI), which could
// otherwise take it over. The other account is nobody, which every Linux
// and BSD has.
func TestDirRefusesForeignOwner(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "podpis")
	os.Mkdir(dir, 0o755)
	if os.Geteuid() != 0 {
		// Without root the test cannot give a folder away; / belongs to
		// root, so it is another account's folder all the same.
		dir = "/"
	} else {
		if err := os.Chown(dir, otherUID(t), otherUID(t)); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := os.Stat(dir)
	err := Dir(dir)
	if !errors.Is(err, ErrForeignOwner) {
		t.Fatalf("another account's folder: %v, want ErrForeignOwner", err)
	}
	if after, _ := os.Stat(dir); after.Mode() != before.Mode() {
		t.Errorf("mode changed from %v to %v on a refused folder", before.Mode(), after.Mode())
	}
}

// otherUID is the uid of an account that is not this one.
func otherUID(t *testing.T) int {
	t.Helper()
	u, err := user.Lookup("nobody")
	if err != nil {
		testdeps.Deps.Missing(t, "no second account: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	if uid == os.Geteuid() {
		testdeps.Deps.Missing(t, "running as nobody, the account the test gives a folder to")
	}
	return uid
}
