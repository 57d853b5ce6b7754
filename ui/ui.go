// Package ui draws podpis's own windows: the PIN, consent and document
// prompts and the settings window. They run in their own program,
// podpis-ui, which the agent starts for each question (as gpg-agent starts
// pinentry): the agent, which faces the network, links no GUI toolkit and
// no OpenGL, works on machines with no desktop, and survives a window that
// crashes; the window process holds a PIN only until it has written it to
// the agent.
//
// The toolkit is Fyne (fyne.io/fyne/v2) rather than Gio. Both are
// maintained and draw the same on X11, Wayland and Windows, and both run
// under Xvfb. Fyne was chosen because these windows are forms, and Fyne has
// the widgets they are made of — a masked entry, a checkbox, tabs, lists,
// a file save dialog and the clipboard — with keyboard focus and Tab order
// done, and a bundled font with Cyrillic; in Gio each of those is written
// by hand. Fyne's price is cgo (GLFW) on every platform, which podpis
// already pays for its PKCS#11 binding, and a binary of about 30 MB, which
// is why it lives in podpis-ui and not in the agent.
package ui

import (
	"os"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/theme"
)

// NewApp starts the toolkit for one podpis-ui run.
func NewApp() fyne.App {
	// Fyne parses the locale from LANG and complains on "C" or an empty
	// one; the windows are in Russian whatever the locale.
	if l := os.Getenv("LANG"); l == "" || l == "C" || l == "POSIX" || strings.HasPrefix(l, "C.") {
		os.Setenv("LANG", "ru_RU.UTF-8")
	}
	a := app.NewWithID("ru.podpis.ui")
	a.Settings().SetTheme(lightTheme{theme.DefaultTheme()})
	return a
}
