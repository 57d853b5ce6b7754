package harden

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestProcess runs Process in a re-executed child (it cannot be undone in
// the test process itself) and reads the result as the kernel reports it:
// PR_GET_DUMPABLE in the child, and the child's /proc/PID/limits.
func TestProcess(t *testing.T) {
	if os.Getenv("HARDEN_CHILD") == "1" {
		if err := Process(); err != nil {
			os.Stdout.WriteString("error " + err.Error())
			os.Exit(1)
		}
		d, _ := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
		limits, _ := os.ReadFile("/proc/self/limits")
		os.Stdout.WriteString("dumpable=" + strconv.Itoa(d) + "\n" + string(limits))
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestProcess$")
	cmd.Env = append(os.Environ(), "HARDEN_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !strings.Contains(string(out), "dumpable=0\n") {
		t.Errorf("the process is still dumpable:\n%s", out)
	}
	if core := coreLimit(string(out)); core != "0 0" {
		t.Errorf("core file size limits %q, want 0 0", core)
	}
}

// coreLimit returns the soft and hard "Max core file size" of a
// /proc/PID/limits text.
func coreLimit(limits string) string {
	for _, line := range strings.Split(limits, "\n") {
		if strings.HasPrefix(line, "Max core file size") {
			f := strings.Fields(strings.TrimPrefix(line, "Max core file size"))
			if len(f) >= 2 {
				return f[0] + " " + f[1]
			}
		}
	}
	return ""
}
