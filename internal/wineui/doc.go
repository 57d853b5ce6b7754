// Package wineui has no code of its own: its tests run podpis's windows
// as Windows users get them — podpis-ui.exe, Fyne drawing through Wine's
// OpenGL (wined3d over Mesa on a virtual X display), framed by Wine as on
// Windows — and drive them by keyboard and mouse the way the Linux tests
// in agent/prompt drive podpis-ui: the agent's own prompter
// (prompt.Window) asks, xdotool types, and the answer the agent gets is
// checked. One test runs the whole login on the Windows side: podpis.exe
// starts the window itself, the PIN typed into it opens the soft token
// DLL, and the login is checked by verify and OpenSSL's GOST engine.
package wineui
