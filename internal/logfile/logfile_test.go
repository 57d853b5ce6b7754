package logfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	w := &Writer{Path: filepath.Join(dir, "podpis.log"), MaxSize: 100, Keep: 2}
	for i := 0; i < 20; i++ {
		fmt.Fprintf(w, "line %02d %s\n", i, strings.Repeat("x", 20))
	}
	w.Close()
	names, _ := filepath.Glob(filepath.Join(dir, "podpis.log*"))
	if len(names) != 3 {
		t.Fatalf("files %v, want the log and 2 rotated", names)
	}
	for _, n := range names {
		st, _ := os.Stat(n)
		if st.Size() > 100 || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %d bytes, mode %v", n, st.Size(), st.Mode().Perm())
		}
	}
	last, _ := os.ReadFile(filepath.Join(dir, "podpis.log"))
	if !strings.Contains(string(last), "line 19") {
		t.Error("the newest line is not in the current file")
	}
}

// TestUnwritable: a log that cannot be written drops lines, never fails.
func TestUnwritable(t *testing.T) {
	w := &Writer{Path: "/proc/podpis-cannot-write/podpis.log"}
	if n, err := w.Write([]byte("x\n")); err != nil || n != 2 || w.Dropped() != 1 {
		t.Fatalf("%d %v dropped %d", n, err, w.Dropped())
	}
}
