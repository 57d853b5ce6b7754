//go:build !windows

package prompt

import "github.com/podpis/podpis/agent"

// Native returns the platform's dialog prompter: zenity on Linux.
func Native() agent.Prompter { return &Zenity{} }
