package main

import (
	"fmt"
	"os"

	"github.com/podpis/podpis/ui"
)

func init() { modes["settings"] = runSettings }

// runSettings: podpis-ui settings — the settings window; snapshots come on
// stdin, the person's actions go to stdout (ui/uiproto).
func runSettings(args []string) int {
	if len(args) != 0 {
		fmt.Fprintln(os.Stderr, "podpis-ui: settings takes no arguments")
		return 2
	}
	return ui.RunSettings(ui.NewApp(), os.Stdin, os.Stdout)
}
