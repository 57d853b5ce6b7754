package gostx509

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gost341194"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// GOST R 34.10-2001 with GOST R 34.11-94 (RFC 4357, RFC 4491), for
// verifying archived signatures and their certificates only. These keys
// are a type of their own here: PublicKey and ParsePKIXPublicKey still
// refuse them (ErrNotGOST), so nothing that signs takes one for a 2012 key.
var (
	OIDPublicKey2001     = asn1.ObjectIdentifier{1, 2, 643, 2, 2, 19}    // id-GostR3410-2001
	OIDGost94            = asn1.ObjectIdentifier{1, 2, 643, 2, 2, 9}     // id-GostR3411-94
	OIDSignature2001     = asn1.ObjectIdentifier{1, 2, 643, 2, 2, 3}     // id-GostR3411-94-with-GostR3410-2001
	oidGost94CryptoPro   = asn1.ObjectIdentifier{1, 2, 643, 2, 2, 30, 1} // id-GostR3411-94-CryptoProParamSet
	errNot2001           = errors.New("gostx509: not a GOST R 34.10-2001 key")
	cryptoProCurvePrefix = "cryptopro-"
)

// PublicKey2001 returns the GOST R 34.10-2001 public key of cert, verify
// only: its curve is one of the CryptoPro sets (A, B, C, XchA, XchB) and
// its digest GOST R 34.11-94 with the CryptoPro parameters.
func PublicKey2001(cert *x509.Certificate) (*gost3410.PublicKey, error) {
	return parsePKIX2001(cert.RawSubjectPublicKeyInfo)
}

func parsePKIX2001(der []byte) (*gost3410.PublicKey, error) {
	input := cryptobyte.String(der)
	var spki, alg, params cryptobyte.String
	var bits asn1.BitString
	var keyOID, curveOID, digestOID asn1.ObjectIdentifier
	if !input.ReadASN1(&spki, cbasn1.SEQUENCE) || !input.Empty() ||
		!spki.ReadASN1(&alg, cbasn1.SEQUENCE) || !spki.ReadASN1BitString(&bits) || !spki.Empty() ||
		!alg.ReadASN1ObjectIdentifier(&keyOID) {
		return nil, ErrMalformed
	}
	if !keyOID.Equal(OIDPublicKey2001) {
		return nil, fmt.Errorf("%w: algorithm %v", errNot2001, keyOID)
	}
	if !alg.ReadASN1(&params, cbasn1.SEQUENCE) || !alg.Empty() || !params.ReadASN1ObjectIdentifier(&curveOID) {
		return nil, ErrMalformed
	}
	if !params.Empty() && !params.ReadASN1ObjectIdentifier(&digestOID) {
		return nil, ErrMalformed
	}
	if !params.Empty() { // an encryption parameter set, ignored
		var cipher asn1.ObjectIdentifier
		if !params.ReadASN1ObjectIdentifier(&cipher) || !params.Empty() {
			return nil, ErrMalformed
		}
	}
	if digestOID != nil && !digestOID.Equal(oidGost94CryptoPro) {
		return nil, fmt.Errorf("%w: GOST R 34.11-94 parameters %v", ErrUnknownCurve, digestOID)
	}
	c := gost3410.CurveByOID(curveOID)
	if c == nil || c.Size() != 32 || !strings.HasPrefix(c.Name(), cryptoProCurvePrefix) {
		return nil, fmt.Errorf("%w: %v for GOST R 34.10-2001", ErrUnknownCurve, curveOID)
	}
	inner := cryptobyte.String(bits.Bytes)
	var raw cryptobyte.String
	if bits.BitLength%8 != 0 || !inner.ReadASN1(&raw, cbasn1.OCTET_STRING) || !inner.Empty() {
		return nil, ErrMalformed
	}
	k, err := gost3410.NewPublicKey(c, raw)
	if err != nil {
		return nil, fmt.Errorf("gostx509: %w", err)
	}
	return k, nil
}

// VerifySignature2001 checks sig (BE(s) ‖ BE(r)) of GOST R 34.10-2001 over
// digest, a GOST R 34.11-94 digest: the same arithmetic as 2012's 256-bit
// signatures (RFC 5832 and RFC 7091 agree on it), with another hash.
func VerifySignature2001(digest, sig []byte, pub *gost3410.PublicKey) error {
	if len(digest) != gost341194.Size || !pub.Verify(digest, sig) {
		return ErrSignature
	}
	return nil
}

// checkSigned2001 verifies a certificate signed with GOST R 34.10-2001.
func checkSigned2001(child, parent *x509.Certificate) error {
	pub, err := PublicKey2001(parent)
	if err != nil {
		return fmt.Errorf("%w: issuer key: %v", ErrCertSignature, err)
	}
	d := gost341194.Sum(child.RawTBSCertificate)
	if err := VerifySignature2001(d[:], child.Signature, pub); err != nil {
		return fmt.Errorf("%w: %q", ErrCertSignature, child.Subject.CommonName)
	}
	return nil
}
