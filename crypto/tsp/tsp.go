// Package tsp is an RFC 3161 time-stamp client: it asks a time-stamping
// authority (TSA) over HTTP to vouch that some data existed at a time,
// and checks the answer: the status, that the token covers exactly the
// data asked about (message imprint), the nonce and the policy, the
// token's own CMS signature (crypto/cms, so GOST R 34.10-2012 TSAs as
// well as RSA and ECDSA ones) and, given roots, the TSA certificate's
// path to them with the critical, sole extended key usage timeStamping
// RFC 3161, 2.3 demands.
//
// CAdES-T and CAdES-X (package cades) timestamp a signature value this
// way: Streebog-256/512 for GOST signers, SHA-256 for the others.
package tsp

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/crypto/streebog"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Errors, for errors.Is. ErrUnavailable and ErrBadResponse are what a
// signer reports (TSA_UNAVAILABLE, TSA_BAD_RESPONSE); ErrUntrusted and
// ErrImprint are what a verifier meets on a token carried in a signature.
var (
	// ErrUnavailable: the TSA could not be reached or answered with an
	// HTTP error.
	ErrUnavailable = errors.New("tsp: time-stamping authority unavailable")
	// ErrBadResponse: the TSA answered, but not with a granted, well-formed
	// token for this request (status, imprint, nonce, policy, signature).
	ErrBadResponse = errors.New("tsp: bad time-stamp response")
	// ErrMalformed: a token that does not parse.
	ErrMalformed = errors.New("tsp: malformed time-stamp token")
	// ErrUntrusted: the TSA certificate has no valid path to the roots,
	// or is no time-stamping certificate.
	ErrUntrusted = errors.New("tsp: time-stamping authority not trusted")
	// ErrImprint: the token is over other data.
	ErrImprint = errors.New("tsp: time-stamp token covers other data")
	// ErrBadSignature: the token's signature does not verify.
	ErrBadSignature = errors.New("tsp: time-stamp token signature does not verify")
)

// OIDTSTInfo is id-ct-TSTInfo, a token's content type (RFC 3161, 2.4.2).
var OIDTSTInfo = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}

var (
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidEKU    = asn1.ObjectIdentifier{2, 5, 29, 37}
)

// digests are the imprint algorithms accepted: Streebog and SHA-2, never
// SHA-1 or MD5.
var digests = []struct {
	oid asn1.ObjectIdentifier
	new func() hash.Hash
}{
	{gostx509.OIDStreebog256, streebog.New256},
	{gostx509.OIDStreebog512, streebog.New512},
	{oidSHA256, crypto.SHA256.New},
	{oidSHA384, crypto.SHA384.New},
	{oidSHA512, crypto.SHA512.New},
}

// Digest returns the hash of data under the digest algorithm oid.
func Digest(oid asn1.ObjectIdentifier, data []byte) ([]byte, error) {
	for _, d := range digests {
		if d.oid.Equal(oid) {
			h := d.new()
			h.Write(data)
			return h.Sum(nil), nil
		}
	}
	return nil, fmt.Errorf("tsp: digest algorithm %v not accepted", oid)
}

// SHA256 is the imprint algorithm for RSA and ECDSA signers.
var SHA256 = oidSHA256

// TSTInfo is a token's content (RFC 3161, 2.4.2).
type TSTInfo struct {
	Policy        asn1.ObjectIdentifier
	HashAlgorithm asn1.ObjectIdentifier
	HashedMessage []byte
	SerialNumber  *big.Int
	GenTime       time.Time
	Nonce         *big.Int // nil when absent
	// TSA is the tsa GeneralName's directoryName, when the TSA named
	// itself so.
	TSA pkix.RDNSequence
}

// Token is a parsed time-stamp token: a CMS SignedData over a TSTInfo.
type Token struct {
	// Raw is the token's DER ContentInfo, as carried in a signature's
	// signatureTimeStampToken attribute.
	Raw  []byte
	Info TSTInfo
	sd   *cms.SignedData
}

