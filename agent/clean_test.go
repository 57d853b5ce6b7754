package agent

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzCleanText: whatever a page sends, what is shown is valid UTF-8 with
// no control, format or line-separating character, no double or edge
// spaces, at most the cap, and cleaning it again changes nothing.
func FuzzCleanText(f *testing.F) {
	for _, s := range []string{`\074b\076`, "a\nb", "fdp\u202Eexe", "zw\u200Bj", "a" + strings.Repeat("\u0301", 40), strings.Repeat("я ", 300), "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := CleanText(s, 50)
		if !utf8.ValidString(out) || utf8.RuneCountInString(out) > 50 {
			t.Fatalf("CleanText(%q) = %q: invalid or too long", s, out)
		}
		if strings.Contains(out, "  ") || strings.TrimSpace(out) != out {
			t.Fatalf("CleanText(%q) = %q: loose spaces", s, out)
		}
		marks := 0
		for _, r := range out {
			if marks = marks + 1; !unicode.In(r, unicode.Mn, unicode.Me) {
				marks = 0
			}
			if marks > maxMarks {
				t.Fatalf("CleanText(%q) = %q stacks %d marks", s, out, marks)
			}
			if r != ' ' && (unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || isBidiOrInvisible(r)) {
				t.Fatalf("CleanText(%q) = %q keeps %U", s, out, r)
			}
		}
		if again := CleanText(out, 50); again != out {
			t.Fatalf("CleanText is not idempotent: %q, then %q", out, again)
		}
	})
}

func BenchmarkCleanText(b *testing.B) {
	desc := strings.Repeat("Платёжное поручение № 7\u202E от 01.02.2026\n", 12) // ~500 characters, the protocol's maximum
	b.ReportAllocs()
	b.SetBytes(int64(len(desc)))
	for b.Loop() {
		CleanText(desc, MaxShownDescription)
	}
}
