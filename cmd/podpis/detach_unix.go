//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// startDetached starts the agent in a session of its own: the browser
// ends the host's process group when the extension's port closes.
func startDetached(exe string) error {
	cmd := exec.Command(exe, "run")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Process.Release()
}
