// Package cades extends CMS signatures made by crypto/cms to the
// long-term CAdES forms of ETSI TS 101 733 (EN 319 122): CAdES-T, with a
// signature-time-stamp (RFC 3161, package tsp) over each signer's
// signature value, and CAdES-X Long Type 1, which adds
// complete-certificate-references, complete-revocation-references,
// certificate-values, revocation-values (the OCSP responses and CRLs that
// found the chain unrevoked, fetched by verify/revocation) and the
// CAdES-C timestamp (id-aa-ets-escTimeStamp) over the signature value,
// its timestamp and the references, as CryptoPro writes them.
//
// Everything added is an unsigned attribute: the signature and what it
// covers stay byte for byte as they were, so a CAdES-BES verifier (OpenSSL,
// CryptoPro) still verifies the message. Package verify reads the result.
package cades

import (
	"context"
	"crypto/sha1"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/crypto/tsp"
	"github.com/podpis/podpis/verify/revocation"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The attributes (RFC 5126 / ETSI TS 101 733, 6.1 and 6.2).
var (
	OIDSignatureTimeStamp = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	OIDCertificateRefs    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 21}
	OIDRevocationRefs     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 22}
	OIDCertValues         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 23}
	OIDRevocationValues   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 24}
	OIDEscTimeStamp       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 25}
)

// Level is a CAdES form.
type Level int

const (
	BES Level = iota // the signature alone, as crypto/cms makes it
	T                // and a signature-time-stamp
	XL1              // CAdES-X Long Type 1
)

// ParseLevel reads bes, t or xl1 (the CLI's and the wire's names).
func ParseLevel(s string) (Level, error) {
	switch s {
	case "bes", "":
		return BES, nil
	case "t":
		return T, nil
	case "xl1":
		return XL1, nil
	}
	return 0, fmt.Errorf("cades: level %q is not bes, t or xl1", s)
}

func (l Level) String() string {
	return [...]string{"bes", "t", "xl1"}[l]
}

// Errors, for errors.Is. A TSA's failure wraps tsp.ErrUnavailable or
// tsp.ErrBadResponse.
var (
	// ErrNoTSA: a level above BES was asked without a TSA.
	ErrNoTSA = errors.New("cades: a time-stamping authority is needed for CAdES-T and X Long")
	// ErrChain: the signer's certificate path to a root is not known.
	ErrChain = errors.New("cades: the signer's certificate chain is incomplete")
	// ErrRevocation: the chain's status could not be proved (or a
	// certificate is revoked: errors.Is(err, revocation.ErrRevoked)).
	ErrRevocation = errors.New("cades: revocation evidence could not be collected")
)

