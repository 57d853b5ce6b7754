// Package verify is what a login server uses to let a person in by
// certificate: it issues single-use challenges and verifies the CMS the
// podpis agent returns (signature, chain to the server's trusted roots,
// validity, key usage, revocation, origin, challenge, clock), and tells who
// signed.
//
// It is safe by default: the site's origins are fixed once in Config and
// checked by New, and a login or challenge for any other is refused;
// revocation is checked (OCSP, then CRLs, policy Prefer) unless
// Config.Revocation is RevocationOff. Origins are compared as the agent
// normalises them (login.NormalizeOrigin), so both sides name a site alike.
//
// A login is a CMS of content type login.OID and nothing else is: a
// document signature (VerifySignature) never passes for a login, nor a
// login for a document. Challenges are stateless: each carries its origin
// binding and expiry under a MAC with Config.ChallengeKey, so issuing
// stores nothing; the ChallengeStore remembers only used challenges until
// they expire.
//
// GOST R 34.10-2012 with Streebog, RSA and ECDSA signatures are accepted,
// and GOST R 34.10-2001 with GOST R 34.11-94 (CryptoPro sets) for
// archived documents; an algorithm not known is UNSUPPORTED_ALGORITHM.
// Documents of any size are verified streamed by VerifyDocument, which
// gives each signer of a co-signed document its own verdict; a login must
// have exactly one signer. Certificates are judged chain first, then key
// usage by Profile: RFC 5280 for documents (a certificate without keyUsage
// may sign), keyUsage required for logins, the qualified profile on
// request.
// Document signatures in the long-term CAdES forms (package cades) are
// judged at the time their signature-time-stamp proves, by TSAs chaining
// to Config.TimestampRoots: a certificate revoked or expired after that
// time still passes. A CAdES-X Long Type 1 signature is checked offline,
// from the certificates, CRLs and OCSP responses it carries, bound to it
// by its CAdES-C timestamp.
// Failures are *Error values with a stable Code; use errors.Is with the
// Err… sentinels, one per code. A call whose ctx ends while it waits (on
// an OCSP responder or a CRL download) fails with the ctx's cause instead.
//
//	v, err := verify.New(verify.Config{Origins: []string{"https://lk.example.ru"}, Roots: roots, Intermediates: cas})
//	c, err := v.IssueChallenge(ctx, "https://lk.example.ru")
//	// … the page asks the agent to sign c.Value and posts back the CMS …
//	res, err := v.VerifyLogin(ctx, cmsDER, "https://lk.example.ru")
//	fmt.Println(res.Identity.CommonName, res.Identity.SNILS)
package verify

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/login"
	"github.com/podpis/podpis/verify/revocation"
)

// Config configures a Verifier. Roots is required; Origins is required
// for logins.
type Config struct {
	// Origins are the site's origins (scheme://host[:port]) whose logins
	// this server accepts: https, or http on 127.0.0.1 and [::1] only, as
	// the agent serves them. New refuses any other and normalises them
	// (login.NormalizeOrigin: "https://LK.example.ru:443" is
	// "https://lk.example.ru"). IssueChallenge, VerifyLogin and
	// ExamineLogin refuse an origin not listed; a Verifier without
	// origins checks document signatures only.
	Origins []string
	// Roots are the trusted root certificates.
	Roots []*x509.Certificate
	// Intermediates may complete chains the messages do not carry.
	Intermediates []*x509.Certificate
	// Store remembers used challenges; nil means an in-memory store (one
	// server). Several servers share one store (verify/redisstore).
	Store ChallengeStore
	// ChallengeKey, at least MinChallengeKey bytes, authenticates the
	// challenges this server issues. Several servers behind one balancer
	// must share it (and Store): a challenge issued by one is checked by
	// another. Nil means a random key made by New, good for one server
	// and one run. Keep it secret: whoever has it can make challenges.
	ChallengeKey []byte
	// ChallengeTTL is how long a challenge may be used; zero means 5 min.
	// Servers sharing a store should agree on the time within it.
	ChallengeTTL time.Duration
	// MaxClockSkew bounds the difference between the signer's clock and
	// ours; zero means 5 min.
	MaxClockSkew time.Duration
	// ExtKeyUsages and Policies, when set, are required of the signer's
	// certificate.
	ExtKeyUsages []x509.ExtKeyUsage
	Policies     []asn1.ObjectIdentifier
	// Revocation checks every chain. Nil means a revocation.Checker with
	// policy Prefer: OCSP and CRLs as the certificates name them; a
	// revoked certificate fails, a question nobody answers passes and
	// Result.Revocation says so. RevocationOff checks nothing.
	Revocation RevocationChecker
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Documents is what a document signer's certificate must be;
	// ProfileDefault means ProfileRFC5280.
	Documents Profile
	// Logins is what a login signer's certificate must be;
	// ProfileDefault means ProfileKeyUsage.
	Logins Profile
	// TimestampRoots are the roots trusted for the time-stamping
	// authorities of CAdES-T and CAdES-X signatures; nil means Roots.
	TimestampRoots []*x509.Certificate
}

