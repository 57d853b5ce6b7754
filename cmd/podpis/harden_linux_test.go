package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podpis/podpis/internal/testdeps"
	"golang.org/x/sys/unix"
)

// dumpableReport is where an agent started by TestHardenedAgent writes its
// PR_GET_DUMPABLE on SIGUSR1: the flag is readable only from inside.
const dumpableReport = "PODPIS_TEST_DUMPABLE_FILE"

func init() {
	p := os.Getenv(dumpableReport)
	if p == "" || os.Getenv("PODPIS_RUN_MAIN") != "1" {
		return
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR1)
	go func() {
		for range c {
			d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
			os.WriteFile(p+".tmp", fmt.Appendf(nil, "%d %v", d, err), 0o600)
			os.Rename(p+".tmp", p)
		}
	}()
}

// TestHardenedAgent starts the agent as a process on a data folder an
// older version left at 0755: the folder ends up 0700, and the running
// agent cannot be dumped (PR_GET_DUMPABLE 0, core file limits 0 in
// /proc/PID/limits). A data folder of another account is refused before
// the agent listens.
func TestHardenedAgent(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	os.Mkdir(data, 0o700)
	os.Chmod(data, 0o755)
	report := filepath.Join(t.TempDir(), "dumpable")
	cmd, _, _ := startRun(t, []string{"PODPIS_DATA_DIR=" + data, "PODPIS_CONFIG=" + filepath.Join(data, "config.json"), dumpableReport + "=" + report},
		"--headless", "--no-known-modules", "--module", tokenEnv.SoftToken, "--listen", "127.0.0.1:0")
	if fi, err := os.Stat(data); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data folder mode %v (%v), want 0700", fi.Mode().Perm(), err)
	}
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if !coreLimitZero(string(limits)) {
		t.Errorf("the agent may write core files:\n%s", limits)
	}
	cmd.Process.Signal(syscall.SIGUSR1)
	var got []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got, err = os.ReadFile(report); err == nil {
			break
		}
	}
	if string(got) != "0 <nil>" {
		t.Errorf("PR_GET_DUMPABLE of the agent: %q (%v), want 0", got, err)
	}

	// Another account's folder: refused, nothing created in it.
	foreign := filepath.Join(t.TempDir(), "foreign")
	os.Mkdir(foreign, 0o755)
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			testdeps.Deps.Missing(t, "no second account: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		if err := os.Chown(foreign, uid, uid); err != nil {
			t.Fatal(err)
		}
	} else {
		foreign = "/" // root's folder is another account's all the same
	}
	// An agent that does start is stopped after a while, so that the
	// test fails instead of waiting for it.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bad := exec.CommandContext(ctx, os.Args[0], "run", "--headless", "--no-known-modules", "--module", tokenEnv.SoftToken, "--listen", "127.0.0.1:0")
	bad.Env = append(os.Environ(), "PODPIS_RUN_MAIN=1", "PODPIS_DATA_DIR="+foreign, "PODPIS_CONFIG="+filepath.Join(t.TempDir(), "config.json"))
	out, _ := bad.CombinedOutput()
	if code := bad.ProcessState.ExitCode(); code != 1 || !strings.HasPrefix(string(out), "podpis: harden: the folder belongs to another account") ||
		strings.Contains(string(out), "listening") {
		t.Errorf("foreign data folder: exit %d\n%s", code, out)
	}
	if entries, _ := os.ReadDir(foreign); foreign != "/" && len(entries) != 0 {
		t.Errorf("the agent wrote into another account's folder: %v", entries)
	}
}

// coreLimitZero reports whether /proc/PID/limits shows a core file size
// limit of 0, soft and hard.
func coreLimitZero(limits string) bool {
	for _, line := range strings.Split(limits, "\n") {
		if rest, ok := strings.CutPrefix(line, "Max core file size"); ok {
			f := strings.Fields(rest)
			return len(f) >= 2 && f[0] == "0" && f[1] == "0"
		}
	}
	return false
}
