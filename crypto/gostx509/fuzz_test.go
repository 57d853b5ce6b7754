package gostx509

import (
	"bytes"
	"testing"

	"github.com/podpis/podpis/crypto/gost3410"
)

func seedKeys(f *testing.F) {
	for _, c := range []*gost3410.Curve{gost3410.CurveTC26256A, gost3410.CurveCryptoProA, gost3410.CurveTC26512C} {
		k, _ := gost3410.GenerateKey(c, nil)
		der, _ := MarshalPKCS8PrivateKey(k)
		f.Add(der)
		pub, _ := MarshalPKIXPublicKey(k.PublicKey())
		f.Add(pub)
	}
	f.Add([]byte{0x30, 0x00})
	f.Add([]byte{})
}

// FuzzParsePKCS8: no panic; whatever parses re-encodes to something that
// parses to the same key.
func FuzzParsePKCS8(f *testing.F) {
	seedKeys(f)
	f.Fuzz(func(t *testing.T, der []byte) {
		k, err := ParsePKCS8PrivateKey(der)
		if err != nil {
			return
		}
		again, err := MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		k2, err := ParsePKCS8PrivateKey(again)
		if err != nil || !k2.Equal(k) {
			t.Fatalf("re-encoded key does not parse back: %v", err)
		}
	})
}

// FuzzParsePKIX: no panic; parse → marshal → parse is stable.
func FuzzParsePKIX(f *testing.F) {
	seedKeys(f)
	f.Fuzz(func(t *testing.T, der []byte) {
		k, err := ParsePKIXPublicKey(der)
		if err != nil {
			return
		}
		again, err := MarshalPKIXPublicKey(k)
		if err != nil {
			t.Fatal(err)
		}
		k2, err := ParsePKIXPublicKey(again)
		if err != nil || !k2.Equal(k) {
			t.Fatalf("re-encoded key does not parse back: %v", err)
		}
		if again2, _ := MarshalPKIXPublicKey(k2); !bytes.Equal(again, again2) {
			t.Fatal("encoding is not stable")
		}
	})
}