// Profile is what a signer's certificate must be besides chaining to a
// root: how its key usage and subject are judged.
type Profile int

const (
	// ProfileDefault is the purpose's default (see Config).
	ProfileDefault Profile = iota
	// ProfileRFC5280: key usage, when the certificate has the extension,
	// allows digitalSignature or nonRepudiation; a certificate without it
	// (a v1 one) may sign anything (RFC 5280, 4.2.1.3).
	ProfileRFC5280
	// ProfileKeyUsage: the keyUsage extension is present and allows
	// digitalSignature or nonRepudiation.
	ProfileKeyUsage
	// ProfileQualified: ProfileKeyUsage, and the subject names what a
	// Russian qualified certificate names (63-FZ art. 17, FSB order
	// 795): a common name, the SNILS, an INN (of the person or of the
	// organisation) and, for an organisation, its OGRN or OGRNIP.
	ProfileQualified
)

// RevocationChecker establishes that no certificate of chain (leaf first,
// root last) was revoked at time at, and how. A revoked certificate fails
// with an error wrapping revocation.ErrRevoked (REVOKED), an unanswered
// question with one wrapping revocation.ErrUnknown (REVOCATION_UNKNOWN).
// revocation.Checker implements it.
type RevocationChecker interface {
	CheckRevocation(ctx context.Context, chain []*x509.Certificate, at time.Time) ([]revocation.Status, error)
}

// RevocationOff, as Config.Revocation, checks no revocation: for a server
// that checks it some other way. Result.Revocation says it was not
// checked.
var RevocationOff RevocationChecker = revocationOff{}

type revocationOff struct{}

func (revocationOff) CheckRevocation(context.Context, []*x509.Certificate, time.Time) ([]revocation.Status, error) {
	return []revocation.Status{{Source: revocation.NotChecked}}, nil
}

// ErrOriginNotConfigured is wrapped by the ORIGIN_MISMATCH of a call for
// an origin that is not one of Config.Origins.
var ErrOriginNotConfigured = errors.New("verify: origin not in Config.Origins")

// Verifier verifies logins and document signatures. It is safe for
// concurrent use.
type Verifier struct {
	cfg        Config
	origins    []string // normalised
	challenges *challenger
	chains     gostx509.ChainVerifier
}

// Result is a verified signature.
type Result struct {
	Identity login.Identity `json:"identity"`
	// Chain is the certificate path, signer first, root last.
	Chain []*x509.Certificate `json:"-"`
	// SigningTime is the signingTime attribute, zero when absent.
	SigningTime time.Time `json:"signingTime,omitzero"`
	// Content is the signed content.
	Content []byte `json:"-"`
	// Revocation says how each certificate's status was established, as
	// the RevocationChecker reported it, or from the OCSP responses and
	// CRLs a CAdES-X Long signature carries.
	Revocation []revocation.Status `json:"revocation,omitempty"`
	// Level is the document signature's CAdES form: bes, t, xl (X Long
	// without a CAdES-C timestamp) or xl1 (X Long Type 1).
	Level string `json:"level,omitempty"`
	// Timestamps are the signer's verified timestamps; with one, the
	// certificates are judged at the earliest signature-time-stamp's time
	// instead of now.
	Timestamps []Timestamp `json:"timestamps,omitempty"`
}

