// Package instance keeps one agent per person: two would race for the
// port, and the second one's tray icon and dialogs would confuse.
package instance

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrRunning says another agent holds the lock.
var ErrRunning = errors.New("instance: podpis is already running")

// Lock is held for the life of the process; the system releases it when
// the process ends however it ends, so a crash leaves nothing stale.
type Lock struct {
	f *os.File
}

// Acquire takes dir's lock or reports who holds it.
func Acquire(dir string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "agent.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := lock(f); err != nil {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		if pid, perr := strconv.Atoi(strings.TrimSpace(string(b[:n]))); perr == nil {
			return nil, fmt.Errorf("%w (process %d)", ErrRunning, pid)
		}
		return nil, ErrRunning
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &Lock{f: f}, nil
}

// Release gives the lock up.
func (l *Lock) Release() {
	unlock(l.f)
	l.f.Close()
}
