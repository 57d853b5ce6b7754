// Package certreq writes a PKCS#10 certificate request (RFC 2986) in the
// Russian qualified profile: the subject with the attributes of Приказ ФСБ
// России № 795 (as amended by № 31 of 2021) in the string types it gives
// them — SNILS, INN, INNLE, OGRN and OGRNIP as NumericString of their
// length, e-mail as IA5String, the country as PrintableString, the rest as
// UTF8String — and an extensionRequest with keyUsage, extendedKeyUsage,
// certificatePolicies, subjectSignTool (1.2.643.100.111),
// IdentificationKind (1.2.643.100.114) and the subjectKeyIdentifier of
// the new key.
//
// The request is signed through a crypto.Signer, so the key can stay on a
// token: GOST R 34.10-2012 with Streebog (RFC 9215: 256- or 512-bit by the
// key), RSA PKCS#1 v1.5 with SHA-256, ECDSA with SHA-256. Everything a
// person typed is checked by Validate — lengths, checksums of the
// registration numbers, an empty CN — before anything touches a token, and
// each problem is an *Error naming the field.
package certreq

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/crypto/streebog"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Object identifiers of the request's attributes and extensions.
var (
	oidExtensionRequest  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 14}
	oidKeyUsage          = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtKeyUsage       = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidPolicies          = asn1.ObjectIdentifier{2, 5, 29, 32}
	oidSubjectKeyID      = asn1.ObjectIdentifier{2, 5, 29, 14}
	OIDSubjectSignTool   = asn1.ObjectIdentifier{1, 2, 643, 100, 111}
	OIDIdentificationKnd = asn1.ObjectIdentifier{1, 2, 643, 100, 114}
	oidSHA256WithRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidECDSAWithSHA256   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
)

// IdentKind is how the owner was identified when the certificate was
// asked for (IdentificationKind, Приказ ФСБ № 795 as amended).
type IdentKind int

const (
	IdentPersonal       IdentKind = 0 // in person
	IdentRemoteCert     IdentKind = 1 // remotely, with a valid qualified certificate
	IdentRemotePassport IdentKind = 2 // remotely, with a biometric passport
	IdentRemoteSystem   IdentKind = 3 // remotely, through the unified biometric system
)

// Request is what the new certificate should say.
type Request struct {
	Subject Subject
	// KeyUsage names bits of RFC 5280 4.2.1.3 (digitalSignature,
	// nonRepudiation, keyEncipherment, dataEncipherment, keyAgreement);
	// nil means digitalSignature and nonRepudiation.
	KeyUsage []string
	// ExtKeyUsage are OIDs or the names clientAuth, emailProtection,
	// serverAuth, codeSigning, timeStamping; nil means clientAuth and
	// emailProtection (a login and a signed document).
	ExtKeyUsage []string
	// Policies are certificate policy OIDs (1.2.643.100.113.1 is КС1).
	Policies []string
	// SignTool is the owner's signing tool (subjectSignTool); "" means
	// "podpis".
	SignTool  string
	IdentKind IdentKind
}

var keyUsageBits = map[string]x509.KeyUsage{
	"digitalSignature":  x509.KeyUsageDigitalSignature,
	"nonRepudiation":    x509.KeyUsageContentCommitment,
	"contentCommitment": x509.KeyUsageContentCommitment,
	"keyEncipherment":   x509.KeyUsageKeyEncipherment,
	"dataEncipherment":  x509.KeyUsageDataEncipherment,
	"keyAgreement":      x509.KeyUsageKeyAgreement,
}

var ekuNames = map[string]asn1.ObjectIdentifier{
	"serverAuth":      {1, 3, 6, 1, 5, 5, 7, 3, 1},
	"clientAuth":      {1, 3, 6, 1, 5, 5, 7, 3, 2},
	"codeSigning":     {1, 3, 6, 1, 5, 5, 7, 3, 3},
	"emailProtection": {1, 3, 6, 1, 5, 5, 7, 3, 4},
	"timeStamping":    {1, 3, 6, 1, 5, 5, 7, 3, 8},
}

func (r *Request) keyUsage() (x509.KeyUsage, error) {
	names := r.KeyUsage
	if names == nil {
		names = []string{"digitalSignature", "nonRepudiation"}
	}
	var ku x509.KeyUsage
	for _, n := range names {
		bit, ok := keyUsageBits[strings.TrimSpace(n)]
		if !ok {
			return 0, &Error{Field: "keyUsage", Reason: ReasonUnknown, detail: strconv.Quote(n)}
		}
		ku |= bit
	}
	if ku == 0 {
		return 0, &Error{Field: "keyUsage", Reason: ReasonEmpty}
	}
	return ku, nil
}

