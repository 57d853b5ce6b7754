package instance

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestOneInstance: a second process cannot take the lock and learns the
// holder's PID; after release it can.
func TestOneInstance(t *testing.T) {
	if dir := os.Getenv("INSTANCE_CHILD_DIR"); dir != "" {
		_, err := Acquire(dir)
		fmt.Print(err)
		os.Exit(0)
	}
	dir := t.TempDir()
	l, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	child := func() string {
		cmd := exec.Command(os.Args[0], "-test.run=TestOneInstance")
		cmd.Env = append(os.Environ(), "INSTANCE_CHILD_DIR="+dir)
		out, _ := cmd.Output()
		return string(out)
	}
	if out := child(); !strings.Contains(out, ErrRunning.Error()) || !strings.Contains(out, fmt.Sprintf("process %d", os.Getpid())) {
		t.Errorf("second process: %q", out)
	}
	l.Release()
	if out := child(); out != "<nil>" {
		t.Errorf("after release: %q", out)
	}
	if _, err := Acquire(dir); err != nil && !errors.Is(err, ErrRunning) {
		t.Fatal(err)
	}
}
