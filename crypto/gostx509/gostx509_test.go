package gostx509

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/podpis/podpis/crypto/gost3410"
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestRejects(t *testing.T) {
	key, _ := gost3410.GenerateKey(gost3410.CurveTC26256A, nil)
	good, _ := MarshalPKIXPublicKey(key.PublicKey())
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecSPKI, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecP8, _ := x509.MarshalPKCS8PrivateKey(ec)
	// Hand-made algorithm identifiers: 256-bit key OID with a 512-bit curve,
	// a digest that does not match, an unknown curve.
	alg := func(params string) string {
		body := "06082a85030701010101" + params
		return "30" + hex.EncodeToString([]byte{byte(len(body) / 2)}) + body
	}
	spki := func(algHex string, point []byte) []byte {
		inner := append([]byte{0x04, byte(len(point))}, point...)
		bits := append([]byte{0x03, byte(len(inner) + 1), 0x00}, inner...)
		body := append(mustHex(algHex), bits...)
		return append([]byte{0x30, byte(len(body))}, body...)
	}
	point := key.PublicKey().Bytes()
	cases := []struct {
		name string
		der  []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"trailing data", append(append([]byte{}, good...), 0), ErrMalformed},
		{"truncated", good[:len(good)-1], ErrMalformed},
		{"ECDSA key", ecSPKI, ErrNotGOST},
		{"512-bit curve under 256-bit OID", spki(alg("300b06092a8503070102010201"), point), ErrMalformed},
		{"digest of the wrong size", spki(alg("3015060a2a85030701020101010106082a85030701010203"), point), ErrMalformed},
		{"unknown curve", spki(alg("300b06092a8503070102010109"), point), ErrUnknownCurve},
	}
	for _, c := range cases {
		if _, err := ParsePKIXPublicKey(c.der); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := ParsePKCS8PrivateKey(ecP8); !errors.Is(err, ErrNotGOST) {
		t.Errorf("ECDSA PKCS#8: got %v", err)
	}
	p8, _ := MarshalPKCS8PrivateKey(key)
	for i := 0; i < len(p8); i++ {
		if _, err := ParsePKCS8PrivateKey(p8[:i]); err == nil {
			t.Fatalf("PKCS#8 truncated to %d bytes accepted", i)
		}
	}
	// A key of zero and of q are out of range.
	zero := append([]byte{}, p8...)
	for i := len(zero) - 32; i < len(zero); i++ {
		zero[i] = 0
	}
	if _, err := ParsePKCS8PrivateKey(zero); err == nil {
		t.Error("zero private key accepted")
	}
}
