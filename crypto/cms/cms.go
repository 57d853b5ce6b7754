// Package cms parses, verifies and builds CMS SignedData (RFC 5652) with GOST
// R 34.10-2012 and Streebog (RFC 4490 conventions with the TC26 OIDs, as
// OpenSSL's GOST engine, GnuTLS and CryptoPro write them), and with RSA
// PKCS#1 v1.5 and ECDSA over SHA-2 for non-GOST tokens.
//
// go.mozilla.org/pkcs7 and its fork github.com/smallstep/pkcs7 cannot carry
// GOST: they verify through crypto/x509's signature algorithms, which have no
// GOST entry and no hook for one, and their digest table has no Streebog. So
// this package owns the CMS code, on golang.org/x/crypto/cryptobyte.
//
// Parsing is defensive: BER input (indefinite lengths, constructed strings)
// is normalised to DER within depth and element limits, every length is
// checked, and bad input yields an error, never a panic. Signed attributes
// (contentType, messageDigest, signingTime, CAdES-BES signingCertificateV2)
// are checked when present; the signature then covers their DER SET.
//
// Documents of any size are signed and read in memory independent of
// their size (Writer, ParseStream, HashContent); CoSign adds a parallel
// signer to an existing message. GOST R 34.10-2001 with GOST R 34.11-94
// is verified, for archives, and never signed with.
package cms

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Errors, for errors.Is.
var (
	ErrMalformed      = errors.New("cms: malformed SignedData")
	ErrUnsupported    = errors.New("cms: unsupported algorithm")
	ErrDigestMismatch = errors.New("cms: content does not match the signed digest")
	ErrBadSignature   = errors.New("cms: signature does not verify")
	ErrNoContent      = errors.New("cms: detached signature needs the content")
	ErrSignerNotFound = errors.New("cms: signer certificate not in the message")
)

// MaxSize bounds the input Parse accepts.
const MaxSize = 64 << 20

// SignedData is a parsed CMS SignedData.
type SignedData struct {
	// ContentType is the encapsulated content type (OIDData for plain
	// data). It is an x509.OID, not an asn1.ObjectIdentifier, because
	// content types may have arcs beyond an int, as those under 2.25
	// (UUIDs) do.
	ContentType x509.OID
	// Content is the encapsulated content, or nil when detached or read
	// by ParseStream.
	Content []byte
	// Attached says the message carries its content.
	Attached bool
	// Certificates are the certificates carried in the message.
	Certificates []*x509.Certificate
	// Signers are the SignerInfos in order.
	Signers []*SignerInfo

	// digests are the content's digests by digest OID, when the content
	// was streamed (ParseStream, HashContent) rather than held.
	digests map[string][]byte
	// listed are the digestAlgorithms: the digests an attached content
	// was hashed with when streamed, so a signer must name one of them
	// (RFC 5652, 5.1), held or streamed alike.
	listed []asn1.ObjectIdentifier
}

// SignerInfo is one signer of a SignedData.
type SignerInfo struct {
	// Exactly one of IssuerSerial and SubjectKeyID identifies the signer's
	// certificate.
	Issuer       []byte // raw DER Name
	SerialNumber *big.Int
	SubjectKeyID []byte

	DigestAlgorithm    asn1.ObjectIdentifier
	SignatureAlgorithm asn1.ObjectIdentifier
	Signature          []byte

	// Signed attributes; HasSignedAttributes is false when the signature
	// covers the content directly.
	HasSignedAttributes bool
	MessageDigest       []byte
	AttrContentType     x509.OID
	SigningTime         time.Time // zero when absent
	// SigningCertHashes are the certHash values of signingCertificateV2 with
	// their digest algorithms.
	SigningCertHashes []CertHash

	// UnsignedAttrs are the unsigned attributes in order (CAdES-T and
	// CAdES-X timestamps, references and values); nothing checks them
	// here: their meaning is the caller's.
	UnsignedAttrs []Attribute

	signedAttrs []byte // DER of the SET OF Attribute the signature covers
}

