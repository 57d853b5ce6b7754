package main

import (
	"os"

	"github.com/podpis/podpis/ui"
	"github.com/podpis/podpis/ui/uiproto"
)

// The prompt windows: the agent writes the question on stdin and reads
// the answers on stdout (ui/uiproto).
func init() {
	modes[uiproto.KindPIN] = func([]string) int { return ui.RunPIN(os.Stdin, os.Stdout) }
	modes[uiproto.KindConsent] = func([]string) int { return ui.RunConsent(os.Stdin, os.Stdout) }
	modes[uiproto.KindDocument] = func([]string) int { return ui.RunDocument(os.Stdin, os.Stdout) }
}
