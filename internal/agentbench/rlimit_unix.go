//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// raiseFDLimit lets this process hold n descriptors, as far as the hard
// limit allows.
func raiseFDLimit(n uint64) {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil || l.Cur >= n {
		return
	}
	l.Cur = min(n, l.Max)
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
}

// setCredential runs cmd as another account.
func setCredential(cmd *exec.Cmd, uid, gid uint32) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
}