// Attribute is one attribute: its type and its values as DER elements.
type Attribute struct {
	Type   asn1.ObjectIdentifier
	Values [][]byte
	// Raw is the DER Attribute, what a CAdES-C timestamp hashes.
	Raw []byte
}

// CertHash is one ESSCertIDv2 of a signingCertificateV2 attribute.
type CertHash struct {
	Algorithm asn1.ObjectIdentifier
	Hash      []byte
}

// Parse parses a DER or BER ContentInfo holding SignedData.
func Parse(data []byte) (*SignedData, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, over the %d limit", ErrMalformed, len(data), MaxSize)
	}
	der, err := toDER(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return parseDER(der)
}

func parseDER(der []byte) (*SignedData, error) {
	in := cryptobyte.String(der)
	var ci, sdBody cryptobyte.String
	var ctype asn1.ObjectIdentifier
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) || !in.Empty() ||
		!ci.ReadASN1ObjectIdentifier(&ctype) {
		return nil, ErrMalformed
	}
	if !ctype.Equal(oidSignedData) {
		return nil, fmt.Errorf("%w: content type %v is not signedData", ErrMalformed, ctype)
	}
	var explicit cryptobyte.String
	if !ci.ReadASN1(&explicit, cbasn1.Tag(0).Constructed().ContextSpecific()) || !ci.Empty() ||
		!explicit.ReadASN1(&sdBody, cbasn1.SEQUENCE) || !explicit.Empty() {
		return nil, ErrMalformed
	}
	sd := &SignedData{}
	var version int64
	var digestAlgs, encap cryptobyte.String
	if !sdBody.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) || version < 0 || version > 5 ||
		!sdBody.ReadASN1(&digestAlgs, cbasn1.SET) ||
		!sdBody.ReadASN1(&encap, cbasn1.SEQUENCE) {
		return nil, ErrMalformed
	}
	var ok bool
	if sd.listed, ok = listedDigests(digestAlgs); !ok || !readOID(&encap, &sd.ContentType) {
		return nil, ErrMalformed
	}
	if !encap.Empty() {
		var content, octets cryptobyte.String
		if !encap.ReadASN1(&content, cbasn1.Tag(0).Constructed().ContextSpecific()) || !encap.Empty() ||
			!content.ReadASN1(&octets, cbasn1.OCTET_STRING) || !content.Empty() {
			return nil, ErrMalformed
		}
		sd.Content = append([]byte{}, octets...)
		sd.Attached = true
	}
	var certs cryptobyte.String
	var hasCerts bool
	if !sdBody.ReadOptionalASN1(&certs, &hasCerts, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, ErrMalformed
	}
	for hasCerts && !certs.Empty() {
		var raw cryptobyte.String
		var tag cbasn1.Tag
		if !certs.ReadAnyASN1Element(&raw, &tag) {
			return nil, ErrMalformed
		}
		if tag != cbasn1.SEQUENCE {
			continue // other certificate formats (attribute certificates) are skipped
		}
		c, err := x509.ParseCertificate(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate: %v", ErrMalformed, err)
		}
		sd.Certificates = append(sd.Certificates, c)
	}
	// CRLs [1] are not used: revocation is the verifier's job.
	if !sdBody.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return nil, ErrMalformed
	}
	var signers cryptobyte.String
	if !sdBody.ReadASN1(&signers, cbasn1.SET) || !sdBody.Empty() {
		return nil, ErrMalformed
	}
	for !signers.Empty() {
		var si cryptobyte.String
		if !signers.ReadASN1(&si, cbasn1.SEQUENCE) {
			return nil, ErrMalformed
		}
		info, err := parseSignerInfo(si)
		if err != nil {
			return nil, err
		}
		sd.Signers = append(sd.Signers, info)
	}
	return sd, nil
}

