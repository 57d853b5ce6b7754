package gostx509

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"fmt"
	"io"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/streebog"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// CreateCertificate issues a certificate where crypto/x509.CreateCertificate
// cannot: signed with a GOST key, or for a GOST subject key. template and
// parent are used as there (parent == template for a self-signed
// certificate); pub is the subject's key and signer the issuer's private
// key (GOST, RSA or ECDSA; a *gost3410.PrivateKey or a token key).
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
	issuerKey, gostIssuer := signer.Public().(*gost3410.PublicKey)
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
	if gostIssuer && len(par.SubjectKeyId) == 0 && par != &tmpl {
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
	if !gostIssuer {
		// The issuer signs as crypto/x509 would; only the subject key is
		// swapped in.
		draft, err := x509.CreateCertificate(random, &tmpl, par, &throwaway.PublicKey, signer)
		if err != nil {
			return nil, fmt.Errorf("gostx509: %w", err)
		}
		return resign(random, draft, spki, signer)
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

// resign replaces the subject key of a certificate crypto/x509 made and
// signs it again with signer under the same (non-GOST) algorithm.
func resign(random io.Reader, draft, spki []byte, signer crypto.Signer) ([]byte, error) {
	parsed, err := x509.ParseCertificate(draft)
	if err != nil {
		return nil, err
	}
	var hash crypto.Hash
	switch parsed.SignatureAlgorithm {
	case x509.SHA256WithRSA, x509.ECDSAWithSHA256:
		hash = crypto.SHA256
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384:
		hash = crypto.SHA384
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512:
		hash = crypto.SHA512
	default:
		return nil, fmt.Errorf("gostx509: cannot re-sign %v", parsed.SignatureAlgorithm)
	}
	tbs, sigAlg, err := replaceKey(draft, spki)
	if err != nil {
		return nil, err
	}
	h := hash.New()
	h.Write(tbs)
	sig, err := signer.Sign(random, h.Sum(nil), hash)
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		b.AddBytes(sigAlg)
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

// replaceKey rewrites the TBSCertificate of draft with spki, keeping the
// signature algorithm, which it also returns.
func replaceKey(draft []byte, spki []byte) (tbs, sigAlg []byte, err error) {
	var alg []byte
	tbs, err = rewriteTBS(draft, spki, func(b *cryptobyte.Builder, old []byte) { alg = old; b.AddBytes(old) })
	return tbs, alg, err
}

// replaceKeyAndAlgorithm rewrites the TBSCertificate of draft with spki and
// the GOST signature algorithm of c.
func replaceKeyAndAlgorithm(draft []byte, spki []byte, c *gost3410.Curve) ([]byte, error) {
	return rewriteTBS(draft, spki, func(b *cryptobyte.Builder, _ []byte) { addSignatureAlgorithm(b, c) })
}

func rewriteTBS(draft []byte, spki []byte, writeAlg func(b *cryptobyte.Builder, old []byte)) ([]byte, error) {
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
		writeAlg(b, sigAlg)
		b.AddBytes(issuer)
		b.AddBytes(validity)
		b.AddBytes(subject)
		b.AddBytes(spki)
		b.AddBytes(tbs) // issuer/subject unique IDs and extensions, unchanged
	})
	return b.Bytes()
}
