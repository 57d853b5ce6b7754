package gostx509

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"errors"
	"fmt"
	"io"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/streebog"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// CreateCertificate issues a certificate signed with a GOST key, which
// crypto/x509.CreateCertificate refuses. template and parent are used as
// there (parent == template for a self-signed certificate); pub is the
// subject's key (GOST, or any key crypto/x509 can marshal) and signer holds
// the issuer's GOST private key (a *gost3410.PrivateKey or a token key).
//
// crypto/x509 encodes the names and extensions: the certificate is first
// built with a throwaway ECDSA key, then its SubjectPublicKeyInfo and
// signature algorithm are replaced and the TBSCertificate is signed with
// GOST R 34.10-2012 and Streebog. The signature algorithm is written with
// NULL parameters, as OpenSSL's GOST engine writes it.
func CreateCertificate(random io.Reader, template, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) ([]byte, error) {
	if random == nil {
		random = rand.Reader
	}
	issuerKey, ok := signer.Public().(*gost3410.PublicKey)
	if !ok {
		return nil, errors.New("gostx509: the issuer key is not a GOST key")
	}
	var spki []byte
	var err error
	if gpub, ok := pub.(*gost3410.PublicKey); ok {
		spki, err = MarshalPKIXPublicKey(gpub)
	} else {
		spki, err = x509.MarshalPKIXPublicKey(pub)
	}
	if err != nil {
		return nil, err
	}
	tmpl := *template
	if len(tmpl.SubjectKeyId) == 0 {
		// RFC 5280 4.2.1.2 method 1 over the real key, not the throwaway one.
		tmpl.SubjectKeyId = keyID(spki)
	}
	par := parent
	if parent == template {
		par = &tmpl
	}
	if len(par.SubjectKeyId) == 0 && par != &tmpl {
		if pspki, err := MarshalPKIXPublicKey(issuerKey); err == nil {
			p := *par
			p.SubjectKeyId = keyID(pspki)
			par = &p
		}
	}
	throwaway, err := ecdsa.GenerateKey(elliptic.P256(), random)
	if err != nil {
		return nil, err
	}
	draft, err := x509.CreateCertificate(random, &tmpl, par, &throwaway.PublicKey, throwaway)
	if err != nil {
		return nil, fmt.Errorf("gostx509: %w", err)
	}
	tbs, err := replaceKeyAndAlgorithm(draft, spki, issuerKey.Curve())
	if err != nil {
		return nil, err
	}
	var digest []byte
	if issuerKey.Curve().Size() == 64 {
		d := streebog.Sum512(tbs)
		digest = d[:]
	} else {
		d := streebog.Sum256(tbs)
		digest = d[:]
	}
	sig, err := signer.Sign(random, digest, nil)
	if err != nil {
		return nil, fmt.Errorf("gostx509: signing: %w", err)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		addSignatureAlgorithm(b, issuerKey.Curve())
		b.AddASN1BitString(sig)
	})
	return b.Bytes()
}

func keyID(spki []byte) []byte {
	s := cryptobyte.String(spki)
	var body, alg cryptobyte.String
	var bits []byte
	if s.ReadASN1(&body, cbasn1.SEQUENCE) && body.ReadASN1(&alg, cbasn1.SEQUENCE) {
		var bitString cryptobyte.String
		if body.ReadASN1(&bitString, cbasn1.BIT_STRING) && len(bitString) > 0 {
			bits = bitString[1:]
		}
	}
	h := sha1.Sum(bits)
	return h[:]
}

func addSignatureAlgorithm(b *cryptobyte.Builder, c *gost3410.Curve) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(SignatureOID(c))
		b.AddASN1NULL()
	})
}

// replaceKeyAndAlgorithm rewrites the TBSCertificate of draft with spki and
// the GOST signature algorithm of c.
func replaceKeyAndAlgorithm(draft []byte, spki []byte, c *gost3410.Curve) ([]byte, error) {
	in := cryptobyte.String(draft)
	var cert, tbs cryptobyte.String
	if !in.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, ErrMalformed
	}
	var version, serial, sigAlg, issuer, validity, subject, oldSPKI cryptobyte.String
	hasVersion := tbs.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific())
	if hasVersion && !tbs.ReadASN1Element(&version, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, ErrMalformed
	}
	if !tbs.ReadASN1Element(&serial, cbasn1.INTEGER) ||
		!tbs.ReadASN1Element(&sigAlg, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&issuer, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&validity, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&subject, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&oldSPKI, cbasn1.SEQUENCE) {
		return nil, ErrMalformed
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if hasVersion {
			b.AddBytes(version)
		}
		b.AddBytes(serial)
		addSignatureAlgorithm(b, c)
		b.AddBytes(issuer)
		b.AddBytes(validity)
		b.AddBytes(subject)
		b.AddBytes(spki)
		b.AddBytes(tbs) // issuer/subject unique IDs and extensions, unchanged
	})
	return b.Bytes()
}
