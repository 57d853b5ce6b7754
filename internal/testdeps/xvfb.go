package testdeps

import (
	"bufio"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Xvfb starts a virtual X display for t and returns its name (":N"). Xvfb
// picks a free display number itself (-displayfd), so tests of several
// packages, run at once by go test, never draw on each other's display.
// It stops when t ends.
func Xvfb(t testing.TB) string {
	t.Helper()
	Need(t, "Xvfb")
	display, stop, err := StartXvfb()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return display
}

// StartXvfb starts a virtual X display that outlives any one test (a
// TestMain's) and returns its name and how to stop it.
func StartXvfb() (display string, stop func(), err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return "", nil, err
	}
	defer r.Close()
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1024x768x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		w.Close()
		return "", nil, err
	}
	w.Close()
	// SIGTERM, not SIGKILL: Xvfb removes its socket and lock file.
	stop = func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case n := <-line:
		if n != "" && XReady(":"+n, 10*time.Second) {
			return ":" + n, stop, nil
		}
	case <-time.After(10 * time.Second):
	}
	stop()
	return "", nil, errors.New("testdeps: Xvfb did not start")
}

// XReady reports whether the X display accepts connections on its local
// socket, waiting up to wait for it: a window started before that fails
// with "Failed to open display".
func XReady(display string, wait time.Duration) bool {
	path := "/tmp/.X11-unix/X" + strings.TrimPrefix(display, ":")
	deadline := time.Now().Add(wait)
	for {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}