// New returns a Verifier.
func New(cfg Config) (*Verifier, error) {
	if len(cfg.Roots) == 0 {
		return nil, errors.New("verify: no trusted roots")
	}
	var origins []string
	for _, o := range cfg.Origins {
		n, err := login.NormalizeOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("verify: origin %q: https, or http on 127.0.0.1 or [::1], with no path: %w", o, err)
		}
		if !slices.Contains(origins, n) {
			origins = append(origins, n)
		}
	}
	if cfg.Store == nil {
		cfg.Store = &MemoryStore{Now: cfg.Now}
	}
	if cfg.Revocation == nil {
		r, err := revocation.New(revocation.Config{Policy: revocation.Prefer})
		if err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
		cfg.Revocation = r
	}
	key := cfg.ChallengeKey
	switch {
	case key == nil:
		key = make([]byte, MinChallengeKey)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
	case len(key) < MinChallengeKey:
		return nil, fmt.Errorf("verify: challenge key of %d bytes, at least %d needed", len(key), MinChallengeKey)
	}
	if cfg.ChallengeTTL == 0 {
		cfg.ChallengeTTL = 5 * time.Minute
	}
	if cfg.MaxClockSkew == 0 {
		cfg.MaxClockSkew = 5 * time.Minute
	}
	return &Verifier{cfg: cfg, origins: origins, challenges: newChallenger(key)}, nil
}

func (v *Verifier) now() time.Time {
	if v.cfg.Now != nil {
		return v.cfg.Now()
	}
	return time.Now()
}

// site returns origin normalised if it is one of Config.Origins.
func (v *Verifier) site(origin string) (string, error) {
	if slices.Contains(v.origins, origin) {
		return origin, nil // already normalised: the usual call, spared a URL parse
	}
	n, err := login.NormalizeOrigin(origin)
	if err != nil || !slices.Contains(v.origins, n) {
		return "", fail(CodeOriginMismatch, fmt.Errorf("%w: %q", ErrOriginNotConfigured, origin))
	}
	return n, nil
}

// IssueChallenge makes a challenge for origin (the login page's
// scheme://host[:port], one of Config.Origins) valid for ChallengeTTL. It
// stores nothing: the value carries its expiry and is bound to the
// normalised origin by a MAC with the server's key, so a flood of requests
// for challenges costs only CPU.
func (v *Verifier) IssueChallenge(ctx context.Context, origin string) (Challenge, error) {
	site, err := v.site(origin)
	if err != nil {
		return Challenge{}, err
	}
	return v.challenges.issue(site, v.now().Add(v.cfg.ChallengeTTL))
}

