package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// SignOptions adjust Sign. The zero value makes an attached CAdES-BES
// signature (contentType, signingTime = now, messageDigest,
// signingCertificateV2) of id-data content.
type SignOptions struct {
	// Detached leaves the content out of the message.
	Detached bool
	// NoSignedAttributes signs the content directly (no attributes).
	NoSignedAttributes bool
	// SigningTime is the signingTime attribute; zero means now.
	SigningTime time.Time
	// ContentType is the encapsulated content type, also carried in the
	// contentType signed attribute; the zero OID means id-data (OIDData).
	ContentType x509.OID
	// Certificates are added to the message after the signer's own, for
	// instance its intermediate CAs.
	Certificates []*x509.Certificate
	// Rand is the randomness for the signature; nil means crypto/rand.
	Rand io.Reader
}

// Sign makes a DER ContentInfo holding SignedData with one signer: cert's
// key, held by key (a *gost3410.PrivateKey, a PKCS#11 key or any
// crypto.Signer whose public key is GOST, RSA or ECDSA). GOST keys sign
// the Streebog digest of their size and get the key algorithm OID as the
// signature algorithm, as OpenSSL's GOST engine writes it; RSA signs with
// PKCS#1 v1.5 over SHA-256, ECDSA over SHA-256 (SHA-384/512 for P-384/P-521).
func Sign(content []byte, cert *x509.Certificate, key crypto.Signer, opts *SignOptions) ([]byte, error) {
	p, err := newSignerParams(cert, key, opts)
	if err != nil {
		return nil, err
	}
	h := p.dalg.new()
	h.Write(content)
	si, err := p.signerInfo(h.Sum(nil), content)
	if err != nil {
		return nil, err
	}
	var encap []byte
	if !p.opts.Detached {
		encap = content
	}
	return assembleDER(p.contentType, encap, !p.opts.Detached, [][]byte{algorithmNULL(p.dalg.oid)},
		certRaws(p.certs), [][]byte{si}), nil
}

// signerParams is what one signer needs, checked once: the algorithms its
// key signs with and the options with their defaults filled in.
type signerParams struct {
	cert        *x509.Certificate
	key         crypto.Signer
	opts        SignOptions
	contentType x509.OID
	random      io.Reader
	dalg        *digestAlg
	sigAlg      asn1.ObjectIdentifier
	signOpts    crypto.SignerOpts
	certs       []*x509.Certificate // the signer's first
}

func newSignerParams(cert *x509.Certificate, key crypto.Signer, opts *SignOptions) (*signerParams, error) {
	p := &signerParams{cert: cert, key: key}
	if opts != nil {
		p.opts = *opts
	}
	p.contentType = p.opts.ContentType
	if isZero(p.contentType) {
		p.contentType = OIDData
	}
	if p.opts.NoSignedAttributes && !p.contentType.Equal(OIDData) {
		// RFC 5652, 5.3: only id-data may be signed without attributes;
		// the attributes are what binds any other type to the signature.
		return nil, errors.New("cms: a content type other than id-data needs signed attributes")
	}
	p.random = p.opts.Rand
	if p.random == nil {
		p.random = rand.Reader
	}
	if _, err := gostx509.PublicKey2001(cert); err == nil {
		// Withdrawn in 2019: archives are verified, nothing new is made.
		return nil, fmt.Errorf("%w: GOST R 34.10-2001 is verified, never signed with", ErrUnsupported)
	}
	var err error
	if p.dalg, p.sigAlg, p.signOpts, err = algorithmsFor(key.Public()); err != nil {
		return nil, err
	}
	if !publicKeysMatch(key.Public(), cert) {
		return nil, errors.New("cms: the key does not belong to the certificate")
	}
	p.certs = append([]*x509.Certificate{cert}, p.opts.Certificates...)
	return p, nil
}

// signerInfo signs the content whose digest is digest and returns the DER
// SignerInfo. content is used only without signed attributes (the
// signature then covers the content itself), which the streaming callers
// refuse; with them, the content is never held.
func (p *signerParams) signerInfo(digest, content []byte) ([]byte, error) {
	signed := content      // what the signature covers
	var signedAttrs []byte // DER SET
	if !p.opts.NoSignedAttributes {
		when := p.opts.SigningTime
		if when.IsZero() {
			when = time.Now()
		}
		var err error
		signedAttrs, err = buildSignedAttrs(p.contentType, digest, when, p.cert, p.dalg)
		if err != nil {
			return nil, err
		}
		signed = signedAttrs
		h := p.dalg.new()
		h.Write(signedAttrs)
		digest = h.Sum(nil)
	}
	var sig []byte
	var err error
	if ms, ok := p.key.(crypto.MessageSigner); ok {
		// A token that hashes by itself gets the bytes, not our digest.
		sig, err = ms.SignMessage(p.random, signed, p.signOpts)
	} else {
		sig, err = p.key.Sign(p.random, digest, p.signOpts)
	}
	if err != nil {
		return nil, fmt.Errorf("cms: signing: %w", err)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddBytes(p.cert.RawIssuer)
			b.AddASN1BigInt(p.cert.SerialNumber)
		})
		addAlgorithmNULL(b, p.dalg.oid)
		if signedAttrs != nil {
			_, body, _ := splitTLV(signedAttrs)
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddBytes(body)
			})
		}
		addAlgorithmNULL(b, p.sigAlg)
		b.AddASN1OctetString(sig)
	})
	return b.Bytes()
}

