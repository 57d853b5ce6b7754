// Package agent is the signing flow and its policy: which sites may see
// certificates and ask for signatures, when the person is asked, how the
// authentication document is built. It has no network and no UI: the
// server (agent/server) and the prompters (agent/prompt) plug in.
package agent

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/podpis/podpis/agent/doctor"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/streebog"
	"github.com/podpis/podpis/verify"
)

// Errors the protocol layer maps to its codes (with the keystore codes).
var (
	ErrBusy           = errors.New("agent: a prompt for this site is already open or too many prompts")
	ErrNoCertificates = errors.New("agent: no certificates")
	ErrCertExpired    = errors.New("agent: certificate expired or not yet valid")
	ErrBadRequest     = errors.New("agent: bad request")
	ErrCancelled      = errors.New("agent: cancelled by the user")
)

// Config configures an Agent.
type Config struct {
	Providers []keystore.Provider
	Prompter  Prompter
	// Trusted origins may list certificates and sign without asking
	// whether the site may (the PIN is still asked).
	Trusted []Rule
	// OnlyTrusted refuses every other origin without asking (headless).
	OnlyTrusted bool
	// Decisions remembers «Разрешить всегда»; nil keeps them in memory.
	Decisions DecisionStore
	// PromptsPerMinute bounds prompts per origin; zero means 6.
	PromptsPerMinute int
	Version          string
	Now              func() time.Time
	// Diagnose explains why certificate login may not work here (the
	// info method passes its findings on to the page); nil: no findings.
	Diagnose func(context.Context) *doctor.Report
}

// DecisionStore remembers the person's answers per origin.
type DecisionStore interface {
	Allowed(origin string) bool
	Allow(origin string) error
}

// MemoryDecisions is a DecisionStore for one run.
type MemoryDecisions struct {
	mu sync.Mutex
	m  map[string]bool
}

func (d *MemoryDecisions) Allowed(origin string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.m[origin]
}

func (d *MemoryDecisions) Allow(origin string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil {
		d.m = map[string]bool{}
	}
	d.m[origin] = true
	return nil
}

// Agent serves signing requests. It is safe for concurrent use.
type Agent struct {
	cfg Config

	mu      sync.Mutex
	prompts map[string]*promptGate

	// pinRefused: an unattended prompter's PIN was wrong once; it is not
	// offered to a token again.
	pinRefused atomic.Bool

	diagMu sync.Mutex
	diag   *doctor.Report
	diagAt time.Time
}

type promptGate struct {
	open   bool
	recent []time.Time
}

// New returns an Agent.
func New(cfg Config) *Agent {
	if cfg.Decisions == nil {
		cfg.Decisions = &MemoryDecisions{}
	}
	if cfg.PromptsPerMinute == 0 {
		cfg.PromptsPerMinute = 6
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Agent{cfg: cfg, prompts: map[string]*promptGate{}}
}

// Trusted reports whether origin is on the trusted list.
func (a *Agent) Trusted(origin string) bool {
	return slices.ContainsFunc(a.cfg.Trusted, func(r Rule) bool { return r.Match(origin) })
}

// Serves reports whether the agent talks to origin at all: a headless
// agent serves only trusted origins, any other only https (and local http).
func (a *Agent) Serves(origin string) bool {
	n, err := NormalizeOrigin(origin)
	if err != nil {
		return false
	}
	return !a.cfg.OnlyTrusted || a.Trusted(n)
}

// prompt runs ask with the origin's gate held: one prompt per origin at a
// time, at most PromptsPerMinute a minute; otherwise ErrBusy.
func (a *Agent) prompt(origin string, ask func() error) error {
	if a.unattended() {
		return ask()
	}
	a.mu.Lock()
	g := a.prompts[origin]
	if g == nil {
		g = &promptGate{}
		a.prompts[origin] = g
	}
	now := a.cfg.Now()
	g.recent = slices.DeleteFunc(g.recent, func(t time.Time) bool { return now.Sub(t) > time.Minute })
	if g.open || len(g.recent) >= a.cfg.PromptsPerMinute {
		a.mu.Unlock()
		return ErrBusy
	}
	g.open = true
	g.recent = append(g.recent, now)
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		g.open = false
		a.mu.Unlock()
	}()
	return ask()
}

