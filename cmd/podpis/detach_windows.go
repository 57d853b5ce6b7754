package main

import (
	"os/exec"
	"syscall"

	"golang.org/x/sys/windows"
)

// startDetached starts the agent without a console and, where the
// browser's job object allows it, outside that job, which the browser may
// end with the host.
func startDetached(exe string) error {
	var err error
	for _, flags := range []uint32{
		windows.CREATE_NEW_PROCESS_GROUP | windows.DETACHED_PROCESS | windows.CREATE_BREAKAWAY_FROM_JOB,
		windows.CREATE_NEW_PROCESS_GROUP | windows.DETACHED_PROCESS,
	} {
		cmd := exec.Command(exe, "run")
		cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: flags}
		if err = cmd.Start(); err == nil {
			return cmd.Process.Release()
		}
	}
	return err
}
