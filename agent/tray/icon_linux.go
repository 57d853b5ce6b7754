package tray

import "github.com/podpis/podpis/installer/icon"

// StatusNotifierItem hosts take PNG.
func iconBytes(off bool) []byte { return icon.PNG(64, off) }