// TSAName is who the TSA says it is: its tsa field, or else the subject of
// the certificate that signed the token.
func (t *Token) TSAName() string {
	if len(t.Info.TSA) > 0 {
		var n pkix.Name
		n.FillFromRDNSequence(&t.Info.TSA)
		return n.String()
	}
	if len(t.sd.Signers) == 1 {
		if c, err := t.sd.Signers[0].FindCertificate(t.sd.Certificates); err == nil {
			return c.Subject.String()
		}
	}
	return ""
}

// ParseToken parses a time-stamp token (DER ContentInfo).
func ParseToken(der []byte) (*Token, error) {
	sd, err := cms.Parse(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	ct, _ := x509.OIDFromASN1OID(OIDTSTInfo)
	if !sd.ContentType.Equal(ct) || !sd.Attached || len(sd.Signers) != 1 {
		return nil, fmt.Errorf("%w: not a signed TSTInfo with one signer", ErrMalformed)
	}
	t := &Token{Raw: append([]byte{}, der...), sd: sd}
	if err := t.Info.parse(sd.Content); err != nil {
		return nil, err
	}
	return t, nil
}

func (info *TSTInfo) parse(der []byte) error {
	in := cryptobyte.String(der)
	var s, imprint, alg cryptobyte.String
	var version int64
	var hashed cryptobyte.String
	info.SerialNumber = new(big.Int)
	if !in.ReadASN1(&s, cbasn1.SEQUENCE) || !in.Empty() ||
		!s.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) || version != 1 ||
		!s.ReadASN1ObjectIdentifier(&info.Policy) ||
		!s.ReadASN1(&imprint, cbasn1.SEQUENCE) ||
		!imprint.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&info.HashAlgorithm) ||
		!imprint.ReadASN1(&hashed, cbasn1.OCTET_STRING) || !imprint.Empty() ||
		!s.ReadASN1Integer(info.SerialNumber) {
		return ErrMalformed
	}
	info.HashedMessage = append([]byte{}, hashed...)
	var gt cryptobyte.String
	if !s.ReadASN1(&gt, cbasn1.GeneralizedTime) {
		return ErrMalformed
	}
	// RFC 3161 allows fractions of a second, which cryptobyte's reader
	// refuses.
	t, err := time.Parse("20060102150405.999999999Z", string(gt))
	if err != nil {
		return fmt.Errorf("%w: genTime %q", ErrMalformed, gt)
	}
	info.GenTime = t
	if !s.SkipOptionalASN1(cbasn1.SEQUENCE) || // accuracy
		!s.SkipOptionalASN1(cbasn1.BOOLEAN) { // ordering
		return ErrMalformed
	}
	if s.PeekASN1Tag(cbasn1.INTEGER) {
		info.Nonce = new(big.Int)
		if !s.ReadASN1Integer(info.Nonce) {
			return ErrMalformed
		}
	}
	var tsa cryptobyte.String
	var hasTSA bool
	if !s.ReadOptionalASN1(&tsa, &hasTSA, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return ErrMalformed
	}
	if hasTSA && tsa.PeekASN1Tag(cbasn1.Tag(4).Constructed().ContextSpecific()) {
		var name cryptobyte.String
		if !tsa.ReadASN1(&name, cbasn1.Tag(4).Constructed().ContextSpecific()) {
			return ErrMalformed
		}
		if rest, err := asn1.Unmarshal(name, &info.TSA); err != nil || len(rest) > 0 {
			return ErrMalformed
		}
	}
	if !s.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) || !s.Empty() {
		return ErrMalformed
	}
	return nil
}

// Covers checks that the token's message imprint is the hash of data.
func (t *Token) Covers(data []byte) error {
	d, err := Digest(t.Info.HashAlgorithm, data)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrImprint, err)
	}
	if subtle.ConstantTimeCompare(d, t.Info.HashedMessage) != 1 {
		return ErrImprint
	}
	return nil
}

