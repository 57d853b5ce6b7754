package certreq

import (
	"errors"
	"testing"
)

// Real, published numbers (Sberbank's INN and OGRN; the examples of the
// FNS and PFR forms), and each spoiled: a control digit changed, a digit
// dropped, a letter in it.
func TestChecks(t *testing.T) {
	tests := []struct {
		check func(string) error
		in    string
		want  Reason // "" for valid
	}{
		{CheckINN, "500100732259", ""},
		{CheckINN, "500100732250", ReasonChecksum}, // 12th digit
		{CheckINN, "500100732269", ReasonChecksum}, // 11th digit
		{CheckINN, "7707083893", ReasonLength},     // an organisation's INN goes in INNLE
		{CheckINN, "50010073225a", ReasonLength},
		{CheckINN, "", ReasonLength},
		{CheckINNLE, "7707083893", ""},
		{CheckINNLE, "7707083894", ReasonChecksum},
		{CheckINNLE, "770708389", ReasonLength},
		{CheckINNLE, "500100732259", ReasonLength},
		{CheckSNILS, "11223344595", ""},
		{CheckSNILS, "11223344596", ReasonChecksum},
		{CheckSNILS, "1122334459", ReasonLength},
		{CheckSNILS, "00100199800", ""}, // issued before the control number
		{CheckSNILS, "00100199900", ReasonChecksum},
		{CheckSNILS, "1122334459x", ReasonLength},
		{CheckOGRN, "1027700132195", ""},
		{CheckOGRN, "1027700132196", ReasonChecksum},
		{CheckOGRN, "102770013219", ReasonLength},
		{CheckOGRNIP, "304500116000157", ""},
		{CheckOGRNIP, "304500116000158", ReasonChecksum},
		{CheckOGRNIP, "1027700132195", ReasonLength},
		{CheckKPP, "773601001", ""},
		{CheckKPP, "7736AB001", ""},
		{CheckKPP, "77360100", ReasonLength},
		{CheckKPP, "77A601001", ReasonCharacters},
		{CheckKPP, "7736ab001", ReasonCharacters},
	}
	for _, tt := range tests {
		err := tt.check(tt.in)
		var e *Error
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: %v, want valid", tt.in, err)
		case tt.want != "" && !errors.As(err, &e):
			t.Errorf("%q: %v, want %s", tt.in, err, tt.want)
		case tt.want != "" && e.Reason != tt.want:
			t.Errorf("%q: %s, want %s", tt.in, e.Reason, tt.want)
		case tt.want != "" && !errors.Is(err, ErrInvalid):
			t.Errorf("%q: not ErrInvalid", tt.in)
		}
	}
}

// TestSNILSSums: the control number's three cases (sum under 100, 100 or
// 101, above 101) built from the rule's weights, not taken from the code.
func TestSNILSSums(t *testing.T) {
	for _, tt := range []struct {
		first9 string
		sum    int
	}{
		{"100000000", 9},   // 1·9
		{"900000001", 82},  // 9·9+1·1
		{"920000100", 100}, // 9·9+2·8+1·3
		{"920000101", 101},
	} {
		sum := 0
		for i := 0; i < 9; i++ {
			sum += int(tt.first9[i]-'0') * (9 - i)
		}
		if sum != tt.sum {
			t.Fatalf("%s: sum %d, the case wants %d", tt.first9, sum, tt.sum)
		}
		ctl := sum
		if ctl > 101 {
			ctl %= 101
		}
		if ctl == 100 || ctl == 101 {
			ctl = 0
		}
		good := tt.first9 + string(rune('0'+ctl/10)) + string(rune('0'+ctl%10))
		if err := CheckSNILS(good); err != nil {
			t.Errorf("%s (sum %d): %v", good, sum, err)
		}
		bad := tt.first9 + string(rune('0'+(ctl/10+1)%10)) + string(rune('0'+ctl%10))
		if err := CheckSNILS(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	// A sum above 101: 999999999 → 9·45 = 405 → 405 mod 101 = 1.
	if err := CheckSNILS("99999999901"); err != nil {
		t.Errorf("99999999901: %v", err)
	}
	if err := CheckSNILS("99999999905"); err == nil {
		t.Error("99999999905 accepted")
	}
}
