// Package verify is what a login server uses to let a person in by
// certificate: it issues single-use challenges and verifies the CMS the
// podpis agent returns (signature, chain to the server's trusted roots,
// validity, key usage, origin, challenge, clock), and tells who signed.
//
// GOST R 34.10-2012 with Streebog, RSA and ECDSA signatures are accepted.
// Failures are *Error values with a stable Code; use errors.Is with the
// Err… sentinels.
//
//	v, err := verify.New(verify.Config{Roots: roots})
//	c, err := v.IssueChallenge(ctx, "https://lk.example.ru")
//	// … the page asks the agent to sign c.Value and posts back the CMS …
//	res, err := v.VerifyLogin(ctx, cmsBytes, "https://lk.example.ru")
//	fmt.Println(res.Identity.CommonName, res.Identity.SNILS)
package verify

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/verify/revocation"
)

// Config configures a Verifier. Roots is required.
type Config struct {
	// Roots are the trusted root certificates.
	Roots []*x509.Certificate
	// Intermediates may complete chains the messages do not carry.
	Intermediates []*x509.Certificate
	// Store keeps challenges; nil means an in-memory store (one server).
	Store ChallengeStore
	// ChallengeTTL is how long a challenge may be used; zero means 5 min.
	ChallengeTTL time.Duration
	// MaxClockSkew bounds the difference between the signer's clock and
	// ours; zero means 5 min.
	MaxClockSkew time.Duration
	// ExtKeyUsages and Policies, when set, are required of the signer's
	// certificate.
	ExtKeyUsages []x509.ExtKeyUsage
	Policies     []asn1.ObjectIdentifier
	// Revocation, when set, checks every chain (revocation.New).
	Revocation gostx509.RevocationChecker
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verifier verifies logins and document signatures. It is safe for
// concurrent use.
type Verifier struct {
	cfg    Config
	chains gostx509.ChainVerifier
}

// Result is a verified signature.
type Result struct {
	Identity Identity `json:"identity"`
	// Chain is the certificate path, signer first, root last.
	Chain []*x509.Certificate `json:"-"`
	// SigningTime is the signingTime attribute, zero when absent.
	SigningTime time.Time `json:"signingTime,omitzero"`
	// Content is the signed content.
	Content []byte `json:"-"`
	// Revocation says how each certificate's status was established
	// (revocation.Checker); empty without a checker.
	Revocation []string `json:"revocation,omitempty"`
}

// establisher is a RevocationChecker that can say how it decided.
type establisher interface {
	Established(chain []*x509.Certificate, at time.Time) ([]string, error)
}

// New returns a Verifier.
func New(cfg Config) (*Verifier, error) {
	if len(cfg.Roots) == 0 {
		return nil, errors.New("verify: no trusted roots")
	}
	if cfg.Store == nil {
		cfg.Store = &MemoryStore{Now: cfg.Now}
	}
	if cfg.ChallengeTTL == 0 {
		cfg.ChallengeTTL = 5 * time.Minute
	}
	if cfg.MaxClockSkew == 0 {
		cfg.MaxClockSkew = 5 * time.Minute
	}
	return &Verifier{cfg: cfg}, nil
}

func (v *Verifier) now() time.Time {
	if v.cfg.Now != nil {
		return v.cfg.Now()
	}
	return time.Now()
}

// IssueChallenge makes a challenge of 256 random bits for origin (the
// login page's scheme://host[:port]) and records it in the store.
func (v *Verifier) IssueChallenge(ctx context.Context, origin string) (Challenge, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Challenge{}, err
	}
	c := Challenge{
		Value:   base64.RawURLEncoding.EncodeToString(b[:]),
		Origin:  origin,
		Expires: v.now().Add(v.cfg.ChallengeTTL),
	}
	if err := v.cfg.Store.Put(ctx, c, c.Expires.Add(v.cfg.ChallengeTTL)); err != nil {
		return Challenge{}, err
	}
	return c, nil
}