func parseOID(s string) (asn1.ObjectIdentifier, bool) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) < 2 {
		return nil, false
	}
	oid := make(asn1.ObjectIdentifier, len(parts))
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 31)
		if err != nil || (len(p) > 1 && p[0] == '0') {
			return nil, false
		}
		oid[i] = int(n)
	}
	if oid[0] > 2 || (oid[0] < 2 && oid[1] >= 40) {
		return nil, false
	}
	return oid, true
}

func (r *Request) extKeyUsage() ([]asn1.ObjectIdentifier, error) {
	names := r.ExtKeyUsage
	if names == nil {
		names = []string{"clientAuth", "emailProtection"}
	}
	var out []asn1.ObjectIdentifier
	for _, n := range names {
		if oid, ok := ekuNames[strings.TrimSpace(n)]; ok {
			out = append(out, oid)
		} else if oid, ok := parseOID(n); ok {
			out = append(out, oid)
		} else {
			return nil, &Error{Field: "extKeyUsage", Reason: ReasonFormat, detail: strconv.Quote(n)}
		}
	}
	return out, nil
}

func (r *Request) policies() ([]asn1.ObjectIdentifier, error) {
	var out []asn1.ObjectIdentifier
	for _, p := range r.Policies {
		oid, ok := parseOID(p)
		if !ok {
			return nil, &Error{Field: "policy", Reason: ReasonFormat, detail: strconv.Quote(p)}
		}
		out = append(out, oid)
	}
	return out, nil
}

func (r *Request) signTool() string {
	if r.SignTool == "" {
		return "podpis"
	}
	return r.SignTool
}

// Validate checks the whole request as a person filled it in. Call it
// before generating a key: Create checks again, but by then a key exists.
func (r *Request) Validate() error {
	if err := r.Subject.Validate(); err != nil {
		return err
	}
	if _, err := r.keyUsage(); err != nil {
		return err
	}
	if _, err := r.extKeyUsage(); err != nil {
		return err
	}
	if _, err := r.policies(); err != nil {
		return err
	}
	if n := len([]rune(r.signTool())); n > 200 {
		return &Error{Field: "signTool", Reason: ReasonLength}
	}
	if r.IdentKind < IdentPersonal || r.IdentKind > IdentRemoteSystem {
		return &Error{Field: "identKind", Reason: ReasonUnknown}
	}
	return nil
}

// ErrUnsupportedKey reports a signer whose key is not GOST, RSA or ECDSA.
var ErrUnsupportedKey = errors.New("certreq: unsupported key")

// MarshalPublicKey returns the DER SubjectPublicKeyInfo of a GOST, RSA or
// ECDSA public key.
func MarshalPublicKey(pub crypto.PublicKey) ([]byte, error) {
	switch k := pub.(type) {
	case *gost3410.PublicKey:
		return gostx509.MarshalPKIXPublicKey(k)
	case *rsa.PublicKey, *ecdsa.PublicKey:
		return x509.MarshalPKIXPublicKey(k)
	}
	return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
}

// KeyID is the key identifier of RFC 5280 4.2.1.2 method 1: SHA-1 of the
// subjectPublicKey BIT STRING's bytes. The request's
// subjectKeyIdentifier, and the CKA_ID a token gives the key.
func KeyID(pub crypto.PublicKey) ([]byte, error) {
	spki, err := MarshalPublicKey(pub)
	if err != nil {
		return nil, err
	}
	s := cryptobyte.String(spki)
	var body cryptobyte.String
	var bits asn1.BitString
	if !s.ReadASN1(&body, cbasn1.SEQUENCE) || !body.SkipASN1(cbasn1.SEQUENCE) || !body.ReadASN1BitString(&bits) {
		return nil, fmt.Errorf("certreq: malformed public key")
	}
	h := sha1.Sum(bits.Bytes)
	return h[:], nil
}

// Create validates r and returns the DER request for signer's key, signed
// by it. random is used by software signers (nil: crypto/rand).
func Create(random io.Reader, r *Request, signer crypto.Signer) ([]byte, error) {
	if random == nil {
		random = rand.Reader
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	pub := signer.Public()
	spki, err := MarshalPublicKey(pub)
	if err != nil {
		return nil, err
	}
	keyID, err := KeyID(pub)
	if err != nil {
		return nil, err
	}
	exts, err := r.extensions(keyID)
	if err != nil {
		return nil, err
	}
	var info cryptobyte.Builder
	info.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		addName(b, r.Subject)
		b.AddBytes(spki)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidExtensionRequest)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(exts) })
			})
		})
	})
	cri, err := info.Bytes()
	if err != nil {
		return nil, fmt.Errorf("certreq: %w", err)
	}
	sig, alg, err := sign(random, cri, pub, signer)
	if err != nil {
		return nil, err
	}
	var out cryptobyte.Builder
	out.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(cri)
		b.AddBytes(alg)
		b.AddASN1BitString(sig)
	})
	return out.Bytes()
}

