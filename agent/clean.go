package agent

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxShownDescription is how much of a page's description a prompt shows.
const MaxShownDescription = 200

// maxMarks is how many combining marks (Mn, Me) one character keeps:
// enough for any script's real text (Vietnamese, pointed Hebrew,
// Devanagari stack two to four), not for a tower.
const maxMarks = 4

// CleanText makes text that a page (or anything outside podpis) controls
// safe to put into a prompt, whatever the prompt is drawn with: control
// characters and line breaks become spaces, so the text cannot start lines
// of its own (a forged «Размер: …»); format characters go — bidi controls
// (U+202E shows "fdp.exe" as "exe.pdf"), zero-width characters, BOM, tags
// — so what is shown is what is read; a character keeps at most
// maxMarks combining marks (a stack of hundreds is drawn far above and
// below its line, over podpis's own lines about the site and the
// document); runs of white space collapse to one;
// broken UTF-8 is dropped; and the result is at most max runes, the last
// being "…" when text was cut. Markup escaping stays with each prompter
// (HTML, Pango): this only decides which characters are shown.
func CleanText(s string, max int) string {
	var b strings.Builder
	space := false
	n, marks := 0, 0
	for i, w := 0, 0; i < len(s); i += w {
		r, size := utf8.DecodeRuneInString(s[i:])
		w = size
		switch {
		case r == utf8.RuneError && size <= 1:
			continue
		case unicode.IsSpace(r) || unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp):
			space = n > 0
			continue
		case unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Co, r) || isBidiOrInvisible(r):
			continue
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
			marks = 0
		}
		if unicode.In(r, unicode.Mn, unicode.Me) {
			// Counted only as written: a character dropped between two
			// runs of marks does not split the stack.
			if marks++; marks > maxMarks {
				continue
			}
		} else {
			marks = 0
		}
		b.WriteRune(r)
		n++
	}
	out := b.String()
	if max > 0 && utf8.RuneCountInString(out) > max {
		runes := []rune(out)
		out = strings.TrimRightFunc(string(runes[:max-1]), unicode.IsSpace) + "…"
	}
	return out
}

// isBidiOrInvisible names what unicode.Cf already covers, so that the
// list in the issue stays checkable even if Unicode reclassifies one, and
// adds the invisible characters that are not Cf (Hangul fillers, the
// braille blank, which render as nothing).
func isBidiOrInvisible(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F, r == 0x061C:
		return true
	case r >= 0x200B && r <= 0x200D, r == 0x2060, r == 0xFEFF:
		return true
	case r == 0x115F, r == 0x1160, r == 0x3164, r == 0xFFA0, r == 0x2800:
		return true
	}
	return false
}
