//go:build unix

package prompt

import (
	"os"
	"syscall"
)

// ownedByMe reports whether this account owns the file.
func ownedByMe(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}