// VerifyLogin checks a login (the CMS in DER; a page posts it in base64)
// for origin, one of Config.Origins: the CMS must be attached, of content
// type login.OID with signed attributes, have exactly one signer and carry
// a login document for origin (as login.NormalizeOrigin reads both) with a
// challenge this server (or one sharing its key) issued for origin and not
// yet expired, signed within the allowed clock skew by a certificate that
// chains to the roots and is not revoked. Only then is the challenge
// consumed, atomically, so neither a forged message nor a login for
// another site burns a person's challenge; a replay of a valid one fails
// with ErrChallengeReplayed.
func (v *Verifier) VerifyLogin(ctx context.Context, message []byte, origin string) (*Result, error) {
	site, err := v.site(origin)
	if err != nil {
		return nil, err
	}
	now := v.now()
	var expires time.Time
	res, doc, err := v.login(ctx, message, site, now, func(doc login.Document) (err error) {
		if expires, err = v.challenges.open(doc.Challenge, site); err != nil {
			return err
		}
		if now.After(expires) {
			return fail(CodeChallengeExpired, fmt.Errorf("expired %s", expires.Format(time.RFC3339)))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Remembered past the expiry by one lifetime more, for servers whose
	// clocks differ.
	if err := v.cfg.Store.Consume(ctx, doc.Challenge, expires.Add(v.cfg.ChallengeTTL)); err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, err
		}
		return nil, fmt.Errorf("verify: challenge store: %w", err)
	}
	return res, nil
}

// ExamineLogin checks a login as VerifyLogin does (origin, message,
// content type, document, clocks, signature, chain, revocation) except its
// challenge: neither whether this server issued it nor whether it was
// used. It returns the signed document, whose challenge can then be looked
// up in logs. It is for tools that explain a refused login (podpis verify
// --login); never let anyone in on its word, since a recorded login passes
// it again.
func (v *Verifier) ExamineLogin(ctx context.Context, message []byte, origin string) (*Result, login.Document, error) {
	site, err := v.site(origin)
	if err != nil {
		return nil, login.Document{}, err
	}
	return v.login(ctx, message, site, v.now(), func(login.Document) error { return nil })
}

// login is VerifyLogin up to the consumption of the challenge, with the
// challenge's own check (cheap, so done before the signature's) given by
// the caller. site is normalised.
func (v *Verifier) login(ctx context.Context, message []byte, site string, now time.Time, checkChallenge func(login.Document) error) (*Result, login.Document, error) {
	var doc login.Document
	sd, err := cms.Parse(message)
	if err != nil {
		return nil, doc, fail(CodeMalformed, err)
	}
	if !sd.ContentType.Equal(login.OID) {
		return nil, doc, fail(CodeWrongPurpose, fmt.Errorf("content type %v is not a login's", sd.ContentType))
	}
	if sd.Content == nil {
		return nil, doc, fail(CodeMalformed, errors.New("login signature must be attached"))
	}
	if len(sd.Signers) != 1 {
		return nil, doc, fail(CodeMalformed, fmt.Errorf("%d signers, a login needs exactly one", len(sd.Signers)))
	}
	if !sd.Signers[0].HasSignedAttributes {
		return nil, doc, fail(CodeMalformed, errors.New("a login needs signed attributes"))
	}
	doc, signedAt, err := login.ParseDocument(sd.Content)
	if err != nil {
		return nil, doc, fail(CodeMalformed, err)
	}
	// The agent signs the origin normalised (then it equals site); read
	// any other spelling by the same rule, so that one the agent would
	// never sign for is no site at all.
	if doc.Origin != site {
		signedFor, err := login.NormalizeOrigin(doc.Origin)
		if err != nil {
			return nil, doc, fail(CodeOriginMismatch, fmt.Errorf("signed for %q, no origin the agent serves: %w", doc.Origin, err))
		}
		if signedFor != site {
			return nil, doc, fail(CodeOriginMismatch, fmt.Errorf("signed for %q, expected %q", doc.Origin, site))
		}
	}
	if err := checkChallenge(doc); err != nil {
		return nil, doc, err
	}
	if skew := now.Sub(signedAt).Abs(); skew > v.cfg.MaxClockSkew {
		return nil, doc, fail(CodeClockSkew, fmt.Errorf("signer's clock is %s off", skew.Round(time.Second)))
	}
	res, err := v.verifySigner(ctx, sd, sd.Signers[0], nil, now, v.profile(v.cfg.Logins, ProfileKeyUsage), false)
	if err != nil {
		return nil, doc, err
	}
	if st := res.SigningTime; !st.IsZero() && now.Sub(st).Abs() > v.cfg.MaxClockSkew {
		return nil, doc, fail(CodeClockSkew, fmt.Errorf("signingTime %s", st.Format(time.RFC3339)))
	}
	return res, doc, nil
}

// VerifySignature checks a document signature: CMS attached, or detached
// with content given. Every signer must verify; the result describes the
// first, and the error is the first failing signer's. The verification
// time is the Verifier's clock. VerifyDocument streams a document of any
// size and tells each signer's verdict.
func (v *Verifier) VerifySignature(ctx context.Context, message, content []byte) (*Result, error) {
	sd, err := cms.Parse(message)
	if err != nil {
		return nil, classifyCMS(err)
	}
	if err := documentMessage(sd, content != nil); err != nil {
		return nil, err
	}
	var first *Result
	at := v.now()
	for _, si := range sd.Signers {
		res, err := v.verifySigner(ctx, sd, si, content, at, v.profile(v.cfg.Documents, ProfileRFC5280), true)
		if err != nil {
			return nil, err
		}
		if first == nil {
			first = res
		}
	}
	return first, nil
}

// Document is the verdict on a document signature, one per signer.
type Document struct {
	// Attached says the message carries the content.
	Attached bool
	// Signers are the message's signers in order, each with its verdict.
	Signers []Signer
}

// Signer is one signer's verdict: Err nil and Result set when its
// signature is valid; otherwise Err is an *Error and Result, when the
// signer's certificate was found, says who it claims to be (unverified).
type Signer struct {
	Result
	Err error
}

// Valid says the document has signers and every one is valid.
func (d *Document) Valid() bool {
	for _, s := range d.Signers {
		if s.Err != nil {
			return false
		}
	}
	return len(d.Signers) > 0
}

// VerifyDocument checks a document signature read from message, in memory
// independent of the document's size: attached content is hashed as it is
// read, and the content of a detached signature is read from content
// (which must then be given; for an attached one it may be, and must then
// be the content carried). The error is for the message as a whole
// (MALFORMED, WRONG_PURPOSE, CONTENT_MISMATCH, UNSUPPORTED_ALGORITHM, a
// ctx ended); each signer then gets its own verdict, so a co-signed
// document whose second signature fails still tells the first signer's.
// Result.Content is nil: the content is not kept.
func (v *Verifier) VerifyDocument(ctx context.Context, message, content io.Reader) (*Document, error) {
	sd, err := cms.ParseStream(ctxReader{ctx, message}, nil)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("verify: %w", context.Cause(ctx))
		}
		return nil, classifyCMS(err)
	}
	if err := documentMessage(sd, content != nil); err != nil {
		return nil, err
	}
	if content != nil {
		if err := sd.HashContent(ctxReader{ctx, content}); err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("verify: %w", context.Cause(ctx))
			}
			if errors.Is(err, cms.ErrDigestMismatch) || errors.Is(err, cms.ErrMalformed) {
				return nil, classifyCMS(err)
			}
			return nil, fmt.Errorf("verify: %w", err)
		}
	}
	doc := &Document{Attached: sd.Attached}
	at := v.now()
	for _, si := range sd.Signers {
		res, err := v.verifySigner(ctx, sd, si, nil, at, v.profile(v.cfg.Documents, ProfileRFC5280), true)
		if err != nil && ctx.Err() != nil {
			return nil, err
		}
		s := Signer{Err: err}
		if res != nil {
			s.Result = *res
		} else if cert, ferr := v.signerCert(sd, si); ferr == nil {
			s.Identity = login.IdentityOf(cert)
			s.SigningTime = si.SigningTime
		}
		doc.Signers = append(doc.Signers, s)
	}
	return doc, nil
}

