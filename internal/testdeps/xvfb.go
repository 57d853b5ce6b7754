package testdeps

import (
	"errors"
	"fmt"
	"math/rand/v2"
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
//
// The display number is drawn at random from 100–999 rather than found by
// -displayfd, which starts at :0 every time: when tests of several
// packages start and stop displays at once, a server still shutting down
// on :0 keeps its abstract socket after its lock file is gone, the next
// Xvfb takes :0 anyway, and Xlib, which tries the abstract socket first,
// reaches the dying server ("Failed to open display :0").
func StartXvfb() (display string, stop func(), err error) {
	for try := 0; try < 20; try++ {
		n := 100 + rand.IntN(900)
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X%d-lock", n)); err == nil {
			continue
		}
		display = fmt.Sprintf(":%d", n)
		cmd := exec.Command("Xvfb", display, "-screen", "0", "1024x768x24", "-nolisten", "tcp")
		if err := cmd.Start(); err != nil {
			return "", nil, err
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		// SIGTERM, not SIGKILL: Xvfb removes its socket and lock file.
		stop = func() { cmd.Process.Signal(syscall.SIGTERM); <-exited }
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case <-exited: // the number was taken after all: draw another
				deadline = time.Time{}
				continue
			default:
			}
			if XReady(display, 0) {
				return display, stop, nil
			}
			time.Sleep(50 * time.Millisecond)
		}
		select {
		case <-exited:
		default:
			stop()
		}
	}
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
