package login

import "testing"

func TestFormatSNILS(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"12345678901", "123-456-789 01"},
		{"00000000000", "000-000-000 00"},
		// Not eleven digits: shown as the certificate has it, never cut
		// or padded into something that looks like a valid SNILS.
		{"1234567890", "1234567890"},
		{"123456789012", "123456789012"},
		{"1234567890a", "1234567890a"},
		{"123-456-789 01", "123-456-789 01"},
		{"", ""},
	} {
		if got := FormatSNILS(tc.in); got != tc.want {
			t.Errorf("FormatSNILS(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