// ctxReader ends a long read (a document of gigabytes) when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// documentMessage refuses what is no document signature at all.
func documentMessage(sd *cms.SignedData, haveContent bool) error {
	if sd.ContentType.Equal(login.OID) {
		return fail(CodeWrongPurpose, errors.New("a login signature is not a document signature"))
	}
	if len(sd.Signers) == 0 {
		return fail(CodeMalformed, errors.New("no signers"))
	}
	if !sd.Attached && !haveContent {
		return fail(CodeMalformed, cms.ErrNoContent)
	}
	return nil
}

func (v *Verifier) profile(p, def Profile) Profile {
	if p == ProfileDefault {
		return def
	}
	return p
}

// withContext hands gostx509's path builder, which has no context, a
// RevocationChecker bound to one call's ctx, and keeps what the checker
// said about the chain it accepted: the builder returns that chain at
// once, so the last accepted is the one verified.
type withContext struct {
	ctx      context.Context
	checker  RevocationChecker
	accepted []revocation.Status
}

func (w *withContext) CheckRevocation(chain []*x509.Certificate, at time.Time) error {
	st, err := w.checker.CheckRevocation(w.ctx, chain, at)
	if err == nil {
		w.accepted = st
	}
	return err
}

func (v *Verifier) signerCert(sd *cms.SignedData, si *cms.SignerInfo) (*x509.Certificate, error) {
	cert, err := si.FindCertificate(sd.Certificates)
	if err != nil {
		cert, err = si.FindCertificate(v.cfg.Intermediates)
	}
	return cert, err
}