func parseSignerInfo(si cryptobyte.String) (*SignerInfo, error) {
	info := &SignerInfo{}
	var version int64
	if !si.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) {
		return nil, ErrMalformed
	}
	switch {
	case si.PeekASN1Tag(cbasn1.SEQUENCE):
		var ias, name cryptobyte.String
		info.SerialNumber = new(big.Int)
		if !si.ReadASN1(&ias, cbasn1.SEQUENCE) || !ias.ReadASN1Element(&name, cbasn1.SEQUENCE) ||
			!ias.ReadASN1Integer(info.SerialNumber) || !ias.Empty() {
			return nil, ErrMalformed
		}
		info.Issuer = append([]byte{}, name...)
	case si.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific()):
		var skid cryptobyte.String
		if !si.ReadASN1(&skid, cbasn1.Tag(0).ContextSpecific()) {
			return nil, ErrMalformed
		}
		info.SubjectKeyID = append([]byte{}, skid...)
	default:
		return nil, ErrMalformed
	}
	var err error
	if info.DigestAlgorithm, err = readAlgorithm(&si); err != nil {
		return nil, err
	}
	if si.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		var attrs cryptobyte.String
		if !si.ReadASN1(&attrs, cbasn1.Tag(0).Constructed().ContextSpecific()) {
			return nil, ErrMalformed
		}
		info.HasSignedAttributes = true
		// The signature covers the attributes with the SET tag (RFC 5652, 5.4).
		info.signedAttrs = appendTLV(nil, []byte{0x31}, attrs)
		if err := info.parseSignedAttrs(attrs); err != nil {
			return nil, err
		}
	}
	if info.SignatureAlgorithm, err = readAlgorithm(&si); err != nil {
		return nil, err
	}
	var sig cryptobyte.String
	if !si.ReadASN1(&sig, cbasn1.OCTET_STRING) {
		return nil, ErrMalformed
	}
	info.Signature = append([]byte{}, sig...)
	var unsigned cryptobyte.String
	var hasUnsigned bool
	if !si.ReadOptionalASN1(&unsigned, &hasUnsigned, cbasn1.Tag(1).Constructed().ContextSpecific()) || !si.Empty() {
		return nil, ErrMalformed
	}
	for hasUnsigned && !unsigned.Empty() {
		a, err := readAttribute(&unsigned)
		if err != nil {
			return nil, err
		}
		info.UnsignedAttrs = append(info.UnsignedAttrs, a)
	}
	return info, nil
}

// readAlgorithm reads an AlgorithmIdentifier whose parameters, if any, are
// NULL or of no interest here (GOST key parameters).
// listedDigests reads digestAlgorithms' elements: the OIDs of those that
// are AlgorithmIdentifiers (anything else is skipped: a signer naming it
// fails); false when the SET does not hold whole elements.
func listedDigests(algs cryptobyte.String) ([]asn1.ObjectIdentifier, bool) {
	var oids []asn1.ObjectIdentifier
	for !algs.Empty() {
		var el cryptobyte.String
		var tag cbasn1.Tag
		if !algs.ReadAnyASN1Element(&el, &tag) {
			return nil, false
		}
		if oid, err := readAlgorithm(&el); err == nil && el.Empty() {
			oids = append(oids, oid)
		}
	}
	return oids, true
}

func readAlgorithm(s *cryptobyte.String) (asn1.ObjectIdentifier, error) {
	var alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return nil, ErrMalformed
	}
	if !alg.Empty() {
		var params cryptobyte.String
		var tag cbasn1.Tag
		if !alg.ReadAnyASN1(&params, &tag) || !alg.Empty() {
			return nil, ErrMalformed
		}
	}
	return oid, nil
}

