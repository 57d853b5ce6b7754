package ui

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestOneLine: what the window draws of a field is one line of what it
// says, whatever the certificate or the opener put in it.
func TestOneLine(t *testing.T) {
	long := strings.Repeat("Щ", 5000)
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "Иванов Иван Иванович", "Иванов Иван Иванович"},
		{"forged line", "Иванов\nСНИЛС: 000-000-000 00", "Иванов СНИЛС: 000-000-000 00"},
		{"carriage return", "a\r\nb", "a  b"},
		{"right-to-left override", "ООО \u202eакшамоР\u202c", "ООО акшамоР"},
		{"isolates and zero width", "a\u2067b\u2069\u200bc\ufeff", "abc"},
		{"line separator", "a\u2028b", "a b"},
		{"broken UTF-8", "a\xffb", "ab"},
		{"long", long, strings.Repeat("Щ", maxFieldRunes) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := oneLine(tc.in, maxFieldRunes); got != tc.want {
				t.Errorf("oneLine(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestReportText: the report keeps its lines; a line too long to draw is
// cut, a report too long is cut after maxReportLines lines.
func TestReportText(t *testing.T) {
	in := "Итог:\n  ✓ Вход\u202e возможен\n" + strings.Repeat("x", 3*maxReportLine)
	lines := strings.Split(reportText(in), "\n")
	if len(lines) != 3 || lines[0] != "Итог:" || lines[1] != "  ✓ Вход возможен" || utf8.RuneCountInString(lines[2]) != maxReportLine+1 {
		t.Errorf("reportText: %q", lines)
	}
	if n := strings.Count(reportText(strings.Repeat("a\n", 3*maxReportLines)), "\n"); n != maxReportLines {
		t.Errorf("a long report keeps %d lines", n+1)
	}
}

// TestCertificateFileName: the proposed name is the owner's, with nothing
// that leaves the folder chosen or hides the extension.
func TestCertificateFileName(t *testing.T) {
	for in, want := range map[string]string{
		"Иванов Иван Иванович":     "Иванов_Иван_Иванович.cer",
		"../../.bashrc":            "bashrc.cer",
		"ООО «Ромашка» / отдел":    "ООО_Ромашка_отдел.cer",
		"evil\u202egpj.exe":        "evilgpj_exe.cer",
		"":                         "certificate.cer",
		"C:\\Windows\\system32\\x": "CWindowssystem32x.cer",
		strings.Repeat("Щ", 100):   strings.Repeat("Щ", 60) + ".cer",
	} {
		if got := CertificateFileName(in); got != want {
			t.Errorf("CertificateFileName(%q) = %q, want %q", in, got, want)
		}
	}
}