// VerifyOptions say whom to trust.
type VerifyOptions struct {
	// Roots are the trusted roots of TSA certificates; none means the
	// path is not checked (the signature still is).
	Roots []*x509.Certificate
	// Intermediates complete paths and supply the TSA certificate when
	// the token does not carry it.
	Intermediates []*x509.Certificate
}

// Verify checks the token's signature and, given roots, the TSA
// certificate: its path to them valid at the token's time, and its
// extended key usage timeStamping alone and critical (RFC 3161, 2.3). It
// returns the path, TSA certificate first (just that certificate without
// roots).
func (t *Token) Verify(opts VerifyOptions) ([]*x509.Certificate, error) {
	si := t.sd.Signers[0]
	cert, err := si.FindCertificate(t.sd.Certificates)
	if err != nil {
		if cert, err = si.FindCertificate(opts.Intermediates); err != nil {
			return nil, fmt.Errorf("%w: the TSA certificate is neither in the token nor given", ErrUntrusted)
		}
	}
	if err := t.sd.VerifySigner(si, cert, nil); err != nil {
		if errors.Is(err, cms.ErrUnsupported) {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	if err := timeStampingOnly(cert); err != nil {
		return nil, err
	}
	if len(opts.Roots) == 0 {
		return []*x509.Certificate{cert}, nil
	}
	var v gostx509.ChainVerifier
	chain, err := v.VerifyChain(cert, gostx509.ChainOptions{
		Roots:           opts.Roots,
		Intermediates:   append(append([]*x509.Certificate{}, t.sd.Certificates...), opts.Intermediates...),
		At:              t.Info.GenTime,
		ExtKeyUsages:    []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
		AllowNoKeyUsage: true,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUntrusted, err)
	}
	return chain, nil
}

// Certificates are those the token carries (the TSA's, with certReq).
func (t *Token) Certificates() []*x509.Certificate { return t.sd.Certificates }

func timeStampingOnly(c *x509.Certificate) error {
	for _, e := range c.Extensions {
		if e.Id.Equal(oidEKU) {
			if !e.Critical || len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping || len(c.UnknownExtKeyUsage) > 0 {
				return fmt.Errorf("%w: %s: extended key usage is not timeStamping alone, critical", ErrUntrusted, c.Subject)
			}
			return nil
		}
	}
	return fmt.Errorf("%w: %s: no extended key usage timeStamping", ErrUntrusted, c.Subject)
}

// Client asks one TSA for tokens. The zero value is not usable: URL is
// required.
type Client struct {
	// URL is the TSA's http or https address.
	URL string
	// HTTP sends the requests; nil means a client with a 30 s timeout
	// that follows no redirects.
	HTTP *http.Client
	// Policy, when set, is asked for (reqPolicy) and required of the
	// token.
	Policy asn1.ObjectIdentifier
	// Verify, when its Roots are set, is applied to every token; the
	// token's signature is checked in any case.
	Verify VerifyOptions
}

// defaultClient follows no redirects: a TSA answers where it is asked,
// and a redirect would send the agent's request to an address neither
// the page nor the settings named.
var defaultClient = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// maxResponse bounds a TSA's answer: a token with a certificate chain is
// a few kilobytes.
const maxResponse = 1 << 20

// CheckURL refuses a TSA address that is not an absolute http or https URL.
func CheckURL(u string) error {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("tsp: TSA address %q is not an http(s) URL", u)
	}
	return nil
}

// Stamp asks the TSA for a token over data, hashed with digest (an OID of
// Streebog-256/512 or SHA-256/384/512), with a random nonce and certReq,
// and checks the answer (see the package doc). Network and HTTP failures
// wrap ErrUnavailable, anything wrong with the answer ErrBadResponse.
func (c *Client) Stamp(ctx context.Context, digest asn1.ObjectIdentifier, data []byte) (*Token, error) {
	if err := CheckURL(c.URL); err != nil {
		return nil, err
	}
	imprint, err := Digest(digest, data)
	if err != nil {
		return nil, err
	}
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	if err != nil {
		return nil, err
	}
	req := marshalRequest(digest, imprint, nonce, c.Policy)
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(req))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	hr.Header.Set("Content-Type", "application/timestamp-query")
	client := c.HTTP
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s: HTTP %d", ErrUnavailable, c.URL, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if len(body) > maxResponse {
		return nil, fmt.Errorf("%w: an answer over %d bytes", ErrBadResponse, maxResponse)
	}
	tok, err := ParseResponse(body)
	if err != nil {
		return nil, err
	}
	switch {
	case !tok.Info.HashAlgorithm.Equal(digest) || subtle.ConstantTimeCompare(tok.Info.HashedMessage, imprint) != 1:
		return nil, fmt.Errorf("%w: the token covers other data", ErrBadResponse)
	case tok.Info.Nonce == nil || tok.Info.Nonce.Cmp(nonce) != 0:
		return nil, fmt.Errorf("%w: the token does not carry our nonce", ErrBadResponse)
	case c.Policy != nil && !tok.Info.Policy.Equal(c.Policy):
		return nil, fmt.Errorf("%w: policy %v, not %v", ErrBadResponse, tok.Info.Policy, c.Policy)
	}
	if _, err := tok.Verify(c.Verify); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadResponse, err)
	}
	return tok, nil
}