// verifySigner checks one signer: its signature, then (for a document) its
// timestamps and carried validation data, then its certificate's chain at
// the proven time or at, then what the profile asks of the certificate.
func (v *Verifier) verifySigner(ctx context.Context, sd *cms.SignedData, si *cms.SignerInfo, detached []byte, at time.Time, profile Profile, document bool) (*Result, error) {
	cert, err := v.signerCert(sd, si)
	if err != nil {
		return nil, fail(CodeMalformed, err)
	}
	if err := sd.VerifySigner(si, cert, detached); err != nil {
		return nil, classifyCMS(err)
	}
	lt := &longTerm{level: "bes"}
	if document {
		if lt, err = v.longTerm(si); err != nil {
			return nil, err
		}
		if !lt.proven.IsZero() {
			at = lt.proven
		}
	}
	rc := &withContext{ctx: ctx, checker: v.cfg.Revocation}
	if lt.offline != nil {
		rc.checker = lt.offline
	}
	chain, err := v.chains.VerifyChain(cert, gostx509.ChainOptions{
		Roots:           v.cfg.Roots,
		Intermediates:   append(append(append([]*x509.Certificate{}, sd.Certificates...), v.cfg.Intermediates...), lt.certs...),
		At:              at,
		ExtKeyUsages:    v.cfg.ExtKeyUsages,
		Policies:        v.cfg.Policies,
		Revocation:      rc,
		AllowNoKeyUsage: profile == ProfileRFC5280,
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("verify: %w", context.Cause(ctx))
		}
		return nil, classifyChain(err)
	}
	id := login.IdentityOf(cert)
	if profile == ProfileQualified {
		if err := qualified(id); err != nil {
			return nil, fail(CodeKeyUsage, err)
		}
	}
	content := sd.Content
	if content == nil {
		content = detached
	}
	res := &Result{Identity: id, Chain: chain, SigningTime: si.SigningTime, Content: content, Revocation: rc.accepted, Timestamps: lt.stamps}
	if document {
		res.Level = lt.level
	}
	return res, nil
}

// qualified checks the subject of a qualified certificate (ProfileQualified).
func qualified(id login.Identity) error {
	var missing []string
	if id.CommonName == "" {
		missing = append(missing, "CN")
	}
	if id.SNILS == "" {
		missing = append(missing, "SNILS")
	}
	if id.INN == "" && id.INNLE == "" {
		missing = append(missing, "INN or INNLE")
	}
	if id.Organization != "" && id.OGRN == "" && id.OGRNIP == "" {
		missing = append(missing, "OGRN or OGRNIP of the organisation")
	}
	if len(missing) > 0 {
		return fmt.Errorf("not a qualified certificate: the subject lacks %s", strings.Join(missing, ", "))
	}
	return nil
}

func classifyCMS(err error) *Error {
	switch {
	case errors.Is(err, cms.ErrDigestMismatch), errors.Is(err, cms.ErrContentType), errors.Is(err, cms.ErrNoContent):
		return fail(CodeContentMismatch, err)
	case errors.Is(err, cms.ErrBadSignature), errors.Is(err, cms.ErrSignerMismatch):
		return fail(CodeBadSignature, err)
	case errors.Is(err, cms.ErrUnsupported):
		return fail(CodeUnsupportedAlgorithm, err)
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
