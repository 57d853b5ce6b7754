package certreq

// The checksums of Russian registration numbers. Sources: ИНН — Приказ
// ФНС России от 29.06.2012 № ММВ-7-6/435@ (the control digits of the
// tax number); СНИЛС — Постановление Правления ПФР от 27.09.2021
// (the «контрольное число» of the insurance number); ОГРН and ОГРНИП —
// Постановление Правительства РФ № 438 and № 630 (the last digit of the
// record number).

// CheckINN checks a person's INN, the INN attribute: 12 digits with the
// two control digits of the FNS rule. The 10-digit INN of an organisation
// goes in INNLE since Приказ ФСБ № 31 (2021).
func CheckINN(v string) error {
	if len(v) != 12 || !allDigits(v) {
		return &Error{Field: "INN", Reason: ReasonLength}
	}
	if !innDigitOK(v, 10, []int{7, 2, 4, 10, 3, 5, 9, 4, 6, 8}) ||
		!innDigitOK(v, 11, []int{3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8}) {
		return &Error{Field: "INN", Reason: ReasonChecksum}
	}
	return nil
}

// CheckINNLE checks an organisation's INN: 10 digits, the last a control
// digit.
func CheckINNLE(v string) error {
	if len(v) != 10 || !allDigits(v) {
		return &Error{Field: "INNLE", Reason: ReasonLength}
	}
	if !innDigitOK(v, 9, []int{2, 4, 10, 3, 5, 9, 4, 6, 8}) {
		return &Error{Field: "INNLE", Reason: ReasonChecksum}
	}
	return nil
}

// innDigitOK: the digit at pos is (Σ digit·weight mod 11) mod 10 over the
// digits before it.
func innDigitOK(v string, pos int, weights []int) bool {
	sum := 0
	for i, w := range weights {
		sum += int(v[i]-'0') * w
	}
	return sum%11%10 == int(v[pos]-'0')
}

// CheckSNILS checks an insurance number: 11 digits, the last two the
// control number of the first nine (Σ digit·(9…1); under 100 it is the
// sum, 100 and 101 give 00, above that the sum mod 101, 100 again 00).
// Numbers up to 001-001-998 were issued before the rule and have no
// control number.
func CheckSNILS(v string) error {
	if len(v) != 11 || !allDigits(v) {
		return &Error{Field: "SNILS", Reason: ReasonLength}
	}
	if v[:9] <= "001001998" {
		return nil
	}
	sum := 0
	for i := 0; i < 9; i++ {
		sum += int(v[i]-'0') * (9 - i)
	}
	if sum > 101 {
		sum %= 101
	}
	if sum == 100 || sum == 101 {
		sum = 0
	}
	if sum != int(v[9]-'0')*10+int(v[10]-'0') {
		return &Error{Field: "SNILS", Reason: ReasonChecksum}
	}
	return nil
}

// CheckOGRN checks an organisation's primary state registration number:
// 13 digits, the last being the first twelve mod 11, mod 10.
func CheckOGRN(v string) error {
	if len(v) != 13 || !allDigits(v) {
		return &Error{Field: "OGRN", Reason: ReasonLength}
	}
	if mod(v[:12], 11)%10 != int(v[12]-'0') {
		return &Error{Field: "OGRN", Reason: ReasonChecksum}
	}
	return nil
}

// CheckOGRNIP checks a sole trader's OGRNIP: 15 digits, the last being
// the first fourteen mod 13, mod 10.
func CheckOGRNIP(v string) error {
	if len(v) != 15 || !allDigits(v) {
		return &Error{Field: "OGRNIP", Reason: ReasonLength}
	}
	if mod(v[:14], 13)%10 != int(v[14]-'0') {
		return &Error{Field: "OGRNIP", Reason: ReasonChecksum}
	}
	return nil
}

// mod is a decimal string mod m, digit by digit (14 digits fit an int,
// but this does not need to know).
func mod(digits string, m int) int {
	r := 0
	for i := 0; i < len(digits); i++ {
		r = (r*10 + int(digits[i]-'0')) % m
	}
	return r
}

// CheckKPP checks a tax registration reason code: nine characters, NNNN
// (the tax office), PP (the reason: digits, or capital Latin letters since
// 2013), NNN (the number).
func CheckKPP(v string) error {
	if len(v) != 9 {
		return &Error{Field: "KPP", Reason: ReasonLength}
	}
	for i := 0; i < 9; i++ {
		c := v[i]
		digit := '0' <= c && c <= '9'
		if !digit && !(i == 4 || i == 5) || !digit && !('A' <= c && c <= 'Z') {
			return &Error{Field: "KPP", Reason: ReasonCharacters}
		}
	}
	return nil
}
