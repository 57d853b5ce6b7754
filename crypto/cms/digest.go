package cms

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// This file signs over a digest computed elsewhere: the agent hashes a
// document as its chunks arrive and never holds it whole, and a server
// that hashes by itself sends only the digest (signHash). The signature
// is always detached and always has signed attributes: the messageDigest
// attribute is the only place the content is bound to it.

// ErrDigestSize: the digest's length is not the one of the key's digest.
var ErrDigestSize = errors.New("cms: digest has the wrong length for the key")

// NewHash returns the digest the key behind pub signs with (Streebog of the
// GOST key's size, SHA-2 for RSA and ECDSA), for hashing a document as it
// arrives before SignDigest.
func NewHash(pub crypto.PublicKey) (hash.Hash, error) {
	dalg, _, _, err := algorithmsFor(pub)
	if err != nil {
		return nil, err
	}
	return dalg.new(), nil
}

// SignDigest makes a detached DER SignedData with one signer over content
// whose digest (NewHash of the key) is digest: the content is absent and
// the signed attributes carry digest as messageDigest. opts.Detached and
// opts.NoSignedAttributes are ignored: without signed attributes there
// would be nothing to sign but the digest itself.
func SignDigest(digest []byte, cert *x509.Certificate, key crypto.Signer, opts *SignOptions) ([]byte, error) {
	p, err := Prepare(digest, cert, key.Public(), opts)
	if err != nil {
		return nil, err
	}
	sig, err := p.sign(key)
	if err != nil {
		return nil, err
	}
	return p.Finish(sig)
}

// Prepared is a detached signature over a digest waiting for its key's
// signature: a batch prepares every document, has the token sign all the
// ToSign digests in one session, and finishes each.
type Prepared struct {
	// ToSign is the digest of the signed attributes, what the key signs.
	ToSign []byte

	attrs    []byte // DER SET of the signed attributes
	cert     *x509.Certificate
	dalg     *digestAlg
	sigAlg   asn1.ObjectIdentifier
	signOpts crypto.SignerOpts
	rand     io.Reader
	opts     SignOptions
}

// Prepare checks the key and the digest and builds the signed attributes
// of a signature by cert's key (its public key pub) over content whose
// digest is digest.
func Prepare(digest []byte, cert *x509.Certificate, pub crypto.PublicKey, opts *SignOptions) (*Prepared, error) {
	if opts == nil {
		opts = &SignOptions{}
	}
	p := &Prepared{cert: cert, opts: *opts, rand: opts.Rand}
	if isZero(p.opts.ContentType) {
		p.opts.ContentType = OIDData
	}
	if p.rand == nil {
		p.rand = rand.Reader
	}
	var err error
	p.dalg, p.sigAlg, p.signOpts, err = algorithmsFor(pub)
	if err != nil {
		return nil, err
	}
	if !publicKeysMatch(pub, cert) {
		return nil, errors.New("cms: the key does not belong to the certificate")
	}
	if n := p.dalg.new().Size(); len(digest) != n {
		return nil, fmt.Errorf("%w: %d bytes, the key's digest has %d", ErrDigestSize, len(digest), n)
	}
	when := opts.SigningTime
	if when.IsZero() {
		when = time.Now()
	}
	if p.attrs, err = buildSignedAttrs(p.opts.ContentType, digest, when, cert, p.dalg); err != nil {
		return nil, err
	}
	h := p.dalg.new()
	h.Write(p.attrs)
	p.ToSign = h.Sum(nil)
	return p, nil
}

// SignerOpts are the options the key signs ToSign with.
func (p *Prepared) SignerOpts() crypto.SignerOpts { return p.signOpts }

func (p *Prepared) sign(key crypto.Signer) ([]byte, error) {
	var sig []byte
	var err error
	if ms, ok := key.(crypto.MessageSigner); ok {
		// A token that hashes by itself gets the bytes, not our digest.
		sig, err = ms.SignMessage(p.rand, p.attrs, p.signOpts)
	} else {
		sig, err = key.Sign(p.rand, p.ToSign, p.signOpts)
	}
	if err != nil {
		return nil, fmt.Errorf("cms: signing: %w", err)
	}
	return sig, nil
}

// signerInfo is the DER SignerInfo with the key's signature sig.
func (p *Prepared) signerInfo(sig []byte) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddBytes(p.cert.RawIssuer)
			b.AddASN1BigInt(p.cert.SerialNumber)
		})
		addAlgorithmNULL(b, p.dalg.oid)
		_, body, _ := splitTLV(p.attrs)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(body) })
		addAlgorithmNULL(b, p.sigAlg)
		b.AddASN1OctetString(sig)
	})
	return b.Bytes()
}

// Finish makes the detached DER SignedData with the key's signature sig
// over ToSign.
func (p *Prepared) Finish(sig []byte) ([]byte, error) {
	si, err := p.signerInfo(sig)
	if err != nil {
		return nil, err
	}
	certs := append([]*x509.Certificate{p.cert}, p.opts.Certificates...)
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(1)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { addAlgorithmNULL(b, p.dalg.oid) })
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { addOID(b, p.opts.ContentType) })
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					for _, raw := range sortedDER(certRaws(certs)) {
						b.AddBytes(raw)
					}
				})
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(si) })
			})
		})
	})
	return b.Bytes()
}

