package capi

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/enginetest"
	"github.com/podpis/podpis/internal/testpki"
)

// TestByteOrder: CryptSignHash writes r and s little-endian, r first; CMS
// carries s and r big-endian, s first (as OpenSSL's GOST engine writes it).
// The engine's signatures, turned into CryptoAPI's layout and read back as
// CryptoAPI defines it, give the same r and s, for 256- and 512-bit keys.
func TestByteOrder(t *testing.T) {
	enginetest.Require(t)
	dir := t.TempDir()
	for _, ps := range []enginetest.Paramset{{Algorithm: "gost2012_256", Name: "A"}, {Algorithm: "gost2012_512", Name: "A"}} {
		key := enginetest.GenKey(t, dir, ps)
		cert := filepath.Join(dir, ps.Algorithm+".pem")
		enginetest.Run(t, nil, "req", "-engine", "gost", "-x509", "-new", "-key", key, "-subj", "/CN=byte order", "-days", "2", "-out", cert)
		doc := filepath.Join(dir, "doc.txt")
		os.WriteFile(doc, []byte("порядок байтов"), 0o600)
		der := enginetest.Run(t, nil, "cms", "-sign", "-engine", "gost", "-binary", "-nodetach", "-outform", "DER",
			"-signer", cert, "-inkey", key, "-in", doc)
		sd, err := cms.Parse(der)
		if err != nil {
			t.Fatal(err)
		}
		sig := sd.Signers[0].Signature
		n := len(sig) / 2
		s, r := new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])

		capi := ToCAPI(sig)
		le := func(b []byte) *big.Int { b = slices.Clone(b); slices.Reverse(b); return new(big.Int).SetBytes(b) }
		if le(capi[:n]).Cmp(r) != 0 || le(capi[n:]).Cmp(s) != 0 {
			t.Errorf("%s: CryptoAPI layout is not LE(r) ‖ LE(s)", ps.Algorithm)
		}
		if !bytes.Equal(FromCAPI(capi), sig) {
			t.Errorf("%s: FromCAPI(ToCAPI(sig)) differs", ps.Algorithm)
		}
	}
}

func TestProviderTypes(t *testing.T) {
	for pt, want := range map[ProviderType]struct {
		vendor string
		hash   uint32
		bits   int
	}{
		80: {"КриптоПро CSP", 0x8021, 256}, 81: {"КриптоПро CSP", 0x8022, 512}, 75: {"КриптоПро CSP", 0x801e, 256},
		77: {"ViPNet CSP", 0x8021, 256}, 78: {"ViPNet CSP", 0x8022, 512},
	} {
		ti, ok := Type(pt)
		if !ok || ti.Vendor != want.vendor || ti.HashID != want.hash || ti.Bits != want.bits {
			t.Errorf("type %d: %+v", pt, ti)
		}
	}
	if _, ok := Type(24); ok { // PROV_RSA_AES
		t.Error("an RSA provider taken for GOST")
	}
	if got := GOSTTypes(); !slices.Equal(got, []ProviderType{75, 77, 78, 80, 81}) {
		t.Errorf("GOSTTypes() = %v", got)
	}
}

func TestErrorOf(t *testing.T) {
	for hr, want := range map[uint32]keystore.Code{
		0x8010006B: keystore.CodePINIncorrect,  // SCARD_W_WRONG_CHV
		0x8010006C: keystore.CodePINLocked,     // SCARD_W_CHV_BLOCKED
		0x8010006E: keystore.CodeCancelled,     // SCARD_W_CANCELLED_BY_USER
		0x800704C7: keystore.CodeCancelled,     // ERROR_CANCELLED
		0x80100069: keystore.CodeTokenRemoved,  // SCARD_W_REMOVED_CARD
		0x8010000C: keystore.CodeTokenRemoved,  // SCARD_E_NO_SMARTCARD
		0x80090016: keystore.CodeCertNotFound,  // NTE_BAD_KEYSET
		0x80090017: keystore.CodeNoProvider,    // NTE_PROV_TYPE_NOT_DEF
		0x80090020: keystore.CodeProviderError, // NTE_FAIL
	} {
		err := ErrorOf("CryptSignHash", hr)
		var ke *keystore.Error
		if !errors.As(err, &ke) || ke.Code != want {
			t.Errorf("0x%08X → %v, want %s", hr, err, want)
		}
	}
}

// TestRecord: a store entry with a GOST key becomes a certificate with its
// CSP and container; so does one with an RSA key in an RSA provider (people
// keep those in MY for foreign sites); a GOST certificate under an RSA
// provider, a CNG key (type 0) and junk are left out.
func TestRecord(t *testing.T) {
	ca := testpki.Root(t, gost3410.CurveTC26256A, "УЦ", time.Now())
	cert, _ := ca.Person(t, gost3410.CurveTC26512A, pkix.Name{CommonName: "Иванов Иван"}, time.Now(), nil)
	c, ok := Record(cert.Raw, ProvGOST2012512, "Crypto-Pro GOST R 34.10-2012 Strong Cryptographic Service Provider", `\\.\REGISTRY\ivanov`, time.Now())
	if !ok || c.Identity.CommonName != "Иванов Иван" || !c.HasKey || !c.Usable() ||
		c.Source != "КриптоПро CSP (Crypto-Pro GOST R 34.10-2012 Strong Cryptographic Service Provider, тип 81)" || c.Token != `\\.\REGISTRY\ivanov` {
		t.Fatalf("%+v", c)
	}
	rsaDER := rsaCertificate(t, "Петров Пётр")
	for _, tc := range []struct {
		name string
		der  []byte
		typ  ProviderType
		want string // Source; "" for an entry left out
	}{
		{"rsa full", rsaDER, ProvRSAFull, "Microsoft Enhanced Cryptographic Provider v1.0 (RSA, тип 1)"},
		{"rsa aes", rsaDER, ProvRSAAES, "Microsoft Enhanced Cryptographic Provider v1.0 (RSA, тип 24)"},
		{"gost certificate, rsa provider", cert.Raw, ProvRSAAES, ""},
		{"rsa certificate, gost provider", rsaDER, ProvGOST2012256, ""},
		{"cng key", rsaDER, 0, ""},
		{"dsa provider", rsaDER, 3, ""},
		{"vipnet 2001 (type 2)", rsaDER, 2, ""},
		{"junk", []byte("junk"), ProvRSAAES, ""},
	} {
		c, ok := Record(tc.der, tc.typ, "Microsoft Enhanced Cryptographic Provider v1.0", "c", time.Now())
		switch {
		case tc.want == "" && ok:
			t.Errorf("%s: taken: %+v", tc.name, c)
		case tc.want != "" && !ok:
			t.Errorf("%s: left out", tc.name)
		case ok && (c.Source != tc.want || c.Identity.CommonName != "Петров Пётр" || !c.HasKey || c.Token != "c"):
			t.Errorf("%s: %+v", tc.name, c)
		}
	}
}

func TestHashID(t *testing.T) {
	for h, want := range map[crypto.Hash]uint32{crypto.SHA1: 0x8004, crypto.SHA256: 0x800c, crypto.SHA384: 0x800d, crypto.SHA512: 0x800e} {
		if got, ok := HashID(h); !ok || got != want {
			t.Errorf("%v: 0x%x, %v", h, got, ok)
		}
	}
	for _, h := range []crypto.Hash{crypto.MD5, crypto.SHA3_256, 0} {
		if _, ok := HashID(h); ok {
			t.Errorf("%v taken", h)
		}
	}
}

// rsaCertificate is a self-signed RSA signing certificate for cn.
func rsaCertificate(t *testing.T, cn string) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
