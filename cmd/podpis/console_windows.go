package main

import (
	"os"

	"golang.org/x/sys/windows"
)

// podpis.exe is a GUI program so that the tray agent starts at logon
// without a console window; run from cmd or PowerShell, its commands
// (doctor, certs, verify) write to the console that started them.
func init() {
	if h, err := windows.GetStdHandle(windows.STD_OUTPUT_HANDLE); err == nil && h != 0 && h != windows.InvalidHandle {
		return // redirected to a file or pipe: keep it
	}
	const attachParentProcess = ^uintptr(0) // ATTACH_PARENT_PROCESS, (DWORD)-1
	if r, _, _ := windows.NewLazySystemDLL("kernel32.dll").NewProc("AttachConsole").Call(attachParentProcess); r == 0 {
		return // started from Explorer or at logon: no console to write to
	}
	if f, err := os.OpenFile("CONOUT$", os.O_WRONLY, 0); err == nil {
		os.Stdout, os.Stderr = f, f
	}
}
