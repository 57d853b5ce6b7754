//go:build unix

package main

import "syscall"

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
