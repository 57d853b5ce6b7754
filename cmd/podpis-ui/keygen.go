package main

import (
	"os"

	"github.com/podpis/podpis/ui"
	"github.com/podpis/podpis/ui/uiproto"
)

// The windows of getting a certificate (createRequest, installCertificate).
func init() {
	modes[uiproto.KindNewKey] = func([]string) int { return ui.RunNewKey(os.Stdin, os.Stdout) }
	modes[uiproto.KindInstall] = func([]string) int { return ui.RunInstall(os.Stdin, os.Stdout) }
}
