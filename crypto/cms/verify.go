package cms

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"

	"github.com/podpis/podpis/crypto/gostx509"
)

// ErrSignerMismatch reports a signingCertificateV2 attribute that names
// another certificate than the one the signature verifies with.
var ErrSignerMismatch = errors.New("cms: signing certificate attribute does not match the signer")

// ErrContentType reports a contentType attribute that differs from the
// encapsulated content type.
var ErrContentType = errors.New("cms: content type attribute does not match the content")

// FindCertificate returns the certificate of certs that info identifies.
func (info *SignerInfo) FindCertificate(certs []*x509.Certificate) (*x509.Certificate, error) {
	for _, c := range certs {
		if info.SubjectKeyID != nil {
			if len(c.SubjectKeyId) > 0 && bytes.Equal(c.SubjectKeyId, info.SubjectKeyID) {
				return c, nil
			}
			continue
		}
		if c.SerialNumber.Cmp(info.SerialNumber) == 0 && bytes.Equal(c.RawIssuer, info.Issuer) {
			return c, nil
		}
	}
	return nil, ErrSignerNotFound
}

// VerifySigner checks one signer's signature with cert over the
// encapsulated content, or over detached when the message carries none, or
// over the content's digests when the message was read by ParseStream (and
// HashContent, when detached). It
// checks the signed attributes (content type, message digest and, when
// present, the signing certificate) but neither the certificate's chain nor
// its validity: that is the caller's policy.
func (sd *SignedData) VerifySigner(info *SignerInfo, cert *x509.Certificate, detached []byte) error {
	switch {
	case !sd.Attached && detached == nil && sd.digests == nil:
		return ErrNoContent
	case sd.Content != nil && detached != nil && !bytes.Equal(sd.Content, detached):
		return ErrDigestMismatch
	}
	dalg := digestByOID(info.DigestAlgorithm)
	if dalg == nil {
		return fmt.Errorf("%w: digest %v", ErrUnsupported, info.DigestAlgorithm)
	}
	if sd.Attached && !slices.ContainsFunc(sd.listed, dalg.oid.Equal) {
		// A stream is hashed with the listed digests only: held, the
		// same message must fare the same.
		return fmt.Errorf("%w: digest %v not listed in digestAlgorithms", ErrMalformed, dalg.oid)
	}
	var digest []byte
	if detached != nil {
		h := dalg.new()
		h.Write(detached)
		digest = h.Sum(nil)
		if sd.digests != nil {
			// Streamed, and content given too: it must be what was hashed.
			want, err := sd.contentDigest(dalg)
			if err != nil {
				return err
			}
			if subtle.ConstantTimeCompare(want, digest) != 1 {
				return ErrDigestMismatch
			}
		}
	} else {
		var err error
		if digest, err = sd.contentDigest(dalg); err != nil {
			return err
		}
	}
	h := dalg.new()
	if !info.HasSignedAttributes && !sd.ContentType.Equal(OIDData) {
		// RFC 5652, 5.3: without attributes nothing binds the content type
		// to the signature, so only id-data may go without them.
		return ErrContentType
	}
	if info.HasSignedAttributes {
		if !info.AttrContentType.Equal(sd.ContentType) {
			return ErrContentType
		}
		if subtle.ConstantTimeCompare(info.MessageDigest, digest) != 1 {
			return ErrDigestMismatch
		}
		if err := checkSigningCert(info, cert); err != nil {
			return err
		}
		h.Reset()
		h.Write(info.signedAttrs)
		digest = h.Sum(nil)
	}
	return verifySignature(info, dalg, digest, cert)
}

func checkSigningCert(info *SignerInfo, cert *x509.Certificate) error {
	if len(info.SigningCertHashes) == 0 {
		return nil
	}
	// RFC 5035: the first ESSCertIDv2 identifies the signing certificate.
	id := info.SigningCertHashes[0]
	dalg := digestByOID(id.Algorithm)
	if dalg == nil {
		return fmt.Errorf("%w: signing certificate hash %v", ErrUnsupported, id.Algorithm)
	}
	h := dalg.new()
	h.Write(cert.Raw)
	if !bytes.Equal(h.Sum(nil), id.Hash) {
		return ErrSignerMismatch
	}
	return nil
}

func verifySignature(info *SignerInfo, dalg *digestAlg, digest []byte, cert *x509.Certificate) error {
	alg := info.SignatureAlgorithm
	if pub, err := gostx509.PublicKey2001(cert); err == nil {
		// An archive: GOST R 34.10-2001 with GOST R 34.11-94 only.
		if !(alg.Equal(gostx509.OIDPublicKey2001) || alg.Equal(gostx509.OIDSignature2001)) || !dalg.v2001 {
			return fmt.Errorf("%w: %v with digest %v for a GOST R 34.10-2001 key", ErrUnsupported, alg, info.DigestAlgorithm)
		}
		if gostx509.VerifySignature2001(digest, info.Signature, pub) != nil {
			return ErrBadSignature
		}
		return nil
	}
	if pub, err := gostx509.PublicKey(cert); err == nil {
		size := pub.Curve().Size()
		okAlg := alg.Equal(gostx509.KeyOID(pub.Curve())) || alg.Equal(gostx509.SignatureOID(pub.Curve()))
		if !okAlg || !dalg.gost || dalg.v2001 || dalg.gostSz != size {
			return fmt.Errorf("%w: %v with digest %v for a %d-bit GOST key", ErrUnsupported, alg, info.DigestAlgorithm, 8*size)
		}
		if !pub.Verify(digest, info.Signature) {
			return ErrBadSignature
		}
		return nil
	} else if !errors.Is(err, gostx509.ErrNotGOST) {
		return fmt.Errorf("cms: signer certificate key: %w", err)
	}
	if dalg.gost {
		return fmt.Errorf("%w: Streebog with a non-GOST key", ErrUnsupported)
	}
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		want := map[string]bool{oidRSAEncryption.String(): true}
		switch info.DigestAlgorithm.String() {
		case oidSHA256.String():
			want[oidSHA256WithRSA.String()] = true
		case oidSHA384.String():
			want[oidSHA384WithRSA.String()] = true
		case oidSHA512.String():
			want[oidSHA512WithRSA.String()] = true
		}
		if !want[alg.String()] {
			return fmt.Errorf("%w: %v with an RSA key", ErrUnsupported, alg)
		}
		if rsa.VerifyPKCS1v15(pub, dalg.hash, digest, info.Signature) != nil {
			return ErrBadSignature
		}
		return nil
	case *ecdsa.PublicKey:
		ok := alg.Equal(oidECPublicKey) ||
			(alg.Equal(oidECDSAWithSHA2) && dalg.oid.Equal(oidSHA256)) ||
			(alg.Equal(oidECDSAWithSHA3) && dalg.oid.Equal(oidSHA384)) ||
			(alg.Equal(oidECDSAWithSHA5) && dalg.oid.Equal(oidSHA512))
		if !ok {
			return fmt.Errorf("%w: %v with an ECDSA key", ErrUnsupported, alg)
		}
		if !ecdsa.VerifyASN1(pub, digest, info.Signature) {
			return ErrBadSignature
		}
		return nil
	}
	return fmt.Errorf("%w: signer key type %T", ErrUnsupported, cert.PublicKey)
}
