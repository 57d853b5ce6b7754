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

	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/streebog"
	"github.com/podpis/podpis/login"
)

// Errors the protocol layer maps to its codes (with the keystore codes).
var (
	ErrBusy           = errors.New("agent: a prompt is already open or this site asked too often")
	ErrNoCertificates = errors.New("agent: no certificates")
	ErrCertExpired    = errors.New("agent: certificate expired or not yet valid")
	ErrBadRequest     = errors.New("agent: bad request")
	ErrCancelled      = errors.New("agent: cancelled by the user")
)

// Config configures an Agent.
type Config struct {
	Stores   []keystore.Store
	Prompter Prompter
	// Trusted origins may list certificates and sign without asking
	// whether the site may (the PIN is still asked).
	Trusted []Rule
	// OnlyTrusted refuses every other origin without asking (headless).
	OnlyTrusted bool
	// Decisions remembers «Разрешить всегда»; nil keeps them in memory.
	Decisions DecisionStore
	// PromptsPerMinute bounds prompts per registrable domain (all of
	// a.example.ru, b.example.ru… count as example.ru); zero means 6.
	PromptsPerMinute int
	Version          string
	Now              func() time.Time
	// Diagnose explains why certificate login may not work here (the
	// info method passes its findings on to the page); nil: no findings.
	// podpis doctor's examination plugs in here (from cmd/), so that the
	// agent does not depend on the concrete key stores it examines.
	Diagnose func(context.Context) Diagnosis
	// Timestamping names the time-stamping authority (an http(s) URL)
	// the configuration sets for an origin's CAdES-T and X Long
	// signatures, "" for none; nil: none for any.
	Timestamping func(origin string) string
}

// Diagnosis is what an examination of the machine found: whether
// certificate login can work here, and why not.
type Diagnosis struct {
	Findings []Finding
	// Ready: a module or store loads and offers a usable certificate with its key.
	Ready bool
}

// Finding is one thing an examination found, with its cause and fix.
type Finding struct {
	Code     string // stable, English
	Severity string // "ok", "warning" or "problem"
	Title    string // Russian
	Cause    string // Russian, shown only to sites the person trusts or allowed
	Fix      string // Russian
	// Personal findings name a person or a token: the agent shows them
	// only to sites the person trusts or allowed.
	Personal bool
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

	mu sync.Mutex
	// promptOpen: a prompt is on the screen. Only one at a time, whatever
	// the site: two dialogs at once let a page hide one behind the other,
	// and each person answers one question at a time anyway.
	promptOpen bool
	// recent: when prompts opened, by registrable domain (promptDomain).
	recent map[string][]time.Time

	// pinRefused: an unattended prompter's PIN was wrong once; it is not
	// offered to a token again.
	pinRefused atomic.Bool

	diagMu   sync.Mutex
	diag     Diagnosis
	diagAt   time.Time
	diagDone bool
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
	return &Agent{cfg: cfg, recent: map[string][]time.Time{}}
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

// prompt runs ask as the one prompt on the screen: while another prompt
// is open, or once the origin's registrable domain has had
// PromptsPerMinute prompts in the last minute, it returns ErrBusy. A
// trusted origin is not counted: it used to sign documents with no prompt
// at all, and a batch of documents (a question and a PIN each) must not
// run into a limit meant for sites nobody vouched for.
// confirmSign asks the person to approve a signature — always for a site
// that is not trusted, and for a trusted one too when someone is there to
// ask — and returns ErrCancelled when they refuse.
func (a *Agent) confirmSign(ctx context.Context, origin string, cert *keystore.Certificate, what SignSummary) error {
	if a.Trusted(origin) && (a.cfg.Prompter == nil || a.unattended()) {
		return nil
	}
	var ok bool
	err := a.prompt(origin, func() (err error) {
		ok, err = a.cfg.Prompter.ConfirmSign(ctx, origin, cert, what)
		return err
	})
	if err != nil {
		return err
	}
	if !ok {
		return ErrCancelled
	}
	return nil
}

func (a *Agent) prompt(origin string, ask func() error) error {
	return a.promptCounted(origin, !a.Trusted(origin), ask)
}

// promptCounted is prompt, counting the prompt against the origin's
// domain when counted.
func (a *Agent) promptCounted(origin string, counted bool, ask func() error) error {
	if a.unattended() {
		return ask()
	}
	d := promptDomain(origin)
	a.mu.Lock()
	now := a.cfg.Now()
	for k, ts := range a.recent {
		if ts = slices.DeleteFunc(ts, func(t time.Time) bool { return now.Sub(t) > time.Minute }); len(ts) == 0 {
			delete(a.recent, k)
		} else {
			a.recent[k] = ts
		}
	}
	if a.promptOpen || counted && len(a.recent[d]) >= a.cfg.PromptsPerMinute {
		a.mu.Unlock()
		return ErrBusy
	}
	a.promptOpen = true
	if counted {
		a.recent[d] = append(a.recent[d], now)
	}
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.promptOpen = false
		a.mu.Unlock()
	}()
	return ask()
}

