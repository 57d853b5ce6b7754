// Package logfile is the agent's log: a file rotated by size, readable by
// its owner only. A write that fails (a full disk) is dropped and counted,
// never allowed to stop the agent.
package logfile

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Writer appends to path, rotating at MaxSize into path.1 … path.Keep.
type Writer struct {
	Path    string
	MaxSize int64 // zero means 5 MiB
	Keep    int   // zero means 3

	mu      sync.Mutex
	f       *os.File
	size    int64
	dropped int
}

// DefaultPath is where the agent logs for this user.
func DefaultPath() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "podpis", "podpis.log")
}

func (w *Writer) open() error {
	if err := os.MkdirAll(filepath.Dir(w.Path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(w.Path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	w.f, w.size = f, st.Size()
	return nil
}

func (w *Writer) rotate() {
	keep := w.Keep
	if keep == 0 {
		keep = 3
	}
	w.f.Close()
	w.f = nil
	for i := keep - 1; i >= 1; i-- {
		os.Rename(fmt.Sprintf("%s.%d", w.Path, i), fmt.Sprintf("%s.%d", w.Path, i+1))
	}
	os.Rename(w.Path, w.Path+".1")
}

// Write appends p; it always reports success so that logging never fails
// the caller.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	max := w.MaxSize
	if max == 0 {
		max = 5 << 20
	}
	if w.f != nil && w.size+int64(len(p)) > max {
		w.rotate()
	}
	if w.f == nil {
		if err := w.open(); err != nil {
			w.dropped++
			return len(p), nil
		}
	}
	n, err := w.f.Write(p)
	w.size += int64(n)
	if err != nil {
		w.dropped++
	}
	return len(p), nil
}

// Dropped is how many writes were lost.
func (w *Writer) Dropped() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dropped
}

// Close closes the file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}