// Options are what extending needs.
type Options struct {
	// TSA stamps; required above BES.
	TSA *tsp.Client
	// Revocation collects the OCSP responses and CRLs of X Long; nil
	// means a checker with default settings.
	Revocation *revocation.Checker
	// Certificates complete the signer's chain up to its root (the
	// message usually carries the signer's certificate only).
	Certificates []*x509.Certificate
	// FetchIssuers completes the chain from the certificates' Authority
	// Information Access (caIssuers) when Certificates do not.
	FetchIssuers bool
	// HTTP fetches issuers; nil means a client with a 10 s timeout.
	HTTP *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Extend returns msg with every signer raised to level: a signer without
// a signature-time-stamp gets one (T and X Long), and, for X Long Type 1,
// a signer without revocation-values gets the references, the values and
// the CAdES-C timestamp. The signatures are not verified here.
func Extend(ctx context.Context, msg []byte, level Level, opts Options) ([]byte, error) {
	if level == BES {
		return msg, nil
	}
	if opts.TSA == nil {
		return nil, ErrNoTSA
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	sd, err := cms.Parse(msg)
	if err != nil {
		return nil, err
	}
	for i, si := range sd.Signers {
		alg := imprintAlg(si)
		var add [][]byte
		stamps := si.Unsigned(OIDSignatureTimeStamp)
		if len(stamps) == 0 {
			tok, err := opts.TSA.Stamp(ctx, alg, si.Signature)
			if err != nil {
				return nil, err
			}
			add = append(add, cms.MarshalAttribute(OIDSignatureTimeStamp, tok.Raw))
		}
		if level == XL1 && len(si.Unsigned(OIDRevocationValues)) == 0 {
			attrs, err := xl1(ctx, sd, si, alg, add, opts, now())
			if err != nil {
				return nil, err
			}
			add = append(add, attrs...)
		}
		if len(add) == 0 {
			continue
		}
		if msg, err = cms.AddUnsigned(msg, i, add...); err != nil {
			return nil, err
		}
	}
	return msg, nil
}

// imprintAlg is the digest a signer's timestamps use: its own Streebog for
// a GOST signer, SHA-256 for the others.
func imprintAlg(si *cms.SignerInfo) asn1.ObjectIdentifier {
	if si.DigestAlgorithm.Equal(gostx509.OIDStreebog256) || si.DigestAlgorithm.Equal(gostx509.OIDStreebog512) {
		return si.DigestAlgorithm
	}
	return tsp.SHA256
}

// xl1 builds a signer's X Long Type 1 attributes; added are the
// attributes about to be added before them (its new signature-time-stamp).
func xl1(ctx context.Context, sd *cms.SignedData, si *cms.SignerInfo, alg asn1.ObjectIdentifier, added [][]byte, opts Options, now time.Time) ([][]byte, error) {
	extra := opts.Certificates
	if opts.FetchIssuers {
		if cert, err := si.FindCertificate(append(append([]*x509.Certificate{}, sd.Certificates...), extra...)); err == nil {
			extra = fetchIssuers(ctx, opts.HTTP, cert, append(append([]*x509.Certificate{}, extra...), sd.Certificates...))
		}
	}
	chain, err := Chain(sd, si, extra, now)
	if err != nil {
		return nil, err
	}
	checker := opts.Revocation
	if checker == nil {
		if checker, err = revocation.New(revocation.Config{}); err != nil {
			return nil, err
		}
	}
	evidence, err := checker.Collect(ctx, chain, now)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRevocation, err)
	}
	certRefs := cms.MarshalAttribute(OIDCertificateRefs, completeCertRefs(chain[1:], alg))
	revRefs := cms.MarshalAttribute(OIDRevocationRefs, completeRevRefs(evidence, len(chain), alg))
	// The CAdES-C timestamp (TS 101 733, 6.3.5): over the signature value,
	// the signature-time-stamp(s) and the two references, in that order.
	var stamps [][]byte
	for _, a := range si.UnsignedAttrs {
		if a.Type.Equal(OIDSignatureTimeStamp) {
			stamps = append(stamps, a.Raw)
		}
	}
	stamps = append(stamps, added...)
	tok, err := opts.TSA.Stamp(ctx, alg, X1Data(si.Signature, stamps, certRefs, revRefs))
	if err != nil {
		return nil, err
	}
	certValues := chain[1:]
	for _, c := range tok.Certificates() {
		if !contains(certValues, c) {
			certValues = append(certValues, c)
		}
	}
	return [][]byte{
		certRefs,
		revRefs,
		cms.MarshalAttribute(OIDEscTimeStamp, tok.Raw),
		cms.MarshalAttribute(OIDCertValues, marshalCerts(certValues)),
		cms.MarshalAttribute(OIDRevocationValues, marshalRevValues(evidence)),
	}, nil
}

// X1Data is what a CAdES-C timestamp covers (TS 101 733, 6.3.5: "the
// concatenated values (without the type or length encoding for that
// value)"): the signature value's octets, then the contents of the
// signature-time-stamp and the complete certificate and revocation
// reference Attributes (their attrType and attrValues DER, without the
// Attribute SEQUENCE's own tag and length), as the ETSI DSS library
// computes it. Attributes are given as DER.
func X1Data(signature []byte, stamps [][]byte, certRefs, revRefs []byte) []byte {
	out := append([]byte{}, signature...)
	for _, a := range append(append(append([][]byte{}, stamps...), certRefs), revRefs) {
		s := cryptobyte.String(a)
		var body cryptobyte.String
		if s.ReadASN1(&body, cbasn1.SEQUENCE) {
			out = append(out, body...)
		}
	}
	return out
}

func contains(certs []*x509.Certificate, c *x509.Certificate) bool {
	for _, have := range certs {
		if have.Equal(c) {
			return true
		}
	}
	return false
}