// marshalRequest is TimeStampReq (RFC 3161, 2.4.1), version 1, certReq.
func marshalRequest(digest asn1.ObjectIdentifier, imprint []byte, nonce *big.Int, policy asn1.ObjectIdentifier) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(digest)
				b.AddASN1NULL()
			})
			b.AddASN1OctetString(imprint)
		})
		if policy != nil {
			b.AddASN1ObjectIdentifier(policy)
		}
		b.AddASN1BigInt(nonce)
		b.AddASN1Boolean(true)
	})
	return b.BytesOrPanic()
}

// pkiStatusText names RFC 3161's PKIStatus values for errors.
var pkiStatusText = map[int64]string{2: "rejection", 3: "waiting", 4: "revocationWarning", 5: "revocationNotification"}

// ParseResponse reads a TimeStampResp and returns its token when the
// status is granted (0) or grantedWithMods (1).
func ParseResponse(der []byte) (*Token, error) {
	in := cryptobyte.String(der)
	var resp, status, token cryptobyte.String
	var code int64
	if !in.ReadASN1(&resp, cbasn1.SEQUENCE) || !in.Empty() ||
		!resp.ReadASN1(&status, cbasn1.SEQUENCE) || !status.ReadASN1Int64WithTag(&code, cbasn1.INTEGER) {
		return nil, fmt.Errorf("%w: not a TimeStampResp", ErrBadResponse)
	}
	if code != 0 && code != 1 {
		var texts []string
		var strs cryptobyte.String
		if ok, _ := status.PeekASN1Tag(cbasn1.SEQUENCE), 0; ok && status.ReadASN1(&strs, cbasn1.SEQUENCE) {
			for !strs.Empty() {
				var s cryptobyte.String
				if !strs.ReadASN1(&s, cbasn1.UTF8String) {
					break
				}
				texts = append(texts, string(s))
			}
		}
		name := pkiStatusText[code]
		if name == "" {
			name = fmt.Sprint(code)
		}
		return nil, fmt.Errorf("%w: status %s %q", ErrBadResponse, name, strings.Join(texts, "; "))
	}
	if !resp.ReadASN1Element(&token, cbasn1.SEQUENCE) || !resp.Empty() {
		return nil, fmt.Errorf("%w: granted without a token", ErrBadResponse)
	}
	tok, err := ParseToken(token)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadResponse, err)
	}
	return tok, nil
}
