//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// detach puts the agent in a session of its own: the browser ends the
// host's process group when the extension's port closes.
func detach(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }
