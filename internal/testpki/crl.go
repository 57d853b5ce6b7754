package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/crypto/streebog"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// CRL issues iss's full CRL listing revoked, current from thisUpdate to
// nextUpdate, as DER. A GOST issuer signs it the way CreateCertificate
// signs certificates: crypto/x509 encodes the list under a throwaway
// ECDSA key, then the signature algorithm is replaced and the
// TBSCertList signed with GOST R 34.10-2012 and Streebog.
func (iss *Issuer) CRL(t testing.TB, revoked []x509.RevocationListEntry, thisUpdate, nextUpdate time.Time) []byte {
	t.Helper()
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(serial.Add(1)),
		ThisUpdate: thisUpdate, NextUpdate: nextUpdate,
		RevokedCertificateEntries: revoked,
	}
	gost, ok := iss.Key.Public().(*gost3410.PublicKey)
	if !ok {
		der, err := x509.CreateRevocationList(rand.Reader, tmpl, iss.Cert, iss.Key)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	throwaway, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	issuer := *iss.Cert
	issuer.PublicKey = throwaway.Public()
	draft, err := x509.CreateRevocationList(rand.Reader, tmpl, &issuer, throwaway)
	if err != nil {
		t.Fatal(err)
	}
	// CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signature }
	// TBSCertList ::= SEQUENCE { version, signature AlgorithmIdentifier, rest… }
	in := cryptobyte.String(draft)
	var list, tbs, version cryptobyte.String
	if !in.ReadASN1(&list, cbasn1.SEQUENCE) || !list.ReadASN1(&tbs, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&version, cbasn1.INTEGER) || !tbs.SkipASN1(cbasn1.SEQUENCE) {
		t.Fatal("testpki: malformed CRL from crypto/x509")
	}
	alg := func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(gostx509.SignatureOID(gost.Curve()))
			b.AddASN1NULL()
		})
	}
	var tb cryptobyte.Builder
	tb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(version)
		alg(b)
		b.AddBytes(tbs) // issuer, dates, entries, extensions unchanged
	})
	newTBS := tb.BytesOrPanic()
	var digest []byte
	if gost.Curve().Size() == 64 {
		d := streebog.Sum512(newTBS)
		digest = d[:]
	} else {
		d := streebog.Sum256(newTBS)
		digest = d[:]
	}
	sig, err := iss.Key.Sign(rand.Reader, digest, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(newTBS)
		alg(b)
		b.AddASN1BitString(sig)
	})
	return b.BytesOrPanic()
}
