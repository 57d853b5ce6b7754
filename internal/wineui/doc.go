// Package wineui has no code of its own: its tests run podpis's windows
// as Windows users get them — podpis-ui.exe, Fyne drawing through Wine's
// OpenGL (wined3d over Mesa on a virtual X display) — and drive them by
// keyboard and mouse under Wine, the way the Linux tests in agent/prompt
// drive podpis-ui: the agent's own prompter (prompt.Window) asks, xdotool
// types, and the answer the agent gets is checked.
package wineui
