package testdeps

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Artifact returns the path a test writes a file a person should look at
// (a screenshot) to: under $ARTIFACTS when set, as the webclient's tests
// do, else under the repository's artifacts/ folder (ignored by git), so
// that the files outlive the test's temporary directory.
func Artifact(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("ARTIFACTS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts: %v", err)
	}
	p := filepath.Join(dir, name)
	t.Logf("artifact: %s", p)
	return p
}