// access decides whether origin may use certificates, asking the person
// when it is neither trusted nor remembered.
func (a *Agent) access(ctx context.Context, origin string) (string, error) {
	n, err := NormalizeOrigin(origin)
	if err != nil {
		return "", ErrOriginDenied
	}
	if a.Trusted(n) || a.cfg.Decisions.Allowed(n) {
		return n, nil
	}
	if a.cfg.OnlyTrusted || a.cfg.Prompter == nil {
		return "", ErrOriginDenied
	}
	var d Decision
	err = a.prompt(n, func() (err error) {
		d, err = a.cfg.Prompter.ConfirmOrigin(ctx, n)
		return err
	})
	if err != nil {
		return "", err
	}
	switch d {
	case AllowAlways:
		// The person decided: a decision that cannot be saved (disk full,
		// damaged file) still holds for this run rather than failing the
		// request the person just approved.
		a.cfg.Decisions.Allow(n)
		return n, nil
	case AllowOnce:
		return n, nil
	}
	return "", ErrOriginDenied
}

// Info is the agent's self-description.
type Info struct {
	Product   string                  `json:"product"`
	Version   string                  `json:"version"`
	Protocol  int                     `json:"protocol"`
	Providers []keystore.ProviderInfo `json:"providers"`
}

// Info describes the agent; it needs no consent.
func (a *Agent) Info() Info {
	info := Info{Product: "podpis", Version: a.cfg.Version, Protocol: 1, Providers: []keystore.ProviderInfo{}}
	for _, p := range a.cfg.Providers {
		if r, ok := p.(keystore.StatusReporter); ok {
			info.Providers = append(info.Providers, r.ProviderStatus()...)
		} else {
			info.Providers = append(info.Providers, keystore.ProviderInfo{Name: p.Name(), Loaded: true})
		}
	}
	return info
}

// Diagnosis returns what podpis doctor would say about the providers and
// certificates, for the page to show the exact reason login cannot work.
// A site the person has not trusted or allowed learns only what is wrong
// in general: no names of people or tokens, no paths.
func (a *Agent) Diagnosis(ctx context.Context, origin string) (findings []doctor.Finding, ready bool) {
	findings = []doctor.Finding{}
	if a.cfg.Diagnose == nil {
		return findings, true
	}
	r := a.diagnosis(ctx)
	n, err := NormalizeOrigin(origin)
	known := err == nil && (a.Trusted(n) || a.cfg.Decisions.Allowed(n))
	for _, f := range r.Findings {
		if !known {
			if f.Personal {
				continue
			}
			f.Cause = ""
		}
		findings = append(findings, f)
	}
	return findings, r.Ready
}

// diagnosisTTL: pages call info on every load; the examination walks every
// module's slots and certificates, so one result serves a few seconds.
const diagnosisTTL = 5 * time.Second

func (a *Agent) diagnosis(ctx context.Context) *doctor.Report {
	a.diagMu.Lock()
	defer a.diagMu.Unlock()
	if a.diag == nil || a.cfg.Now().Sub(a.diagAt) > diagnosisTTL {
		a.diag, a.diagAt = a.cfg.Diagnose(ctx), a.cfg.Now()
	}
	return a.diag
}

// Filter narrows a certificate list.
type Filter struct {
	Issuer    string   `json:"issuer,omitempty"`    // substring of the issuer's name
	Policies  []string `json:"policies,omitempty"`  // certificate policy or EKU OIDs; any may match
	OnlyValid bool     `json:"onlyValid,omitempty"` // hide certificates with problems
}

func (f Filter) match(c *keystore.Certificate) bool {
	if f.OnlyValid && !c.Usable() {
		return false
	}
	if f.Issuer != "" && !strings.Contains(strings.ToLower(c.Cert.Issuer.String()), strings.ToLower(f.Issuer)) {
		return false
	}
	if len(f.Policies) > 0 {
		var have []string
		for _, p := range c.Cert.Policies {
			have = append(have, p.String())
		}
		for _, u := range c.Cert.UnknownExtKeyUsage {
			have = append(have, u.String())
		}
		if !slices.ContainsFunc(f.Policies, func(p string) bool { return slices.Contains(have, p) }) {
			return false
		}
	}
	return true
}

