package contact

import (
	"errors"
	"testing"
)

func TestPhone(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"+7 (916) 123-45-67", "+79161234567"},
		{"8 916 123 45 67", "+79161234567"},
		{"89161234567", "+79161234567"},
		{"79161234567", "+79161234567"},
		{"9161234567", "+79161234567"},
		{" +7-916-123-45-67 ", "+79161234567"},
		{"8(916)123.45.67", "+79161234567"},
		{"+375 29 123-45-67", "+375291234567"},
		{"+44 20 7946 0958", "+442079460958"},
	} {
		got, err := Phone(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Phone(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{
		"", "+", "123", "+7 916 123 45 6", "+7 916 123 45 678", "8916123456", "69161234567",
		"+0123456789", "+1234567890123456", "+7 916 l23 45 67", "916-123-45-67+", "++79161234567",
		"4161234567", "+7916123456７",
	} {
		if got, err := Phone(in); !errors.Is(err, ErrPhone) {
			t.Errorf("Phone(%q) = %q, %v; want ErrPhone", in, got, err)
		}
	}
}

func TestEmail(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Ivan@Mail.RU", "ivan@mail.ru"},
		{"  ivan.petrov+lk@example.com\t", "ivan.petrov+lk@example.com"},
	} {
		got, err := Email(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Email(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	long := make([]byte, 250)
	for i := range long {
		long[i] = 'a'
	}
	for _, in := range []string{
		"", "ivan", "ivan@", "@mail.ru", "ivan@mail", "ivan@@mail.ru", "a@b@mail.ru", "Ivan <ivan@mail.ru>",
		"ivan@.mail.ru", "ivan@mail..ru", "ivan@mail.ru.", "iv an@mail.ru", string(long) + "@a.ru",
	} {
		if got, err := Email(in); !errors.Is(err, ErrEmail) {
			t.Errorf("Email(%q) = %q, %v; want ErrEmail", in, got, err)
		}
	}
}

func TestMasks(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{MaskPhone("+79161234567"), "+7 (916) ***-**-67"},
		{DisplayPhone("+79161234567"), "+7 (916) 123-45-67"},
		{MaskPhone("+442079460958"), "+44********58"},
		{MaskEmail("ivan@mail.ru"), "i***@mail.ru"},
		{MaskEmail("юля@почта.рф"), "ю***@почта.рф"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
