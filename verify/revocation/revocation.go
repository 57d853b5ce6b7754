// Package revocation tells a login server whether a certificate has been
// revoked: OCSP (RFC 6960) from the certificate's responder or a
// configured one, then CRLs (RFC 5280) from the certificate's distribution
// points and from configured files, GOST-, RSA- and ECDSA-signed, checked against the
// issuer, cached until their nextUpdate and fetched once however many
// logins wait for them. A CRL's signature is checked once per issuer
// certificate, not per login: a login costs a map lookup. It plugs into
// verify.Config.Revocation.
//
// The policy says what an unanswerable question means: Require fails the
// login (REVOCATION_UNKNOWN), Prefer lets it through, Off asks nothing.
package revocation

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Policy is what to do when revocation cannot be established.
type Policy int

const (
	Require Policy = iota // unknown fails the login
	Prefer                // unknown passes; revoked still fails
	Off                   // no check
)

// ParsePolicy reads require, prefer or off.
func ParsePolicy(s string) (Policy, error) {
	switch s {
	case "require":
		return Require, nil
	case "prefer":
		return Prefer, nil
	case "off":
		return Off, nil
	}
	return 0, fmt.Errorf("revocation: policy %q is not require, prefer or off", s)
}

var (
	// ErrRevoked: the certificate is on its issuer's valid CRL.
	ErrRevoked = errors.New("revocation: certificate revoked")
	// ErrUnknown: no valid, fresh CRL covers the certificate.
	ErrUnknown = errors.New("revocation: status unknown")
)

// errNowhere: nothing to ask, the usual case of a certificate without AIA
// or distribution points under a checker without files; one value, since
// a server meets it on every login.
var errNowhere = errors.New("no OCSP responder, no CRL configured and no distribution point in the certificate")

// RevokedError says which certificate, since when and why.
type RevokedError struct {
	Subject string
	Serial  *big.Int
	At      time.Time
	Reason  int // RFC 5280 CRLReason; 0 unspecified
}

func (e *RevokedError) Error() string {
	return fmt.Sprintf("revocation: %s (serial %x) revoked on %s, reason %d", e.Subject, e.Serial, e.At.UTC().Format(time.RFC3339), e.Reason)
}

func (e *RevokedError) Unwrap() error { return ErrRevoked }

// Config describes a Checker.
type Config struct {
	Policy Policy
	// CRLFiles are read once at New (DER or PEM); they serve certificates
	// without distribution points, or servers without outside access.
	CRLFiles []string
	// HTTP fetches distribution points; nil means a client with a 10 s
	// timeout.
	HTTP *http.Client
	// MaxCached bounds the cached downloaded CRLs; zero means 256. A CRL
	// is held as its DER and ~65 bytes an entry (100,000 entries: ~10 MB).
	MaxCached int
	// MaxCRLSize bounds one download; zero means 20 MiB.
	MaxCRLSize int64
	// OCSPResponder, when set, is asked instead of the responders the
	// certificates name (AIA). NoOCSP reads CRLs only.
	OCSPResponder string
	NoOCSP        bool
}

// Checker implements verify.RevocationChecker. It is safe for concurrent
// use.
type Checker struct {
	cfg   Config
	files []*crl

	mu       sync.Mutex
	cache    map[string]*cached // by URL
	inflight map[string]*fetch
	answers  map[string]*ocspAnswer // by responder, issuer key and serial
}

type cached struct {
	crl  *crl
	used time.Time
}

type fetch struct {
	done chan struct{}
	crl  *crl
	err  error
}

// New reads the configured CRL files.
func New(cfg Config) (*Checker, error) {
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.MaxCached == 0 {
		cfg.MaxCached = 256
	}
	if cfg.MaxCRLSize == 0 {
		cfg.MaxCRLSize = 20 << 20
	}
	c := &Checker{cfg: cfg, cache: map[string]*cached{}, inflight: map[string]*fetch{}, answers: map[string]*ocspAnswer{}}
	for _, f := range cfg.CRLFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("revocation: %w", err)
		}
		l, err := parse(b)
		if err != nil {
			return nil, fmt.Errorf("revocation: %s: %w", f, err)
		}
		c.files = append(c.files, l)
	}
	return c, nil
}

// CheckRevocation checks every certificate of chain (leaf first) but the
// root at time at: OCSP, then its issuer's CRL. It returns, per
// certificate, how its status was established; a revoked certificate
// fails with a *RevokedError (ErrRevoked), an unanswered question under
// Require with ErrUnknown. Answers come from the caches when fresh; ctx
// bounds the downloads and OCSP requests.
func (c *Checker) CheckRevocation(ctx context.Context, chain []*x509.Certificate, at time.Time) ([]Status, error) {
	if c.cfg.Policy == Off {
		return []Status{{Source: NotChecked}}, nil
	}
	var how []Status
	for i := 0; i+1 < len(chain); i++ {
		st, err := c.status(ctx, chain[i], chain[i+1], at)
		st.Subject, st.Serial = chain[i].Subject.CommonName, chain[i].SerialNumber
		switch {
		case err == nil:
			how = append(how, st)
		case errors.Is(err, ErrRevoked):
			return nil, err
		case c.cfg.Policy == Require:
			return nil, fmt.Errorf("%w: %s: %w", ErrUnknown, chain[i].Subject.CommonName, err)
		default:
			st.Source, st.Err = Unknown, err
			how = append(how, st)
		}
	}
	return how, nil
}