// Certificates lists the certificates origin may choose from.
func (a *Agent) Certificates(ctx context.Context, origin string, f Filter) ([]*keystore.Certificate, error) {
	if _, err := a.access(ctx, origin); err != nil {
		return nil, err
	}
	all, err := a.all(ctx)
	if err != nil && len(all) == 0 {
		return nil, err
	}
	out := []*keystore.Certificate{}
	for _, c := range all {
		if f.match(c) {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, ErrNoCertificates
	}
	return out, nil
}

type located struct {
	cert     *keystore.Certificate
	provider keystore.Provider
}

func (a *Agent) all(ctx context.Context) ([]*keystore.Certificate, error) {
	if len(a.cfg.Providers) == 0 {
		return nil, keystore.ErrNoProvider
	}
	var out []*keystore.Certificate
	var errs []error
	for _, p := range a.cfg.Providers {
		certs, err := p.Certificates(ctx)
		if err != nil {
			errs = append(errs, err)
		}
		out = append(out, certs...)
	}
	return out, errors.Join(errs...)
}

func (a *Agent) find(ctx context.Context, id string) (*located, error) {
	id = strings.ToLower(id)
	for _, p := range a.cfg.Providers {
		certs, _ := p.Certificates(ctx)
		for _, c := range certs {
			if c.ID == id {
				return &located{cert: c, provider: p}, nil
			}
		}
	}
	return nil, keystore.ErrCertNotFound
}

// signWith signs content with the located certificate, asking the PIN
// through the prompter with the origin shown.
func (a *Agent) signWith(ctx context.Context, origin string, l *located, content []byte, opts cms.SignOptions) ([]byte, error) {
	for _, p := range l.cert.Problems {
		if p == keystore.ProblemExpired || p == keystore.ProblemNotYetValid {
			return nil, ErrCertExpired
		}
	}
	pin := func(ctx context.Context, req keystore.PINRequest) ([]byte, bool, error) {
		if a.cfg.Prompter == nil || a.unattended() && a.pinRefused.Load() {
			return nil, false, keystore.ErrPINRequired
		}
		var p []byte
		var save bool
		err := a.prompt(origin, func() (err error) {
			p, save, err = a.cfg.Prompter.PIN(ctx, origin, req)
			return err
		})
		return p, save, err
	}
	var der []byte
	key, err := l.provider.Signer(ctx, l.cert.ID, pin)
	if err == nil {
		opts.SigningTime = a.cfg.Now()
		der, err = cms.Sign(content, l.cert.Cert, key, &opts)
	}
	if errors.Is(err, keystore.ErrPINIncorrect) && a.unattended() {
		a.pinRefused.Store(true)
	}
	return der, err
}

func (a *Agent) unattended() bool {
	u, ok := a.cfg.Prompter.(Unattended)
	return ok && u.Unattended()
}

// MaxChallenge bounds the challenge a page may send.
const MaxChallenge = 512

// Authenticate signs the authentication document for origin (taken from
// the connection, never from the page) and challenge with the certificate
// id, and returns the attached CMS and the certificate.
func (a *Agent) Authenticate(ctx context.Context, origin, id, challenge string) ([]byte, *x509.Certificate, error) {
	if challenge == "" || len(challenge) > MaxChallenge || strings.IndexFunc(challenge, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return nil, nil, fmt.Errorf("%w: challenge must be 1 to %d printable characters", ErrBadRequest, MaxChallenge)
	}
	n, err := a.access(ctx, origin)
	if err != nil {
		return nil, nil, err
	}
	l, err := a.find(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	doc := verify.NewAuthDocument(n, challenge, a.cfg.Now())
	// Under the login content type, with signed attributes (the default)
	// that repeat it: what makes this a login and nothing else.
	der, err := a.signWith(ctx, n, l, doc.Marshal(), cms.SignOptions{ContentType: verify.OIDLogin})
	if err != nil {
		return nil, nil, err
	}
	return der, l.cert.Cert, nil
}

// SignRequest is a document signature request.
type SignRequest struct {
	Certificate string
	Data        []byte
	Detached    bool
	Description string
}

// ErrLoginDocument refuses a document that is a login document: a page
// must not obtain through sign what only authenticate makes.
var ErrLoginDocument = fmt.Errorf("%w: a login document is signed only by authenticate", ErrBadRequest)

// Sign signs a document. An origin that is not on the trusted list must
// have the person approve this very document: origin, description, size
// and Streebog digest are shown. The signature is of plain data (id-data),
// never of the login content type, and data that looks like a login
// document is refused (ErrLoginDocument) before anyone is asked anything.
func (a *Agent) Sign(ctx context.Context, origin string, req SignRequest) ([]byte, error) {
	if len(req.Data) == 0 {
		return nil, fmt.Errorf("%w: nothing to sign", ErrBadRequest)
	}
	if verify.IsLoginDocument(req.Data) {
		return nil, ErrLoginDocument
	}
	n, err := a.access(ctx, origin)
	if err != nil {
		return nil, err
	}
	l, err := a.find(ctx, req.Certificate)
	if err != nil {
		return nil, err
	}
	if !a.Trusted(n) {
		sum := streebog.Sum256(req.Data)
		what := SignSummary{Description: req.Description, Size: len(req.Data), Streebog: hex.EncodeToString(sum[:])}
		var ok bool
		err := a.prompt(n, func() (err error) {
			ok, err = a.cfg.Prompter.ConfirmSign(ctx, n, l.cert, what)
			return err
		})
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, ErrCancelled
		}
	}
	return a.signWith(ctx, n, l, req.Data, cms.SignOptions{Detached: req.Detached, ContentType: cms.OIDData})
}
