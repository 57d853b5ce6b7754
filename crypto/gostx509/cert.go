package gostx509

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/streebog"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ErrSignature reports a GOST signature that does not verify.
var ErrSignature = errors.New("gostx509: signature does not verify")

// PublicKey returns the GOST public key of a certificate parsed by
// crypto/x509, or ErrNotGOST for another algorithm.
func PublicKey(cert *x509.Certificate) (*gost3410.PublicKey, error) {
	return ParsePKIXPublicKey(cert.RawSubjectPublicKeyInfo)
}

// IsSignatureOID reports whether alg names GOST R 34.10-2012 with Streebog.
func IsSignatureOID(alg asn1.ObjectIdentifier) bool {
	return alg.Equal(OIDSignature256) || alg.Equal(OIDSignature512)
}

// VerifySignature checks sig (BE(s) ‖ BE(r)) over signed: the Streebog
// digest named by alg must match the size of pub.
func VerifySignature(alg asn1.ObjectIdentifier, signed, sig []byte, pub *gost3410.PublicKey) error {
	var digest []byte
	switch {
	case alg.Equal(OIDSignature256) && pub.Curve().Size() == 32:
		d := streebog.Sum256(signed)
		digest = d[:]
	case alg.Equal(OIDSignature512) && pub.Curve().Size() == 64:
		d := streebog.Sum512(signed)
		digest = d[:]
	case IsSignatureOID(alg):
		return fmt.Errorf("%w: %v with a %d-bit key", ErrMalformed, alg, pub.Curve().Bits())
	default:
		return fmt.Errorf("%w: signature algorithm %v", ErrNotGOST, alg)
	}
	if !pub.Verify(digest, sig) {
		return ErrSignature
	}
	return nil
}

// SignatureAlgorithm returns the OID of a certificate's outer signature
// algorithm, which crypto/x509 reports only as Unknown for GOST. It checks
// that the parameters are absent or NULL (both spellings occur: GnuTLS omits
// them, OpenSSL writes NULL) and that the TBS signature field agrees.
func SignatureAlgorithm(cert *x509.Certificate) (asn1.ObjectIdentifier, error) {
	input := cryptobyte.String(cert.Raw)
	var c, tbs, outer cryptobyte.String
	if !input.ReadASN1(&c, cbasn1.SEQUENCE) || !c.ReadASN1(&tbs, cbasn1.SEQUENCE) || !c.ReadASN1(&outer, cbasn1.SEQUENCE) {
		return nil, ErrMalformed
	}
	var outerRaw = outer
	alg, err := readSignatureAlgorithm(outer)
	if err != nil {
		return nil, err
	}
	// TBSCertificate: [0] version (optional), serialNumber, signature.
	tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific())
	var inner cryptobyte.String
	if !tbs.SkipASN1(cbasn1.INTEGER) || !tbs.ReadASN1(&inner, cbasn1.SEQUENCE) {
		return nil, ErrMalformed
	}
	if string(inner) != string(outerRaw) {
		return nil, fmt.Errorf("%w: TBS and outer signature algorithms differ", ErrMalformed)
	}
	return alg, nil
}

func readSignatureAlgorithm(alg cryptobyte.String) (asn1.ObjectIdentifier, error) {
	var oid asn1.ObjectIdentifier
	if !alg.ReadASN1ObjectIdentifier(&oid) {
		return nil, ErrMalformed
	}
	if !alg.Empty() {
		var null cryptobyte.String
		if !alg.ReadASN1(&null, cbasn1.NULL) || len(null) != 0 || !alg.Empty() {
			return nil, fmt.Errorf("%w: signature algorithm parameters must be NULL or absent", ErrMalformed)
		}
	}
	return oid, nil
}

// CheckCertificateSignature checks that cert carries a valid GOST signature
// by issuer's key. It checks only the signature; names, validity and key
// usage are the path builder's job.
func CheckCertificateSignature(cert *x509.Certificate, issuer *gost3410.PublicKey) error {
	alg, err := SignatureAlgorithm(cert)
	if err != nil {
		return err
	}
	return VerifySignature(alg, cert.RawTBSCertificate, cert.Signature, issuer)
}
