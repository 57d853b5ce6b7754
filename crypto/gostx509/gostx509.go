// Package gostx509 encodes GOST R 34.10-2012 keys as X.509 and PKCS#8 carry
// them (RFC 9215, RFC 4491 and the conventions of OpenSSL's GOST engine) and
// checks GOST signatures on certificates, which crypto/x509 parses but
// cannot verify.
//
// A SubjectPublicKeyInfo holds the key algorithm (id-tc26-gost3410-12-256 or
// -512) with parameters SEQUENCE { curve OID [, digest OID] } and a BIT STRING
// wrapping a DER OCTET STRING of LE(X) ‖ LE(Y). A PKCS#8 private key holds the
// same algorithm identifier and, as the engine writes it, the raw
// little-endian private key as the PrivateKey OCTET STRING; on reading, the
// engine's other forms are accepted too (a nested OCTET STRING, an INTEGER,
// and the CryptoPro masked forms). Parsers never panic on bad input.
package gostx509

import (
	"encoding/asn1"
	"errors"
	"fmt"

	"github.com/podpis/podpis/crypto/gost3410"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Object identifiers of RFC 9215 and the TC26 registry.
var (
	OIDPublicKey256 = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 1, 1} // id-tc26-gost3410-12-256
	OIDPublicKey512 = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 1, 2} // id-tc26-gost3410-12-512
	OIDStreebog256  = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 2, 2} // id-tc26-gost3411-12-256
	OIDStreebog512  = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 2, 3} // id-tc26-gost3411-12-512
	OIDSignature256 = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 3, 2} // id-tc26-signwithdigest-gost3410-12-256
	OIDSignature512 = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 3, 3} // id-tc26-signwithdigest-gost3410-12-512
)

var (
	// ErrMalformed reports DER that does not have the expected structure.
	ErrMalformed = errors.New("gostx509: malformed encoding")
	// ErrNotGOST reports a well-formed key or certificate of another algorithm.
	ErrNotGOST = errors.New("gostx509: not a GOST R 34.10-2012 key")
	// ErrUnknownCurve reports a parameter set OID this package does not know.
	ErrUnknownCurve = errors.New("gostx509: unknown GOST parameter set")
)

// KeyOID returns the public key algorithm OID for a curve size.
func KeyOID(c *gost3410.Curve) asn1.ObjectIdentifier {
	if c.Size() == 64 {
		return OIDPublicKey512
	}
	return OIDPublicKey256
}

// DigestOID returns the Streebog OID matching a curve size.
func DigestOID(c *gost3410.Curve) asn1.ObjectIdentifier {
	if c.Size() == 64 {
		return OIDStreebog512
	}
	return OIDStreebog256
}

// SignatureOID returns the signature algorithm OID for a curve size.
func SignatureOID(c *gost3410.Curve) asn1.ObjectIdentifier {
	if c.Size() == 64 {
		return OIDSignature512
	}
	return OIDSignature256
}

// writesDigestOID mirrors OpenSSL's GOST engine, which names the digest in
// the key parameters for the RFC 4357 sets and TC26 512 A and B only.
func writesDigestOID(c *gost3410.Curve) bool {
	switch c.Name() {
	case "cryptopro-a", "cryptopro-b", "cryptopro-c", "cryptopro-xcha", "cryptopro-xchb", "tc26-512-a", "tc26-512-b":
		return true
	}
	return false
}

// addAlgorithm writes AlgorithmIdentifier { key OID, SEQUENCE { curve [, digest] } }.
func addAlgorithm(b *cryptobyte.Builder, c *gost3410.Curve) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(KeyOID(c))
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(c.OID())
			if writesDigestOID(c) {
				b.AddASN1ObjectIdentifier(DigestOID(c))
			}
		})
	})
}

// parseAlgorithm reads a GOST AlgorithmIdentifier and returns the curve. The
// digest OID, when present, must match the key size.
func parseAlgorithm(alg cryptobyte.String) (*gost3410.Curve, error) {
	var keyOID asn1.ObjectIdentifier
	if !alg.ReadASN1ObjectIdentifier(&keyOID) {
		return nil, ErrMalformed
	}
	size := 0
	switch {
	case keyOID.Equal(OIDPublicKey256):
		size = 32
	case keyOID.Equal(OIDPublicKey512):
		size = 64
	default:
		return nil, fmt.Errorf("%w: algorithm %v", ErrNotGOST, keyOID)
	}
	var params cryptobyte.String
	if !alg.ReadASN1(&params, cbasn1.SEQUENCE) || !alg.Empty() {
		return nil, ErrMalformed
	}
	var curveOID, digestOID asn1.ObjectIdentifier
	if !params.ReadASN1ObjectIdentifier(&curveOID) {
		return nil, ErrMalformed
	}
	if !params.Empty() {
		if !params.ReadASN1ObjectIdentifier(&digestOID) {
			return nil, ErrMalformed
		}
		// A third element (an encryption parameter set, RFC 4491) is
		// allowed and ignored.
		if !params.Empty() {
			var cipher asn1.ObjectIdentifier
			if !params.ReadASN1ObjectIdentifier(&cipher) || !params.Empty() {
				return nil, ErrMalformed
			}
		}
	}
	c := gost3410.CurveByOID(curveOID)
	if c == nil {
		return nil, fmt.Errorf("%w: %v", ErrUnknownCurve, curveOID)
	}
	if c.Size() != size {
		return nil, fmt.Errorf("%w: %d-bit parameter set %s under a %d-bit key algorithm", ErrMalformed, c.Bits(), c.Name(), 8*size)
	}
	if digestOID != nil && !digestOID.Equal(DigestOID(c)) {
		return nil, fmt.Errorf("%w: digest %v does not match a %d-bit key", ErrMalformed, digestOID, c.Bits())
	}
	return c, nil
}

// MarshalPKIXPublicKey returns the DER SubjectPublicKeyInfo of k.
func MarshalPKIXPublicKey(k *gost3410.PublicKey) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addAlgorithm(b, k.Curve())
		var inner cryptobyte.Builder
		inner.AddASN1OctetString(k.Bytes())
		der := inner.BytesOrPanic()
		b.AddASN1BitString(der)
	})
	return b.Bytes()
}

// ParsePKIXPublicKey parses a DER SubjectPublicKeyInfo holding a GOST key,
// such as x509.Certificate.RawSubjectPublicKeyInfo. It returns ErrNotGOST
// for a key of another algorithm.
func ParsePKIXPublicKey(der []byte) (*gost3410.PublicKey, error) {
	input := cryptobyte.String(der)
	var spki, alg cryptobyte.String
	var bits asn1.BitString
	if !input.ReadASN1(&spki, cbasn1.SEQUENCE) || !input.Empty() ||
		!spki.ReadASN1(&alg, cbasn1.SEQUENCE) || !spki.ReadASN1BitString(&bits) || !spki.Empty() {
		return nil, ErrMalformed
	}
	c, err := parseAlgorithm(alg)
	if err != nil {
		return nil, err
	}
	if bits.BitLength%8 != 0 {
		return nil, ErrMalformed
	}
	inner := cryptobyte.String(bits.Bytes)
	var raw cryptobyte.String
	if !inner.ReadASN1(&raw, cbasn1.OCTET_STRING) || !inner.Empty() {
		return nil, ErrMalformed
	}
	k, err := gost3410.NewPublicKey(c, raw)
	if err != nil {
		return nil, fmt.Errorf("gostx509: %w", err)
	}
	return k, nil
}