// access decides whether origin may use certificates, asking the person
// when it is neither trusted nor remembered nor allowed for this
// connection (the Session in ctx).
func (a *Agent) access(ctx context.Context, origin string) (string, error) {
	n, err := NormalizeOrigin(origin)
	if err != nil {
		return "", ErrOriginDenied
	}
	sess := sessionOf(ctx)
	if a.Trusted(n) || a.cfg.Decisions.Allowed(n) || sess != nil && sess.has(n) {
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
		if sess != nil {
			sess.allow(n)
		}
		return n, nil
	}
	return "", ErrOriginDenied
}

// Info is the agent's self-description.
type Info struct {
	Product  string
	Version  string
	Protocol int
	Modules  []keystore.ModuleInfo
}

// Info describes the agent; it needs no consent.
func (a *Agent) Info() Info {
	info := Info{Product: "podpis", Version: a.cfg.Version, Protocol: 2, Modules: []keystore.ModuleInfo{}}
	for _, p := range a.cfg.Stores {
		if r, ok := p.(keystore.StatusReporter); ok {
			info.Modules = append(info.Modules, r.Modules()...)
		} else {
			info.Modules = append(info.Modules, keystore.ModuleInfo{Name: p.Name(), Loaded: true})
		}
	}
	return info
}

// Diagnosis returns what podpis doctor would say about the modules, stores
// and certificates, for the page to show the exact reason login cannot work.
// A site the person has not trusted or allowed learns only what is wrong
// in general: no names of people or tokens, no paths.
func (a *Agent) Diagnosis(ctx context.Context, origin string) (findings []Finding, ready bool) {
	findings = []Finding{}
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

func (a *Agent) diagnosis(ctx context.Context) Diagnosis {
	a.diagMu.Lock()
	defer a.diagMu.Unlock()
	if !a.diagDone || a.cfg.Now().Sub(a.diagAt) > diagnosisTTL {
		a.diag, a.diagAt, a.diagDone = a.cfg.Diagnose(ctx), a.cfg.Now(), true
	}
	return a.diag
}

// Filter narrows a certificate list.
type Filter struct {
	Issuer    string   // substring of the issuer's name
	Policies  []string // certificate policy or EKU OIDs; any may match
	OnlyValid bool     // hide certificates with problems
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
	cert  *keystore.Certificate
	store keystore.Store
}

// all lists every store's certificates. With no provider at all — no
// store, or only stores that describe their modules and have none loaded
// (the PKCS#11 store on a machine with no CSP and no token driver) — it is
// keystore.ErrNoProvider: «Не установлен криптопровайдер», not «Сертификаты
// не найдены», which is for a provider that holds none.
func (a *Agent) all(ctx context.Context) ([]*keystore.Certificate, error) {
	if !a.hasProvider() {
		return nil, keystore.ErrNoProvider
	}
	var out []*keystore.Certificate
	var errs []error
	for _, p := range a.cfg.Stores {
		certs, err := p.Certificates(ctx)
		if err != nil {
			errs = append(errs, err)
		}
		out = append(out, certs...)
	}
	return out, errors.Join(errs...)
}

// hasProvider reports whether some store can hold keys: a store that
// describes its modules (keystore.StatusReporter) has one loaded, and any
// other store (CryptoAPI) is a provider itself.
func (a *Agent) hasProvider() bool {
	for _, s := range a.cfg.Stores {
		r, ok := s.(keystore.StatusReporter)
		if !ok || slices.ContainsFunc(r.Modules(), func(m keystore.ModuleInfo) bool { return m.Loaded }) {
			return true
		}
	}
	return false
}

func (a *Agent) find(ctx context.Context, id string) (*located, error) {
	id = strings.ToLower(id)
	for _, p := range a.cfg.Stores {
		certs, _ := p.Certificates(ctx)
		for _, c := range certs {
			if c.ID == id {
				return &located{cert: c, store: p}, nil
			}
		}
	}
	return nil, keystore.ErrCertNotFound
}

// refusal is why the agent will not sign with c at all, before anyone is
// asked anything: an expired certificate, or a locked token (its PIN
// prompt would only be refused by the token — and a person who typed
// their PIN into it would think it wrong).
func refusal(c *keystore.Certificate) error {
	for _, p := range c.Problems {
		switch p {
		case keystore.ProblemExpired, keystore.ProblemNotYetValid:
			return ErrCertExpired
		case keystore.ProblemTokenLocked:
			return keystore.ErrPINLocked
		}
	}
	return nil
}

// signWith signs content with the located certificate, asking the PIN
// through the prompter with the origin shown and what is signed: a login
// (doc nil) or the document doc summarises. A PIN saved with «Сохранить
// пароль» is kept for this origin only.
func (a *Agent) signWith(ctx context.Context, origin string, l *located, content []byte, opts cms.SignOptions, doc *keystore.Summary) ([]byte, error) {
	if err := refusal(l.cert); err != nil {
		return nil, err
	}
	var der []byte
	key, err := l.store.Signer(keystore.WithPINScope(ctx, origin), l.cert.ID, a.pinFunc(origin, doc))
	if err == nil {
		opts.SigningTime = a.cfg.Now()
		der, err = cms.Sign(content, l.cert.Cert, key, &opts)
	}
	if errors.Is(err, keystore.ErrPINIncorrect) && a.unattended() {
		a.pinRefused.Store(true)
	}
	return der, err
}

// pinFunc asks the PIN through the prompter, with the origin shown and
// what is signed: a login (doc nil) or the document doc summarises.
func (a *Agent) pinFunc(origin string, doc *keystore.Summary) keystore.PINFunc {
	return func(ctx context.Context, req keystore.PINRequest, try keystore.TryPIN) error {
		if a.cfg.Prompter == nil || a.unattended() && a.pinRefused.Load() {
			return keystore.ErrPINRequired
		}
		req.Login, req.Document = doc == nil, doc
		return a.prompt(origin, func() error {
			if t, ok := a.cfg.Prompter.(PINTrier); ok {
				return t.TryPIN(ctx, origin, req, try)
			}
			return keystore.AskOnce(func(ctx context.Context, req keystore.PINRequest) ([]byte, bool, error) {
				return a.cfg.Prompter.PIN(ctx, origin, req)
			})(ctx, req, try)
		})
	}
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
	doc := login.NewDocument(n, challenge, a.cfg.Now())
	// Under the login content type, with signed attributes (the default)
	// that repeat it: what makes this a login and nothing else.
	der, err := a.signWith(ctx, n, l, doc.Marshal(), cms.SignOptions{ContentType: login.OID}, nil)
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

// Sign signs a document. The person approves this very document —
// origin, the page's description (cleaned), size and Streebog digest are
// shown, and shown again in the PIN dialog — whether the origin is trusted
// or not: a trusted site can still be made to sign something else. Only an
// unattended agent (podpis run --headless) signs for a trusted origin
// without asking, there being nobody to ask. The signature is of plain
// data (id-data), never of the login content type, and data that looks
// like a login document is refused (ErrLoginDocument) before anyone is
// asked anything.
func (a *Agent) Sign(ctx context.Context, origin string, req SignRequest) ([]byte, error) {
	if len(req.Data) == 0 {
		return nil, fmt.Errorf("%w: nothing to sign", ErrBadRequest)
	}
	if login.IsDocument(req.Data) {
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
	if err := refusal(l.cert); err != nil {
		return nil, err
	}
	sum := streebog.Sum256(req.Data)
	what := SignSummary{Description: CleanText(req.Description, MaxShownDescription), Size: len(req.Data), Streebog: hex.EncodeToString(sum[:])}
	if err := a.confirmSign(ctx, n, l.cert, what); err != nil {
		return nil, err
	}
	return a.signWith(ctx, n, l, req.Data, cms.SignOptions{Detached: req.Detached, ContentType: cms.OIDData},
		&keystore.Summary{Description: what.Description, Size: what.Size, Streebog: what.Streebog})
}
