package nativehost

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/podpis/podpis/internal/testdeps"
)

// TestDirWithoutRuntimeFolder: with no XDG_RUNTIME_DIR (a plain `make
// run` over ssh, a container) the channels still open — in
// podpis-<uid> of the temporary folder, created 0700 — so that the
// extension and podpis doctor reach the agent; there used to be no
// channel at all. The folder is this account's: one another account
// planted there first (/tmp is everybody's) is refused, never used.
func TestDirWithoutRuntimeFolder(t *testing.T) {
	tmp := runtimeDir(t)
	t.Setenv("XDG_RUNTIME_DIR", "")
	t.Setenv("TMPDIR", tmp)
	want := filepath.Join(tmp, "podpis-"+strconv.Itoa(os.Geteuid()))
	if Dir() != want {
		t.Fatalf("Dir() = %q, want %q", Dir(), want)
	}
	for _, path := range []func() (string, error){SocketPath, ControlPath} {
		p, err := path()
		if err != nil || filepath.Dir(p) != want {
			t.Fatalf("%q %v", p, err)
		}
		l, err := Listen(p)
		if err != nil {
			t.Fatal(err)
		}
		c, err := Dial(p)
		if err != nil {
			t.Fatalf("dial %s: %v", p, err)
		}
		c.Close()
		l.Close()
	}
	if fi, err := os.Lstat(want); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("the folder: %v %v", fi.Mode(), err)
	}

	// Another account was first.
	uid, gid := testdeps.OtherAccount(t)
	os.RemoveAll(want)
	if err := os.Mkdir(want, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(want, int(uid), int(gid)); err != nil {
		t.Fatal(err)
	}
	p, _ := ControlPath()
	if l, err := Listen(p); err == nil {
		l.Close()
		t.Fatal("Listen used another account's folder in the temporary folder")
	}
	if c, err := Dial(p); err == nil {
		c.Close()
		t.Fatal("Dial used another account's folder in the temporary folder")
	}
}
