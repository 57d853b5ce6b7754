package tsp

import (
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// tstInfo builds a TSTInfo (RFC 3161, 2.4.2) with genTime spelled gen.
func tstInfo(gen string, withNonce bool) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 2, 643, 100, 1, 1, 1})
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidSHA256) })
			b.AddASN1OctetString(make([]byte, 32))
		})
		b.AddASN1BigInt(big.NewInt(77))
		b.AddASN1(cbasn1.GeneralizedTime, func(b *cryptobyte.Builder) { b.AddBytes([]byte(gen)) })
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1Int64(1) }) // accuracy
		if withNonce {
			b.AddASN1BigInt(big.NewInt(12345))
		}
	})
	return b.BytesOrPanic()
}

// TestTSTInfoTimes: genTime with fractions of a second (CryptoPro's TSAs
// write them), without, and malformed ones.
func TestTSTInfoTimes(t *testing.T) {
	for _, c := range []struct {
		gen  string
		want time.Time
		ok   bool
	}{
		{"20261130102259Z", time.Date(2026, 11, 30, 10, 22, 59, 0, time.UTC), true},
		{"20261130102259.5Z", time.Date(2026, 11, 30, 10, 22, 59, 5e8, time.UTC), true},
		{"20261130102259.123456Z", time.Date(2026, 11, 30, 10, 22, 59, 123456000, time.UTC), true},
		{"20261130102259+0300", time.Time{}, false},
		{"2026113010", time.Time{}, false},
		{"yesterday", time.Time{}, false},
	} {
		var info TSTInfo
		err := info.parse(tstInfo(c.gen, true))
		if c.ok != (err == nil) || c.ok && (!info.GenTime.Equal(c.want) || info.Nonce.Int64() != 12345 || info.SerialNumber.Int64() != 77) {
			t.Errorf("%s: %v %+v", c.gen, err, info)
		}
		if !c.ok && !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", c.gen, err)
		}
	}
	var info TSTInfo
	if err := info.parse(tstInfo("20261130102259Z", false)); err != nil || info.Nonce != nil {
		t.Fatalf("without a nonce: %v %v", err, info.Nonce)
	}
}

// FuzzParseResponse: any answer a TSA sends is an error or a token, never
// a panic; a token's own bytes parse to the same token.
func FuzzParseResponse(f *testing.F) {
	f.Add([]byte{0x30, 0x03, 0x30, 0x01, 0x02})
	f.Add([]byte{0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x02})
	f.Add(tstInfo("20261130102259Z", true))
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, err := ParseResponse(b)
		if err != nil {
			return
		}
		again, err := ParseToken(tok.Raw)
		if err != nil || !again.Info.GenTime.Equal(tok.Info.GenTime) {
			t.Fatalf("a parsed token does not parse again: %v", err)
		}
	})
}
