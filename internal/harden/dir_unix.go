//go:build unix

package harden

import (
	"fmt"
	"os"
	"syscall"
)

// Dir makes sure dir exists, is a directory of this account and is closed
// to everyone else: it is created with mode 0700, and an existing one with
// a wider mode (older versions, or a folder made by hand) is narrowed to
// 0700. A folder of another account is refused before anything is changed
// in it (ErrForeignOwner), even when running as root: taking it over would
// hand its owner a key they may already have replaced.
func Dir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("harden: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("harden: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("harden: %s is not a folder", dir)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("harden: %s: no owner information", dir)
	}
	if me := os.Geteuid(); int(st.Uid) != me {
		return fmt.Errorf("%w: %s is owned by uid %d, this process runs as uid %d", ErrForeignOwner, dir, st.Uid, me)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("harden: %w", err)
		}
	}
	return nil
}
