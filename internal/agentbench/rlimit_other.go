//go:build !unix

package main

import (
	"fmt"
	"os"
	"os/exec"
)

// raiseFDLimit: the descriptor limit is a Unix matter.
func raiseFDLimit(n uint64) {}

// setCredential: -flood-as is for Unix.
func setCredential(cmd *exec.Cmd, uid, gid uint32) {
	fmt.Fprintln(os.Stderr, "agentbench: -flood-as is not supported here")
	os.Exit(2)
}