// Chain is the signer's certificate path, signer first, up to a
// self-signed certificate found in the message or in extra, valid at at.
func Chain(sd *cms.SignedData, si *cms.SignerInfo, extra []*x509.Certificate, at time.Time) ([]*x509.Certificate, error) {
	pool := append(append([]*x509.Certificate{}, sd.Certificates...), extra...)
	cert, err := si.FindCertificate(pool)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrChain, err)
	}
	var roots []*x509.Certificate
	for _, c := range pool {
		if string(c.RawIssuer) == string(c.RawSubject) {
			roots = append(roots, c)
		}
	}
	var v gostx509.ChainVerifier
	chain, err := v.VerifyChain(cert, gostx509.ChainOptions{Roots: roots, Intermediates: pool, At: at, AllowNoKeyUsage: true})
	if err != nil {
		return nil, fmt.Errorf("%w: %w (give the CA certificates up to the root)", ErrChain, err)
	}
	return chain, nil
}

// addOtherHash adds an OtherHash in its OtherHashAlgAndValue form: GOST
// hashes can only be written so, and SHA-1's bare form is not used.
func addOtherHash(b *cryptobyte.Builder, alg asn1.ObjectIdentifier, data []byte) {
	d, _ := tsp.Digest(alg, data) // alg comes from imprintAlg: always known
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(alg)
			b.AddASN1NULL()
		})
		b.AddASN1OctetString(d)
	})
}

// completeCertRefs is CompleteCertificateRefs ::= SEQUENCE OF OtherCertID,
// the CA certificates of the path (the signer's own is named by its
// signingCertificateV2).
func completeCertRefs(cas []*x509.Certificate, alg asn1.ObjectIdentifier) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, c := range cas {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // OtherCertID
				addOtherHash(b, alg, c.Raw)
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // IssuerSerial
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.Tag(4).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							b.AddBytes(c.RawIssuer)
						})
					})
					b.AddASN1BigInt(c.SerialNumber)
				})
			})
		}
	})
	return b.BytesOrPanic()
}

// completeRevRefs is CompleteRevocationRefs ::= SEQUENCE OF CrlOcspRef:
// one for the signer's certificate, then one per CA certificate of the
// path in CompleteCertificateRefs' order (the root's empty: nothing
// revokes a trust anchor).
func completeRevRefs(evidence []revocation.Evidence, pathLen int, alg asn1.ObjectIdentifier) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for i := 0; i < pathLen; i++ {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // CrlOcspRef
				if i >= len(evidence) {
					return
				}
				e := evidence[i]
				if e.OCSP != nil {
					b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // OcspListID
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
								b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // OcspResponsesID
									b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // OcspIdentifier
										b.AddBytes(e.ResponderID)
										b.AddASN1GeneralizedTime(e.ProducedAt.UTC())
									})
									addOtherHash(b, alg, e.OCSP)
								})
							})
						})
					})
					return
				}
				l, err := x509.ParseRevocationList(e.CRL)
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // CRLListID
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // CrlValidatedID
								addOtherHash(b, alg, e.CRL)
								if err != nil {
									return
								}
								b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // CrlIdentifier
									b.AddBytes(l.RawIssuer)
									b.AddASN1UTCTime(l.ThisUpdate.UTC())
									if l.Number != nil {
										b.AddASN1BigInt(l.Number)
									}
								})
							})
						})
					})
				})
			})
		}
	})
	return b.BytesOrPanic()
}

func marshalCerts(certs []*x509.Certificate) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, c := range certs {
			b.AddBytes(c.Raw)
		}
	})
	return b.BytesOrPanic()
}

// marshalRevValues is RevocationValues ::= SEQUENCE { crlVals [0]
// SEQUENCE OF CertificateList OPTIONAL, ocspVals [1] SEQUENCE OF
// BasicOCSPResponse OPTIONAL }.
func marshalRevValues(evidence []revocation.Evidence) []byte {
	var crls, ocsps [][]byte
	for _, e := range evidence {
		if e.OCSP != nil {
			ocsps = append(ocsps, e.OCSP)
		} else {
			crls = append(crls, e.CRL)
		}
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for i, list := range [][][]byte{crls, ocsps} {
			if len(list) == 0 {
				continue
			}
			b.AddASN1(cbasn1.Tag(uint8(i)).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for _, v := range list {
						b.AddBytes(v)
					}
				})
			})
		}
	})
	return b.BytesOrPanic()
}

// Values are what an X Long signer carries, read back.
type Values struct {
	Certificates []*x509.Certificate
	CRLs, OCSP   [][]byte // DER CertificateLists and BasicOCSPResponses
	// Hashes are the references' (algorithm, hash) pairs: every value
	// used must be one of them, so the CAdES-C timestamp over the
	// references covers the values too.
	Hashes []OtherHash
}

// OtherHash is one reference's hash.
type OtherHash struct {
	Algorithm asn1.ObjectIdentifier
	Hash      []byte
}