// responders are the OCSP responders to ask about cert: the configured
// one instead of the certificate's, or none.
func (c *Checker) responders(cert *x509.Certificate) []string {
	switch {
	case c.cfg.NoOCSP:
		return nil
	case c.cfg.OCSPResponder != "":
		return []string{c.cfg.OCSPResponder}
	}
	return cert.OCSPServer
}

// status: nil, and how, when an OCSP answer or a valid, fresh CRL of
// issuer says cert is not revoked.
func (c *Checker) status(ctx context.Context, cert, issuer *x509.Certificate, at time.Time) (Status, error) {
	var why []error
	// OCSP first: a definite good or revoked ends the question; unknown
	// or unreachable falls through to the CRLs.
	for _, url := range c.responders(cert) {
		a, err := c.ocsp(ctx, url, cert, issuer, at)
		if err != nil {
			why = append(why, fmt.Errorf("OCSP %s: %w", url, err))
			continue
		}
		switch a.status {
		case ocsp.Good:
			return Status{Source: OCSP, Where: url}, nil
		case ocsp.Revoked:
			if !a.revoked.After(at) {
				return Status{}, &RevokedError{Subject: cert.Subject.CommonName, Serial: cert.SerialNumber, At: a.revoked, Reason: a.reason}
			}
			return Status{Source: OCSP, Where: url, RevokedAfter: a.revoked}, nil
		}
		why = append(why, fmt.Errorf("OCSP %s: status unknown", url))
	}
	try := func(l *crl) (bool, error) {
		if err := l.usableFor(cert, issuer, at); err != nil {
			why = append(why, err)
			return false, nil
		}
		if e, ok := l.entry(cert.SerialNumber); ok && !e.at().After(at) {
			return true, &RevokedError{Subject: cert.Subject.CommonName, Serial: cert.SerialNumber, At: e.at(), Reason: int(e.reason)}
		}
		return true, nil
	}
	for i, l := range c.files {
		if ok, err := try(l); ok {
			return Status{Source: CRLFile, Where: c.cfg.CRLFiles[i]}, err
		}
	}
	for _, url := range cert.CRLDistributionPoints {
		l, err := c.get(ctx, url, issuer, at)
		if err != nil {
			why = append(why, err)
			continue
		}
		if ok, err := try(l); ok {
			return Status{Source: CRL, Where: url}, err
		}
	}
	if len(why) == 0 {
		return Status{}, errNowhere
	}
	return Status{}, errors.Join(why...)
}

// ocsp returns a cached answer while it is current, else asks.
func (c *Checker) ocsp(ctx context.Context, url string, cert, issuer *x509.Certificate, at time.Time) (*ocspAnswer, error) {
	key := url + "|" + string(issuer.RawSubjectPublicKeyInfo) + "|" + cert.SerialNumber.String()
	c.mu.Lock()
	a, ok := c.answers[key]
	c.mu.Unlock()
	if ok && at.Before(a.until) {
		return a, nil
	}
	a, err := c.askOCSP(ctx, url, cert, issuer, at)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.answers) >= 16*c.cfg.MaxCached {
		clear(c.answers) // a crude bound; answers are cheap to ask again
	}
	c.answers[key] = a
	c.mu.Unlock()
	return a, nil
}

// get returns the CRL at url from the cache while it is fresh, else
// downloads it — once, however many callers wait — and checks its
// signature with issuer's key before they are let go.
func (c *Checker) get(ctx context.Context, url string, issuer *x509.Certificate, at time.Time) (*crl, error) {
	c.mu.Lock()
	if e, ok := c.cache[url]; ok && e.crl.fresh(at) {
		e.used = time.Now()
		c.mu.Unlock()
		return e.crl, nil
	}
	if f, ok := c.inflight[url]; ok {
		c.mu.Unlock()
		select {
		case <-f.done:
			return f.crl, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := &fetch{done: make(chan struct{})}
	c.inflight[url] = f
	c.mu.Unlock()

	f.crl, f.err = c.download(ctx, url)
	if f.err == nil && bytes.Equal(f.crl.list.RawIssuer, issuer.RawSubject) {
		f.crl.signedBy(issuer) // remembered for every login under it
	}

	c.mu.Lock()
	delete(c.inflight, url)
	if f.err == nil {
		c.cache[url] = &cached{crl: f.crl, used: time.Now()}
		c.evict()
	}
	c.mu.Unlock()
	close(f.done)
	return f.crl, f.err
}

// evict drops the least recently used CRLs over the bound.
func (c *Checker) evict() {
	for len(c.cache) > c.cfg.MaxCached {
		urls := make([]string, 0, len(c.cache))
		for u := range c.cache {
			urls = append(urls, u)
		}
		oldest := slices.MinFunc(urls, func(a, b string) int { return c.cache[a].used.Compare(c.cache[b].used) })
		delete(c.cache, oldest)
	}
}
