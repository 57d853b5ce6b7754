package ui

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what the settings window draws of one text. The opener
// cleans a certificate's names already (agent.CleanText); the window
// does not rely on it: a 5000-character name would take Fyne seconds to
// lay out at every redraw and stretch the window past the screen.
const (
	maxFieldRunes  = 300
	maxReportLine  = 1000
	maxReportLines = 2000
)

// oneLine makes s one line of at most max runes: line breaks and other
// controls become spaces, format characters (U+202E and the other bidi
// controls, zero-width ones) go, so that a name neither starts a line of
// its own nor reverses what follows it; a cut text ends in "…".
func oneLine(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			continue
		case unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp):
			r = ' '
		case unicode.Is(unicode.Cf, r):
			continue
		}
		if n == max {
			return strings.TrimRightFunc(b.String(), unicode.IsSpace) + "…"
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// reportText bounds the report: its lines stay lines, each one cut like
// a field.
func reportText(report string) string {
	lines := strings.Split(report, "\n")
	if len(lines) > maxReportLines {
		lines = append(lines[:maxReportLines:maxReportLines], "…")
	}
	for i, l := range lines {
		lines[i] = oneLine(l, maxReportLine)
	}
	return strings.Join(lines, "\n")
}
