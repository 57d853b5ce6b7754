package main

import "github.com/podpis/podpis/installer/icon"

// trayIcon: the Windows shell takes an .ico.
func trayIcon(off bool) []byte { return icon.ICO(off, 16, 32) }
