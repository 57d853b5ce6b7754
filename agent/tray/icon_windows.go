package tray

import "github.com/podpis/podpis/installer/icon"

// The Windows shell takes an .ico.
func iconBytes(off bool) []byte { return icon.ICO(off, 16, 32) }
