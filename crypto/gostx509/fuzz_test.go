package gostx509

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

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

// FuzzParsePKCS8: no panic; parse → marshal → parse gives the same key,
// and the encoding is stable.
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
		if k2.Curve() != k.Curve() {
			t.Fatalf("curve %v became %v", k.Curve().Name(), k2.Curve().Name())
		}
		if again2, _ := MarshalPKCS8PrivateKey(k2); !bytes.Equal(again, again2) {
			t.Fatal("encoding is not stable")
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

// FuzzCertificate: whatever crypto/x509 accepts, our GOST handling of it
// (key, signature algorithm, signature check, chain) must not panic, and
// parse → marshal → parse holds: the certificate's own DER parses to an
// equal certificate with the same GOST reading, and its GOST key,
// re-encoded, parses to the same key.
func FuzzCertificate(f *testing.F) {
	k, _ := gost3410.GenerateKey(gost3410.CurveTC26256A, nil)
	for _, signer := range []*gost3410.PrivateKey{k, mustKey(gost3410.CurveTC26512A), mustKey(gost3410.CurveCryptoProA)} {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fuzz"},
			NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0), KeyUsage: x509.KeyUsageDigitalSignature}
		der, _ := CreateCertificate(nil, tmpl, tmpl, signer.Public(), signer)
		f.Add(der)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		pub, keyErr := PublicKey(c)
		alg, algErr := SignatureAlgorithm(c)
		CheckCertificateSignature(c, k.PublicKey())
		(&ChainVerifier{}).VerifyChain(c, ChainOptions{Roots: []*x509.Certificate{c}, Intermediates: []*x509.Certificate{c}})

		c2, err := x509.ParseCertificate(c.Raw)
		if err != nil || !c2.Equal(c) {
			t.Fatalf("the certificate's DER does not parse back: %v", err)
		}
		pub2, keyErr2 := PublicKey(c2)
		alg2, algErr2 := SignatureAlgorithm(c2)
		if (keyErr == nil) != (keyErr2 == nil) || keyErr == nil && !pub2.Equal(pub) {
			t.Fatalf("key %v then %v", keyErr, keyErr2)
		}
		if (algErr == nil) != (algErr2 == nil) || !alg.Equal(alg2) {
			t.Fatalf("signature algorithm %v (%v) then %v (%v)", alg, algErr, alg2, algErr2)
		}
		if keyErr != nil {
			return
		}
		spki, err := MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		if pub3, err := ParsePKIXPublicKey(spki); err != nil || !pub3.Equal(pub) {
			t.Fatalf("the certificate's key, re-encoded, does not parse back: %v", err)
		}
	})
}

func mustKey(c *gost3410.Curve) *gost3410.PrivateKey {
	k, err := gost3410.GenerateKey(c, nil)
	if err != nil {
		panic(err)
	}
	return k
}