// sign signs the CertificationRequestInfo and returns the signature and
// the DER AlgorithmIdentifier. A GOST signature is checked against the
// public key before it is returned: a token that signs wrongly is caught
// here rather than by the CA.
func sign(random io.Reader, cri []byte, pub crypto.PublicKey, signer crypto.Signer) (sig, alg []byte, err error) {
	var b cryptobyte.Builder
	switch k := pub.(type) {
	case *gost3410.PublicKey:
		var digest []byte
		if k.Curve().Size() == 64 {
			d := streebog.Sum512(cri)
			digest = d[:]
		} else {
			d := streebog.Sum256(cri)
			digest = d[:]
		}
		sig, err = signer.Sign(random, digest, crypto.Hash(0))
		if err != nil {
			return nil, nil, fmt.Errorf("certreq: signing: %w", err)
		}
		if !k.Verify(digest, sig) {
			return nil, nil, errors.New("certreq: the key's signature does not verify")
		}
		// RFC 9215 leaves the parameters absent (OpenSSL's engine writes
		// NULL); OpenSSL and GnuTLS verify either form alike.
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(gostx509.SignatureOID(k.Curve()))
		})
	case *rsa.PublicKey:
		d := sha256.Sum256(cri)
		sig, err = signer.Sign(random, d[:], crypto.SHA256)
		if err != nil {
			return nil, nil, fmt.Errorf("certreq: signing: %w", err)
		}
		if err := rsa.VerifyPKCS1v15(k, crypto.SHA256, d[:], sig); err != nil {
			return nil, nil, fmt.Errorf("certreq: the key's signature does not verify: %w", err)
		}
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oidSHA256WithRSA)
			b.AddASN1NULL()
		})
	case *ecdsa.PublicKey:
		d := sha256.Sum256(cri)
		sig, err = signer.Sign(random, d[:], crypto.SHA256)
		if err != nil {
			return nil, nil, fmt.Errorf("certreq: signing: %w", err)
		}
		if !ecdsa.VerifyASN1(k, d[:], sig) {
			return nil, nil, errors.New("certreq: the key's signature does not verify")
		}
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oidECDSAWithSHA256)
		})
	default:
		return nil, nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
	}
	alg, err = b.Bytes()
	return sig, alg, err
}

func (r *Request) extensions(keyID []byte) ([]byte, error) {
	ku, err := r.keyUsage()
	if err != nil {
		return nil, err
	}
	ekus, err := r.extKeyUsage()
	if err != nil {
		return nil, err
	}
	pols, err := r.policies()
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addExtension(b, oidKeyUsage, true, func(b *cryptobyte.Builder) { addKeyUsage(b, ku) })
		if len(ekus) > 0 {
			addExtension(b, oidExtKeyUsage, false, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for _, o := range ekus {
						b.AddASN1ObjectIdentifier(o)
					}
				})
			})
		}
		if len(pols) > 0 {
			addExtension(b, oidPolicies, false, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for _, o := range pols {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(o) })
					}
				})
			})
		}
		addExtension(b, oidSubjectKeyID, false, func(b *cryptobyte.Builder) { b.AddASN1OctetString(keyID) })
		addExtension(b, OIDSubjectSignTool, false, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(r.signTool())) })
		})
		addExtension(b, OIDIdentificationKnd, false, func(b *cryptobyte.Builder) { b.AddASN1Int64(int64(r.IdentKind)) })
	})
	return b.Bytes()
}

func addExtension(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, critical bool, value func(*cryptobyte.Builder)) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if critical {
			b.AddASN1Boolean(true)
		}
		b.AddASN1(cbasn1.OCTET_STRING, value)
	})
}

// addKeyUsage writes the KeyUsage BIT STRING in its shortest DER form
// (X.690 11.2.2: no trailing zero bits).
func addKeyUsage(b *cryptobyte.Builder, ku x509.KeyUsage) {
	var bits [2]byte
	last := -1
	for i := 0; i < 9; i++ {
		if ku&(1<<i) != 0 {
			bits[i/8] |= 0x80 >> (i % 8)
			last = i
		}
	}
	n := last/8 + 1
	unused := 7 - last%8
	b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
		b.AddUint8(uint8(unused))
		b.AddBytes(bits[:n])
	})
}

var stringTags = map[stringType]cbasn1.Tag{
	utf8String: cbasn1.UTF8String,
	printable:  cbasn1.PrintableString,
	numeric:    cbasn1.Tag(18), // NumericString
	ia5:        cbasn1.IA5String,
}

// addName writes the subject as an RDNSequence, one attribute per RDN, in
// the order of the profile's table.
func addName(b *cryptobyte.Builder, s Subject) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for i := range fields {
			f := &fields[i]
			v := s.Get(f.key)
			if v == "" {
				continue
			}
			if f.key == "KPP" {
				v = "KPP=" + v
			}
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(f.oid)
					b.AddASN1(stringTags[f.typ], func(b *cryptobyte.Builder) { b.AddBytes([]byte(v)) })
				})
			})
		}
	})
}