// oidSHA1 names OtherHash's bare sha1Hash form, which other
// implementations (IIT's, for one) write: SHA-1 identifies a value here,
// it signs nothing.
var oidSHA1 = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}

// Referenced says that data is one of the referenced values.
func (v *Values) Referenced(data []byte) bool {
	for _, h := range v.Hashes {
		var d []byte
		if h.Algorithm.Equal(oidSHA1) {
			s := sha1.Sum(data)
			d = s[:]
		} else if d, _ = tsp.Digest(h.Algorithm, data); d == nil {
			continue
		}
		if subtle.ConstantTimeCompare(d, h.Hash) == 1 {
			return true
		}
	}
	return false
}

// ReadValues reads a signer's certificate-values, revocation-values and
// the hashes of its references. ok is false when the signer has no
// revocation-values (it is no X Long signature).
func ReadValues(si *cms.SignerInfo) (v *Values, ok bool, err error) {
	revs := si.Unsigned(OIDRevocationValues)
	if len(revs) == 0 {
		return nil, false, nil
	}
	bad := fmt.Errorf("%w: X Long attributes", cms.ErrMalformed)
	if len(revs) != 1 || len(si.Unsigned(OIDCertValues)) != 1 || len(si.Unsigned(OIDCertificateRefs)) != 1 || len(si.Unsigned(OIDRevocationRefs)) != 1 {
		return nil, true, bad
	}
	v = &Values{}
	in := cryptobyte.String(si.Unsigned(OIDCertValues)[0])
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil, true, bad
	}
	for !seq.Empty() {
		var c cryptobyte.String
		if !seq.ReadASN1Element(&c, cbasn1.SEQUENCE) {
			return nil, true, bad
		}
		cert, err := x509.ParseCertificate(c)
		if err != nil {
			return nil, true, fmt.Errorf("%w: %w", bad, err)
		}
		v.Certificates = append(v.Certificates, cert)
	}
	in = cryptobyte.String(revs[0])
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil, true, bad
	}
	for i, out := range []*[][]byte{&v.CRLs, &v.OCSP} {
		var tagged, list cryptobyte.String
		var present bool
		if !seq.ReadOptionalASN1(&tagged, &present, cbasn1.Tag(uint8(i)).Constructed().ContextSpecific()) {
			return nil, true, bad
		}
		if !present {
			continue
		}
		if !tagged.ReadASN1(&list, cbasn1.SEQUENCE) {
			return nil, true, bad
		}
		for !list.Empty() {
			var el cryptobyte.String
			if !list.ReadASN1Element(&el, cbasn1.SEQUENCE) {
				return nil, true, bad
			}
			*out = append(*out, append([]byte{}, el...))
		}
	}
	for _, refs := range [][]byte{si.Unsigned(OIDCertificateRefs)[0], si.Unsigned(OIDRevocationRefs)[0]} {
		collectHashes(cryptobyte.String(refs), &v.Hashes, 0)
	}
	return v, true, nil
}

// collectHashes finds every OtherHash in the references, wherever it
// sits: OtherHashAlgAndValue (SEQUENCE { SEQUENCE { OID, ... }, OCTET
// STRING }) or the bare sha1Hash (a 20-octet OCTET STRING; a responder's
// KeyHash looks the same, and names no value).
func collectHashes(s cryptobyte.String, out *[]OtherHash, depth int) {
	if depth > 8 {
		return
	}
	for !s.Empty() {
		var el cryptobyte.String
		var tag cbasn1.Tag
		if !s.ReadAnyASN1(&el, &tag) {
			return
		}
		if tag == cbasn1.OCTET_STRING && len(el) == sha1.Size {
			*out = append(*out, OtherHash{Algorithm: oidSHA1, Hash: append([]byte{}, el...)})
			continue
		}
		if tag&0x20 == 0 {
			continue
		}
		probe := el
		var alg cryptobyte.String
		var oid asn1.ObjectIdentifier
		var h []byte
		if tag == cbasn1.SEQUENCE && probe.ReadASN1(&alg, cbasn1.SEQUENCE) && alg.ReadASN1ObjectIdentifier(&oid) &&
			probe.ReadASN1Bytes(&h, cbasn1.OCTET_STRING) && probe.Empty() {
			*out = append(*out, OtherHash{Algorithm: oid, Hash: h})
			continue
		}
		collectHashes(el, out, depth+1)
	}
}