func (info *SignerInfo) parseSignedAttrs(attrs cryptobyte.String) error {
	seen := map[string]bool{}
	hasContentType := false
	for !attrs.Empty() {
		var attr, values cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !attrs.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&oid) ||
			!attr.ReadASN1(&values, cbasn1.SET) || !attr.Empty() {
			return ErrMalformed
		}
		key := oid.String()
		single := oid.Equal(oidAttrContentType) || oid.Equal(oidAttrMessageDigest) || oid.Equal(oidAttrSigningTime)
		if single && seen[key] {
			return fmt.Errorf("%w: attribute %v repeated", ErrMalformed, oid)
		}
		seen[key] = true
		switch {
		case oid.Equal(oidAttrContentType):
			if !readOID(&values, &info.AttrContentType) || !values.Empty() {
				return ErrMalformed
			}
			hasContentType = true
		case oid.Equal(oidAttrMessageDigest):
			var md cryptobyte.String
			if !values.ReadASN1(&md, cbasn1.OCTET_STRING) || !values.Empty() {
				return ErrMalformed
			}
			info.MessageDigest = append([]byte{}, md...)
		case oid.Equal(oidAttrSigningTime):
			t, err := readTime(&values)
			if err != nil || !values.Empty() {
				return ErrMalformed
			}
			info.SigningTime = t
		case oid.Equal(oidAttrSigningCertV2):
			if err := info.parseSigningCertV2(values); err != nil {
				return err
			}
		}
	}
	if !hasContentType || info.MessageDigest == nil {
		return fmt.Errorf("%w: signed attributes lack contentType or messageDigest", ErrMalformed)
	}
	return nil
}

// readOID reads an OBJECT IDENTIFIER of any arc size (cryptobyte's reader
// and encoding/asn1 stop at an int).
func readOID(s *cryptobyte.String, out *x509.OID) bool {
	var body cryptobyte.String
	return s.ReadASN1(&body, cbasn1.OBJECT_IDENTIFIER) && out.UnmarshalBinary(body) == nil
}

// addOID writes an OBJECT IDENTIFIER of any arc size.
func addOID(b *cryptobyte.Builder, oid x509.OID) {
	b.AddASN1(cbasn1.OBJECT_IDENTIFIER, func(b *cryptobyte.Builder) {
		body, _ := oid.MarshalBinary() // never fails
		b.AddBytes(body)
	})
}

func readTime(s *cryptobyte.String) (time.Time, error) {
	var t time.Time
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		if !s.ReadASN1UTCTime(&t) {
			return t, ErrMalformed
		}
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		if !s.ReadASN1GeneralizedTime(&t) {
			return t, ErrMalformed
		}
	default:
		return t, ErrMalformed
	}
	return t, nil
}

// parseSigningCertV2 reads SigningCertificateV2 (RFC 5035): a SEQUENCE OF
// ESSCertIDv2 { hashAlgorithm DEFAULT sha256, certHash, issuerSerial OPTIONAL },
// optionally followed by policies.
func (info *SignerInfo) parseSigningCertV2(values cryptobyte.String) error {
	var sc, certs cryptobyte.String
	if !values.ReadASN1(&sc, cbasn1.SEQUENCE) || !values.Empty() || !sc.ReadASN1(&certs, cbasn1.SEQUENCE) {
		return ErrMalformed
	}
	for !certs.Empty() {
		var id cryptobyte.String
		if !certs.ReadASN1(&id, cbasn1.SEQUENCE) {
			return ErrMalformed
		}
		ch := CertHash{Algorithm: oidSHA256}
		if id.PeekASN1Tag(cbasn1.SEQUENCE) {
			oid, err := readAlgorithm(&id)
			if err != nil {
				return err
			}
			ch.Algorithm = oid
		}
		var h cryptobyte.String
		if !id.ReadASN1(&h, cbasn1.OCTET_STRING) || !id.SkipOptionalASN1(cbasn1.SEQUENCE) || !id.Empty() {
			return ErrMalformed
		}
		ch.Hash = append([]byte{}, h...)
		info.SigningCertHashes = append(info.SigningCertHashes, ch)
	}
	return nil
}