// CoSignDigest adds a parallel SignerInfo by cert's key to the SignedData der
// (attached or detached, DER or BER) and returns the new message in DER.
// The new signer signs the same content under the same content type:
// for an attached message its encapsulated content, for a detached one
// the content whose digest (NewHash of the key) is detachedDigest, which
// the caller computed (streaming the document again). The existing
// signers are kept byte for byte; they are not verified here.
func CoSignDigest(der, detachedDigest []byte, cert *x509.Certificate, key crypto.Signer, opts *SignOptions) ([]byte, error) {
	if opts == nil {
		opts = &SignOptions{}
	}
	sd, err := Parse(der)
	if err != nil {
		return nil, err
	}
	parts, err := splitSignedData(der)
	if err != nil {
		return nil, err
	}
	digest := detachedDigest
	if sd.Content != nil {
		h, err := NewHash(key.Public())
		if err != nil {
			return nil, err
		}
		h.Write(sd.Content)
		digest = h.Sum(nil)
	} else if digest == nil {
		return nil, ErrNoContent
	}
	o := *opts
	o.ContentType = sd.ContentType
	p, err := Prepare(digest, cert, key.Public(), &o)
	if err != nil {
		return nil, err
	}
	sig, err := p.sign(key)
	if err != nil {
		return nil, err
	}
	si, err := p.signerInfo(sig)
	if err != nil {
		return nil, err
	}
	dalg := p.dalg
	algs := parts.digestAlgs
	var alg cryptobyte.Builder
	addAlgorithmNULL(&alg, dalg.oid)
	if !hasDigestAlg(algs, dalg.oid) {
		algs = append(algs, alg.BytesOrPanic())
	}
	certs := parts.certs
	if !containsRaw(certs, cert.Raw) {
		certs = append(certs, cert.Raw)
	}
	for _, c := range opts.Certificates {
		if !containsRaw(certs, c.Raw) {
			certs = append(certs, c.Raw)
		}
	}
	signers := append(parts.signers, si)
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(parts.version)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					for _, a := range sortedDER(algs) {
						b.AddBytes(a)
					}
				})
				b.AddBytes(parts.encap)
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					for _, c := range sortedDER(certs) {
						b.AddBytes(c)
					}
				})
				if parts.crls != nil {
					b.AddBytes(parts.crls)
				}
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					for _, s := range sortedDER(signers) {
						b.AddBytes(s)
					}
				})
			})
		})
	})
	return b.Bytes()
}

// signedDataParts are the raw elements of a DER SignedData.
type signedDataParts struct {
	version    int64
	digestAlgs [][]byte // AlgorithmIdentifier elements
	encap      []byte   // the EncapsulatedContentInfo element
	certs      [][]byte // CertificateChoices elements
	crls       []byte   // the [1] element, or nil
	signers    [][]byte // SignerInfo elements
}

// splitSignedData splits msg (DER or BER) into the parts of its
// SignedData, each DER.
func splitSignedData(msg []byte) (*signedDataParts, error) {
	der, err := toDER(msg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	in := cryptobyte.String(der)
	var ci, explicit, body cryptobyte.String
	var ctype asn1.ObjectIdentifier
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) || !ci.ReadASN1ObjectIdentifier(&ctype) || !ctype.Equal(oidSignedData) ||
		!ci.ReadASN1(&explicit, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!explicit.ReadASN1(&body, cbasn1.SEQUENCE) {
		return nil, ErrMalformed
	}
	p := &signedDataParts{}
	var algs, encap, certs, signers cryptobyte.String
	var crls cryptobyte.String
	var hasCerts, hasCRLs bool
	if !body.ReadASN1Int64WithTag(&p.version, cbasn1.INTEGER) ||
		!body.ReadASN1(&algs, cbasn1.SET) ||
		!body.ReadASN1Element(&encap, cbasn1.SEQUENCE) ||
		!body.ReadOptionalASN1(&certs, &hasCerts, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!readOptionalElement(&body, &crls, &hasCRLs, cbasn1.Tag(1).Constructed().ContextSpecific()) ||
		!body.ReadASN1(&signers, cbasn1.SET) || !body.Empty() {
		return nil, ErrMalformed
	}
	p.encap = encap
	if hasCRLs {
		p.crls = crls
	}
	for _, s := range []struct {
		in  *cryptobyte.String
		out *[][]byte
	}{{&algs, &p.digestAlgs}, {&certs, &p.certs}, {&signers, &p.signers}} {
		for !s.in.Empty() {
			var el cryptobyte.String
			var tag cbasn1.Tag
			if !s.in.ReadAnyASN1Element(&el, &tag) {
				return nil, ErrMalformed
			}
			*s.out = append(*s.out, el)
		}
	}
	return p, nil
}

func hasDigestAlg(algs [][]byte, oid asn1.ObjectIdentifier) bool {
	for _, a := range algs {
		s := cryptobyte.String(a)
		var seq cryptobyte.String
		var got asn1.ObjectIdentifier
		if s.ReadASN1(&seq, cbasn1.SEQUENCE) && seq.ReadASN1ObjectIdentifier(&got) && got.Equal(oid) {
			return true
		}
	}
	return false
}

func containsRaw(list [][]byte, raw []byte) bool {
	for _, x := range list {
		if string(x) == string(raw) {
			return true
		}
	}
	return false
}

func readOptionalElement(s *cryptobyte.String, out *cryptobyte.String, present *bool, tag cbasn1.Tag) bool {
	*present = s.PeekASN1Tag(tag)
	if !*present {
		return true
	}
	return s.ReadASN1Element(out, tag)
}
