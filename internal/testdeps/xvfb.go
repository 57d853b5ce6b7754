package testdeps

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Xvfb starts a virtual X display of t's own and returns its name (":N"),
// so tests of several packages, run at once by go test, never draw on
// each other's display. It stops when t ends.
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
// The display number is drawn at random from 100–999 rather than left to
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
		// -displayfd: Xvfb writes the number when it is ready for clients,
		// which a connection to its socket cannot tell. -noreset: without
		// it the server resets when its last client leaves, and a window
		// opening during the reset fails ("X11: Failed to open display").
		r, w, err := os.Pipe()
		if err != nil {
			return "", nil, err
		}
		cmd := exec.Command("Xvfb", display, "-screen", "0", "1024x768x24", "-nolisten", "tcp", "-noreset", "-displayfd", "3")
		cmd.ExtraFiles = []*os.File{w}
		err = cmd.Start()
		w.Close()
		if err != nil {
			r.Close()
			return "", nil, err
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		// SIGTERM, not SIGKILL: Xvfb removes its socket and lock file.
		stop = func() { cmd.Process.Signal(syscall.SIGTERM); <-exited }
		ready := make(chan bool, 1)
		go func() {
			line, _ := bufio.NewReader(r).ReadString('\n')
			r.Close()
			ready <- strings.TrimSpace(line) == strconv.Itoa(n)
		}()
		select {
		case ok := <-ready:
			if ok && XReady(display, 5*time.Second) {
				return display, stop, nil
			}
			// the number was taken after all (Xvfb exits): draw another
		case <-time.After(10 * time.Second):
		}
		stop()
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