// assembleDER makes a DER ContentInfo holding SignedData from its parts:
// DER AlgorithmIdentifiers, certificates and SignerInfos. content is
// carried when attached.
func assembleDER(contentType x509.OID, content []byte, attached bool, digestAlgs, certs, signerInfos [][]byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(1)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					for _, a := range sortedDER(digestAlgs) {
						b.AddBytes(a)
					}
				})
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					addOID(b, contentType)
					if attached {
						b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							b.AddASN1OctetString(content)
						})
					}
				})
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					for _, raw := range sortedDER(certs) {
						b.AddBytes(raw)
					}
				})
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					// In the order given, not sorted: a co-signer's
					// comes after those it joined, as CryptoPro and
					// OpenSSL keep them and readers expect.
					for _, si := range signerInfos {
						b.AddBytes(si)
					}
				})
			})
		})
	})
	return b.BytesOrPanic()
}

func algorithmNULL(oid asn1.ObjectIdentifier) []byte {
	var b cryptobyte.Builder
	addAlgorithmNULL(&b, oid)
	return b.BytesOrPanic()
}

func isZero(oid x509.OID) bool {
	body, _ := oid.MarshalBinary()
	return len(body) == 0
}

func certRaws(certs []*x509.Certificate) [][]byte {
	out := make([][]byte, len(certs))
	for i, c := range certs {
		out[i] = c.Raw
	}
	return out
}

// sortedDER orders the elements of a SET OF by their encodings (X.690 11.6).
func sortedDER(elems [][]byte) [][]byte {
	out := slices.Clone(elems)
	slices.SortFunc(out, bytes.Compare)
	return out
}

func addAlgorithmNULL(b *cryptobyte.Builder, oid asn1.ObjectIdentifier) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		b.AddASN1NULL()
	})
}

func algorithmsFor(pub crypto.PublicKey) (*digestAlg, asn1.ObjectIdentifier, crypto.SignerOpts, error) {
	switch pub := pub.(type) {
	case *gost3410.PublicKey:
		return gostDigest(pub.Curve().Size()), gostx509.KeyOID(pub.Curve()), nil, nil
	case *rsa.PublicKey:
		return digestByHash(crypto.SHA256), oidRSAEncryption, crypto.SHA256, nil
	case *ecdsa.PublicKey:
		switch pub.Curve.Params().BitSize {
		case 384:
			return digestByHash(crypto.SHA384), oidECDSAWithSHA3, crypto.SHA384, nil
		case 521:
			return digestByHash(crypto.SHA512), oidECDSAWithSHA5, crypto.SHA512, nil
		}
		return digestByHash(crypto.SHA256), oidECDSAWithSHA2, crypto.SHA256, nil
	}
	return nil, nil, nil, fmt.Errorf("%w: key type %T", ErrUnsupported, pub)
}

func publicKeysMatch(pub crypto.PublicKey, cert *x509.Certificate) bool {
	if g, ok := pub.(*gost3410.PublicKey); ok {
		cp, err := gostx509.PublicKey(cert)
		return err == nil && cp.Equal(g)
	}
	eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(cert.PublicKey)
}

// buildSignedAttrs returns the DER SET OF the CAdES-BES attributes.
func buildSignedAttrs(contentType x509.OID, digest []byte, when time.Time, cert *x509.Certificate, dalg *digestAlg) ([]byte, error) {
	attr := func(oid asn1.ObjectIdentifier, value func(*cryptobyte.Builder)) []byte {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			b.AddASN1(cbasn1.SET, value)
		})
		return b.BytesOrPanic()
	}
	when = when.UTC().Truncate(time.Second)
	certHash := dalg.new()
	certHash.Write(cert.Raw)
	attrs := [][]byte{
		attr(oidAttrContentType, func(b *cryptobyte.Builder) { addOID(b, contentType) }),
		attr(oidAttrSigningTime, func(b *cryptobyte.Builder) {
			// RFC 5652 11.3: UTCTime for 1950-2049.
			if when.Year() >= 1950 && when.Year() < 2050 {
				b.AddASN1UTCTime(when)
			} else {
				b.AddASN1GeneralizedTime(when)
			}
		}),
		attr(oidAttrMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest) }),
		attr(oidAttrSigningCertV2, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SigningCertificateV2
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // certs
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ESSCertIDv2
						if !dalg.oid.Equal(oidSHA256) { // DEFAULT sha256 is omitted in DER
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
								b.AddASN1ObjectIdentifier(dalg.oid)
							})
						}
						b.AddASN1OctetString(certHash.Sum(nil))
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // IssuerSerial
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // GeneralNames
								b.AddASN1(cbasn1.Tag(4).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
									b.AddBytes(cert.RawIssuer)
								})
							})
							b.AddASN1BigInt(cert.SerialNumber)
						})
					})
				})
			})
		}),
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		for _, a := range sortedDER(attrs) {
			b.AddBytes(a)
		}
	})
	return b.Bytes()
}