// VerifyLogin checks a login: the CMS must be attached, have exactly one
// signer and carry an authentication document for origin and a challenge
// issued for it, signed within the allowed clock skew by a certificate
// that chains to the roots. The challenge is consumed only when everything
// else holds, so a forged message cannot burn a person's challenge; a
// replay of a valid one fails with ErrChallengeReplayed.
func (v *Verifier) VerifyLogin(ctx context.Context, message []byte, origin string) (*Result, error) {
	sd, err := cms.Parse(message)
	if err != nil {
		return nil, fail(CodeMalformed, err)
	}
	if sd.Content == nil {
		return nil, fail(CodeMalformed, errors.New("login signature must be attached"))
	}
	if len(sd.Signers) != 1 {
		return nil, fail(CodeMalformed, fmt.Errorf("%d signers, a login needs exactly one", len(sd.Signers)))
	}
	doc, signedAt, err := ParseAuthDocument(sd.Content)
	if err != nil {
		return nil, fail(CodeMalformed, err)
	}
	if doc.Origin != origin {
		return nil, fail(CodeOriginMismatch, fmt.Errorf("signed for %q, expected %q", doc.Origin, origin))
	}
	now := v.now()
	if skew := now.Sub(signedAt).Abs(); skew > v.cfg.MaxClockSkew {
		return nil, fail(CodeClockSkew, fmt.Errorf("signer's clock is %s off", skew.Round(time.Second)))
	}
	res, err := v.verify(sd, nil, now)
	if err != nil {
		return nil, err
	}
	if st := res.SigningTime; !st.IsZero() && now.Sub(st).Abs() > v.cfg.MaxClockSkew {
		return nil, fail(CodeClockSkew, fmt.Errorf("signingTime %s", st.Format(time.RFC3339)))
	}
	c, err := v.cfg.Store.Take(ctx, doc.Challenge)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, err
		}
		return nil, fmt.Errorf("verify: challenge store: %w", err)
	}
	if c.Origin != origin {
		return nil, fail(CodeOriginMismatch, fmt.Errorf("challenge issued for %q", c.Origin))
	}
	if now.After(c.Expires) {
		return nil, fail(CodeChallengeExpired, fmt.Errorf("expired %s", c.Expires.Format(time.RFC3339)))
	}
	return res, nil
}

// VerifySignature checks a document signature: CMS attached, or detached
// with content given. Every signer must verify; the result describes the
// first. The verification time is the Verifier's clock.
func (v *Verifier) VerifySignature(message, content []byte) (*Result, error) {
	sd, err := cms.Parse(message)
	if err != nil {
		return nil, fail(CodeMalformed, err)
	}
	if len(sd.Signers) == 0 {
		return nil, fail(CodeMalformed, errors.New("no signers"))
	}
	if sd.Content == nil && content == nil {
		return nil, fail(CodeMalformed, cms.ErrNoContent)
	}
	return v.verify(sd, content, v.now())
}

func (v *Verifier) verify(sd *cms.SignedData, detached []byte, at time.Time) (*Result, error) {
	var first *Result
	for _, si := range sd.Signers {
		cert, err := si.FindCertificate(sd.Certificates)
		if err != nil {
			cert, err = si.FindCertificate(v.cfg.Intermediates)
		}
		if err != nil {
			return nil, fail(CodeMalformed, err)
		}
		if err := sd.VerifySigner(si, cert, detached); err != nil {
			return nil, classifyCMS(err)
		}
		chain, err := v.chains.VerifyChain(cert, gostx509.ChainOptions{
			Roots:         v.cfg.Roots,
			Intermediates: append(append([]*x509.Certificate{}, sd.Certificates...), v.cfg.Intermediates...),
			At:            at,
			ExtKeyUsages:  v.cfg.ExtKeyUsages,
			Policies:      v.cfg.Policies,
			Revocation:    v.cfg.Revocation,
		})
		if err != nil {
			return nil, classifyChain(err)
		}
		if first == nil {
			content := sd.Content
			if content == nil {
				content = detached
			}
			first = &Result{Identity: IdentityOf(cert), Chain: chain, SigningTime: si.SigningTime, Content: content}
			if e, ok := v.cfg.Revocation.(establisher); ok {
				// Answered from the checker's caches, warm from the
				// chain check just done.
				first.Revocation, _ = e.Established(chain, at)
			}
		}
	}
	return first, nil
}

func classifyCMS(err error) *Error {
	switch {
	case errors.Is(err, cms.ErrDigestMismatch), errors.Is(err, cms.ErrContentType), errors.Is(err, cms.ErrNoContent):
		return fail(CodeContentMismatch, err)
	case errors.Is(err, cms.ErrBadSignature), errors.Is(err, cms.ErrSignerMismatch):
		return fail(CodeBadSignature, err)
	}
	return fail(CodeMalformed, err)
}

func classifyChain(err error) *Error {
	switch {
	case errors.Is(err, gostx509.ErrExpired):
		return fail(CodeExpired, err)
	case errors.Is(err, gostx509.ErrNotYetValid):
		return fail(CodeNotYetValid, err)
	case errors.Is(err, gostx509.ErrKeyUsage), errors.Is(err, gostx509.ErrPolicy):
		return fail(CodeKeyUsage, err)
	case errors.Is(err, revocation.ErrRevoked):
		return fail(CodeRevoked, err)
	case errors.Is(err, revocation.ErrUnknown):
		return fail(CodeRevocationUnknown, err)
	}
	return fail(CodeUntrusted, err)
}
