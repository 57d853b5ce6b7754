//go:build !windows

package main

import "github.com/podpis/podpis/installer/icon"

// trayIcon: StatusNotifierItem hosts take PNG.
func trayIcon(off bool) []byte { return icon.PNG(64, off) }
