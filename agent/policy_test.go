package agent

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/testpki"
)

// tokenPIN is the PIN of the token tokenStore plays.
const tokenPIN = "1234"

// tokenStore is a Store over certificates in memory that behaves like
// a token needing a login: each signature asks pin once and refuses a
// wrong one with keystore.ErrPINIncorrect, counting the refusals as a
// token's retry counter does.
type tokenStore struct {
	certs []*keystore.Certificate
	keys  map[string]*gost3410.PrivateKey // by certificate ID

	mu    sync.Mutex
	wrong int // PINs the token refused
}

func (p *tokenStore) add(c *x509.Certificate, key *gost3410.PrivateKey, at time.Time) *keystore.Certificate {
	kc := keystore.Examine(c, true, at)
	p.certs = append(p.certs, kc)
	if p.keys == nil {
		p.keys = map[string]*gost3410.PrivateKey{}
	}
	p.keys[kc.ID] = key
	return kc
}

func (p *tokenStore) Name() string { return "token" }
func (p *tokenStore) Certificates(context.Context) ([]*keystore.Certificate, error) {
	return p.certs, nil
}
func (p *tokenStore) Close() error { return nil }
func (p *tokenStore) Signer(ctx context.Context, id string, pin keystore.PINFunc) (crypto.Signer, error) {
	key, ok := p.keys[id]
	if !ok {
		return nil, keystore.ErrCertNotFound
	}
	return &tokenSigner{p: p, key: key, ctx: ctx, pin: pin}, nil
}

func (p *tokenStore) refused() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.wrong
}

type tokenSigner struct {
	p   *tokenStore
	key *gost3410.PrivateKey
	ctx context.Context
	pin keystore.PINFunc
}

func (s *tokenSigner) Public() crypto.PublicKey { return s.key.Public() }
func (s *tokenSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	var sig []byte
	err := s.pin(s.ctx, keystore.PINRequest{Token: "token"}, func(pin []byte, save bool) (req keystore.PINRequest, err error) {
		if !bytes.Equal(pin, []byte(tokenPIN)) {
			s.p.mu.Lock()
			s.p.wrong++
			s.p.mu.Unlock()
			return req, keystore.ErrPINIncorrect
		}
		sig, err = s.key.Sign(r, digest, opts)
		return req, err
	})
	return sig, err
}

// person is a Prompter answering from its fields and counting what it was
// asked; unattended makes it a headless prompter (podpis run --headless
// with PODPIS_PIN).
type person struct {
	decision   Decision
	confirm    bool
	pin        string
	err        error // returned by every question when set
	unattended bool

	mu                   sync.Mutex
	origins, signs, pins int
	askedOrigins         []string
}

func (p *person) Unattended() bool { return p.unattended }

func (p *person) ConfirmOrigin(ctx context.Context, origin string) (Decision, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.origins++
	p.askedOrigins = append(p.askedOrigins, origin)
	return p.decision, p.err
}

func (p *person) ConfirmSign(ctx context.Context, origin string, cert *keystore.Certificate, what SignSummary) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.signs++
	return p.confirm, p.err
}

func (p *person) PIN(ctx context.Context, origin string, req keystore.PINRequest) ([]byte, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pins++
	if p.err != nil {
		return nil, false, p.err
	}
	return []byte(p.pin), false, nil
}

func (p *person) asked() (origins, signs, pins int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.origins, p.signs, p.pins
}

// clock is a settable Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// oneToken is a token with one usable certificate issued now.
func oneToken(t *testing.T) (*tokenStore, *keystore.Certificate) {
	t.Helper()
	now := time.Now()
	ca := testpki.Root(t, gost3410.CurveTC26256A, "Тестовый УЦ", now)
	cert, key := ca.Person(t, gost3410.CurveTC26256A, pkix.Name{CommonName: "Иванов Иван"}, now, nil)
	p := &tokenStore{}
	return p, p.add(cert, key, now)
}

// TestPromptsPerMinute: Config.PromptsPerMinute is the budget of one
// registrable domain within a sliding minute: the prompt past it is BUSY
// without reaching the person, and a minute after the first prompt the
// budget returns. The default (zero) is 6.
func TestPromptsPerMinute(t *testing.T) {
	for _, limit := range []int{0, 1, 3} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			want := limit
			if want == 0 {
				want = 6
			}
			p, _ := oneToken(t)
			who := &person{decision: Deny}
			clk := &clock{t: time.Now()}
			a := New(Config{Stores: []keystore.Store{p}, Prompter: who, PromptsPerMinute: limit, Now: clk.now})
			ctx := context.Background()
			ask := func(i int) error {
				_, err := a.Certificates(ctx, fmt.Sprintf("https://s%d.evil.example", i), Filter{})
				return err
			}
			for i := 0; i < want; i++ {
				if err := ask(i); !errors.Is(err, ErrOriginDenied) {
					t.Fatalf("prompt %d of %d: %v, want the person's refusal", i+1, want, err)
				}
				clk.advance(time.Second)
			}
			if err := ask(want); !errors.Is(err, ErrBusy) {
				t.Fatalf("prompt %d within the minute: %v, want BUSY", want+1, err)
			}
			if n, _, _ := who.asked(); n != want {
				t.Fatalf("the person was asked %d times, want %d", n, want)
			}
			// The first prompt was want seconds ago: just under a minute
			// after it, still BUSY; just after, one more prompt opens.
			clk.advance(time.Minute - time.Duration(want)*time.Second)
			if err := ask(want); !errors.Is(err, ErrBusy) {
				t.Fatalf("a minute after the first prompt, to the second: %v, want BUSY", err)
			}
			clk.advance(time.Millisecond)
			if err := ask(want); !errors.Is(err, ErrOriginDenied) {
				t.Fatalf("past a minute after the first prompt: %v, want the person asked", err)
			}
			if n, _, _ := who.asked(); n != want+1 {
				t.Fatalf("the person was asked %d times, want %d", n, want+1)
			}
		})
	}
}

// TestUnattendedNotLimited: a prompter that answers without a person
// (a test's, or podpis run --headless) has nobody to wear down: its
// answers are not rate-limited, where a person's would be.
func TestUnattendedNotLimited(t *testing.T) {
	for _, unattended := range []bool{true, false} {
		p, c := oneToken(t)
		who := &person{decision: AllowOnce, confirm: true, pin: tokenPIN, unattended: unattended}
		a := New(Config{Stores: []keystore.Store{p}, Prompter: who, PromptsPerMinute: 2}) // one login: a question and a PIN
		var busy int
		for i := 0; i < 5; i++ {
			_, _, err := a.Authenticate(context.Background(), fmt.Sprintf("https://s%d.example.ru", i), c.ID, "challenge")
			switch {
			case errors.Is(err, ErrBusy):
				busy++
			case err != nil:
				t.Fatalf("unattended=%v, login %d: %v", unattended, i+1, err)
			}
		}
		if want := map[bool]int{true: 0, false: 4}[unattended]; busy != want {
			t.Fatalf("unattended=%v: %d of 5 logins BUSY, want %d", unattended, busy, want)
		}
	}
}

// TestUnattendedWrongPIN: a wrong PODPIS_PIN is offered to the token once;
// after the token refused it, the agent answers PIN_REQUIRED without
// offering it again, so that a headless agent cannot lock the token by
// itself. An attended prompter is asked again: the person decides.
func TestUnattendedWrongPIN(t *testing.T) {
	const site = "https://lk.example.ru"
	for _, unattended := range []bool{true, false} {
		t.Run(fmt.Sprintf("unattended=%v", unattended), func(t *testing.T) {
			p, c := oneToken(t)
			who := &person{pin: "0000", unattended: unattended, decision: AllowAlways, confirm: true}
			a := New(Config{Stores: []keystore.Store{p}, Prompter: who, Trusted: []Rule{site}})
			ctx := context.Background()
			if _, _, err := a.Authenticate(ctx, site, c.ID, "challenge"); !errors.Is(err, keystore.ErrPINIncorrect) {
				t.Fatalf("first login: %v, want PIN_INCORRECT", err)
			}
			for i := 0; i < 3; i++ {
				_, _, err := a.Authenticate(ctx, site, c.ID, "challenge")
				_, err2 := a.Sign(ctx, site, SignRequest{Certificate: c.ID, Data: []byte("документ")})
				if unattended {
					if !errors.Is(err, keystore.ErrPINRequired) || !errors.Is(err2, keystore.ErrPINRequired) {
						t.Fatalf("after the refusal: %v, %v; want PIN_REQUIRED", err, err2)
					}
				} else if !errors.Is(err, keystore.ErrPINIncorrect) || !errors.Is(err2, keystore.ErrPINIncorrect) {
					t.Fatalf("attended, after the refusal: %v, %v; want PIN_INCORRECT (asked again)", err, err2)
				}
			}
			want := 7
			if unattended {
				want = 1
			}
			if _, _, pins := who.asked(); pins != want || p.refused() != want {
				t.Fatalf("%d PINs asked, %d refused by the token; want %d", pins, p.refused(), want)
			}
		})
	}
}

// TestUnattendedRightPIN: the refusal is what stops the PIN, not its use:
// a right PODPIS_PIN keeps signing.
func TestUnattendedRightPIN(t *testing.T) {
	const site = "https://lk.example.ru"
	p, c := oneToken(t)
	robot := &person{pin: tokenPIN, unattended: true}
	a := New(Config{Stores: []keystore.Store{p}, Prompter: robot, Trusted: []Rule{site}, OnlyTrusted: true})
	for i := 0; i < 3; i++ {
		der, err := a.Sign(context.Background(), site, SignRequest{Certificate: c.ID, Data: []byte{byte(i + 1)}})
		if err != nil {
			t.Fatalf("document %d: %v", i+1, err)
		}
		if _, err := cms.Parse(der); err != nil {
			t.Fatal(err)
		}
	}
	if p.refused() != 0 {
		t.Fatalf("%d refusals", p.refused())
	}
}

// TestFilter: Issuer matches a substring of the issuer's name, ignoring
// case; Policies match any of the certificate policy or extended key
// usage OIDs; OnlyValid hides certificates with problems; an empty result
// is ErrNoCertificates, not an empty list.
func TestFilter(t *testing.T) {
	now := time.Now()
	gov := testpki.Root(t, gost3410.CurveTC26256A, "Казначейство России", now)
	bank := testpki.Root(t, gost3410.CurveTC26256A, "УЦ Банка", now)
	policyKC1, _ := x509.ParseOID("1.2.643.100.113.1") // КС1 class of protection
	policyKC2, _ := x509.ParseOID("1.2.643.100.113.2")
	ekuFNS := asn1.ObjectIdentifier{1, 2, 643, 2, 2, 34, 6} // a usage some portals ask for
	p := &tokenStore{}
	issue := func(iss *testpki.Issuer, name string, at time.Time, edit func(*x509.Certificate)) string {
		c, k := iss.Person(t, gost3410.CurveTC26256A, pkix.Name{CommonName: name}, at, edit)
		return p.add(c, k, now).Identity.CommonName
	}
	kc1 := issue(gov, "КС1", now, func(c *x509.Certificate) { c.Policies = []x509.OID{policyKC1} })
	kc2 := issue(gov, "КС2 и ФНС", now, func(c *x509.Certificate) {
		c.Policies = []x509.OID{policyKC2}
		c.UnknownExtKeyUsage = []asn1.ObjectIdentifier{ekuFNS}
	})
	plain := issue(bank, "Банковский", now, nil)
	expired := issue(bank, "Просроченный", now.AddDate(-2, 0, 0), nil)

	a := New(Config{Stores: []keystore.Store{p}, Trusted: []Rule{"https://lk.example.ru"}})
	for _, tc := range []struct {
		name   string
		filter Filter
		want   []string // nil: ErrNoCertificates
	}{
		{"no filter", Filter{}, []string{kc1, kc2, plain, expired}},
		{"issuer", Filter{Issuer: "Казначейство"}, []string{kc1, kc2}},
		{"issuer in other case", Filter{Issuer: "казначейство РОССИИ"}, []string{kc1, kc2}},
		{"issuer substring", Filter{Issuer: "банка"}, []string{plain, expired}},
		{"no such issuer", Filter{Issuer: "Минцифры"}, nil},
		{"policy", Filter{Policies: []string{"1.2.643.100.113.1"}}, []string{kc1}},
		{"any policy", Filter{Policies: []string{"1.2.643.100.113.2", "1.2.643.100.113.1"}}, []string{kc1, kc2}},
		{"extended key usage", Filter{Policies: []string{ekuFNS.String()}}, []string{kc2}},
		{"no such policy", Filter{Policies: []string{"1.2.643.100.113.3"}}, nil},
		{"a prefix is no policy", Filter{Policies: []string{"1.2.643.100.113"}}, nil},
		{"only valid", Filter{OnlyValid: true}, []string{kc1, kc2, plain}},
		{"only valid of the bank", Filter{OnlyValid: true, Issuer: "банка"}, []string{plain}},
		{"issuer and policy", Filter{Issuer: "Банка", Policies: []string{"1.2.643.100.113.1"}}, nil},
	} {
		certs, err := a.Certificates(context.Background(), "https://lk.example.ru", tc.filter)
		if tc.want == nil {
			if !errors.Is(err, ErrNoCertificates) || certs != nil {
				t.Errorf("%s: %d certificates, %v; want ErrNoCertificates", tc.name, len(certs), err)
			}
			continue
		}
		var got []string
		for _, c := range certs {
			got = append(got, c.Identity.CommonName)
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

// failingDecisions cannot save a decision (disk full, damaged file).
type failingDecisions struct{ MemoryDecisions }

func (d *failingDecisions) Allow(origin string) error { return errors.New("disk full") }

// TestConsent: what each answer of the person leads to — for this
// request, for the next, and for other sites.
func TestConsent(t *testing.T) {
	const site = "https://new.example"
	ctx := context.Background()
	type step struct {
		origin  string
		wantErr error // nil: allowed
	}
	for _, tc := range []struct {
		name      string
		cfg       Config
		who       *person
		steps     []step
		wantAsked int
	}{
		{"deny is for this time only", Config{}, &person{decision: Deny},
			[]step{{site, ErrOriginDenied}, {site, ErrOriginDenied}}, 2},
		{"allow once without a connection is one request", Config{}, &person{decision: AllowOnce},
			[]step{{site, nil}, {site, nil}}, 2},
		{"allow always is remembered for that origin only", Config{}, &person{decision: AllowAlways},
			[]step{{site, nil}, {site, nil}, {"https://new.example:8443", nil}, {"https://sub.new.example", nil}}, 3},
		{"allow always that cannot be saved still holds now", Config{Decisions: &failingDecisions{}}, &person{decision: AllowAlways},
			[]step{{site, nil}}, 1},
		{"a prompter error refuses", Config{}, &person{decision: AllowAlways, err: context.Canceled},
			[]step{{site, context.Canceled}, {site, context.Canceled}}, 2},
		{"headless serves only trusted origins, asking nobody", Config{OnlyTrusted: true, Trusted: []Rule{"https://lk.example.ru"}}, &person{decision: AllowAlways},
			[]step{{site, ErrOriginDenied}, {"https://lk.example.ru", nil}}, 0},
		{"trusted origins are not asked", Config{Trusted: []Rule{"https://*.example.ru"}}, &person{decision: Deny},
			[]step{{"https://lk.example.ru", nil}, {"https://a.b.example.ru", nil}, {"https://example.ru.evil.example", ErrOriginDenied}}, 1},
		{"a malformed origin is refused unasked", Config{}, &person{decision: AllowAlways},
			[]step{{"javascript:alert(1)", ErrOriginDenied}, {"https://user@new.example", ErrOriginDenied}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := oneToken(t)
			cfg := tc.cfg
			cfg.Stores, cfg.Prompter = []keystore.Store{p}, tc.who
			a := New(cfg)
			for i, s := range tc.steps {
				_, err := a.Certificates(ctx, s.origin, Filter{})
				if s.wantErr == nil && err != nil || s.wantErr != nil && !errors.Is(err, s.wantErr) {
					t.Fatalf("step %d (%s): %v, want %v", i+1, s.origin, err, s.wantErr)
				}
			}
			if n, _, _ := tc.who.asked(); n != tc.wantAsked {
				t.Fatalf("the person was asked %d times (%q), want %d", n, tc.who.askedOrigins, tc.wantAsked)
			}
		})
	}
}

// TestConsentNoPrompter: an agent without a prompter refuses what it
// would have to ask about, and signs for trusted origins only.
func TestConsentNoPrompter(t *testing.T) {
	p, c := oneToken(t)
	a := New(Config{Stores: []keystore.Store{p}, Trusted: []Rule{"https://lk.example.ru"}})
	if _, err := a.Certificates(context.Background(), "https://new.example", Filter{}); !errors.Is(err, ErrOriginDenied) {
		t.Fatalf("untrusted origin without a prompter: %v", err)
	}
	if _, _, err := a.Authenticate(context.Background(), "https://lk.example.ru", c.ID, "challenge"); !errors.Is(err, keystore.ErrPINRequired) {
		t.Fatalf("login without a prompter to ask the PIN: %v, want PIN_REQUIRED", err)
	}
}

// TestSignDecisions: the person's answer to a document decides; a refusal
// asks no PIN and touches no key; a login document is refused before
// anyone is asked.
func TestSignDecisions(t *testing.T) {
	const site = "https://lk.example.ru"
	// The login document exactly as the agent makes it.
	p, c := oneToken(t)
	der, _, err := New(Config{Stores: []keystore.Store{p}, Prompter: &person{pin: tokenPIN}, Trusted: []Rule{site}}).
		Authenticate(context.Background(), site, c.ID, "challenge")
	if err != nil {
		t.Fatal(err)
	}
	login, err := cms.Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name                string
		confirm             bool
		data                []byte
		wantErr             error
		wantSigns, wantPINs int
	}{
		{"approved", true, []byte("документ"), nil, 1, 1},
		{"declined", false, []byte("документ"), ErrCancelled, 1, 0},
		{"a login document", true, login.Content, ErrLoginDocument, 0, 0},
		{"nothing", true, nil, ErrBadRequest, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, c := oneToken(t)
			who := &person{confirm: tc.confirm, pin: tokenPIN}
			a := New(Config{Stores: []keystore.Store{p}, Prompter: who, Trusted: []Rule{site}})
			_, err := a.Sign(context.Background(), site, SignRequest{Certificate: c.ID, Data: tc.data})
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("%v, want %v", err, tc.wantErr)
			}
			if _, signs, pins := who.asked(); signs != tc.wantSigns || pins != tc.wantPINs {
				t.Fatalf("%d confirmations, %d PINs; want %d and %d", signs, pins, tc.wantSigns, tc.wantPINs)
			}
		})
	}
}

// TestLockedTokenRefused: a certificate whose token is locked is refused
// with PIN_LOCKED before anyone is asked anything — no document to
// approve, no PIN typed into a prompt the token would refuse anyway —
// whether the site logs in or asks for a document, trusted or not.
func TestLockedTokenRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted bool
		call    func(a *Agent, origin, id string) error
	}{
		{"authenticate", false, func(a *Agent, origin, id string) error {
			_, _, err := a.Authenticate(context.Background(), origin, id, "challenge")
			return err
		}},
		{"sign", false, func(a *Agent, origin, id string) error {
			_, err := a.Sign(context.Background(), origin, SignRequest{Certificate: id, Data: []byte("договор")})
			return err
		}},
		{"sign trusted", true, func(a *Agent, origin, id string) error {
			_, err := a.Sign(context.Background(), origin, SignRequest{Certificate: id, Data: []byte("договор")})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, c := oneToken(t)
			c.Problems = append(c.Problems, keystore.ProblemTokenLocked)
			who := &person{decision: AllowAlways, confirm: true, pin: tokenPIN}
			cfg := Config{Stores: []keystore.Store{p}, Prompter: who}
			if tc.trusted {
				cfg.Trusted = []Rule{"https://lk.example.ru"}
			} else {
				cfg.Decisions = &MemoryDecisions{m: map[string]bool{"https://lk.example.ru": true}}
			}
			err := tc.call(New(cfg), "https://lk.example.ru", c.ID)
			if !errors.Is(err, keystore.ErrPINLocked) {
				t.Fatalf("signing with a locked token's certificate: %v, want PIN_LOCKED", err)
			}
			if _, signs, pins := who.asked(); signs != 0 || pins != 0 {
				t.Fatalf("asked %d documents and %d PINs for a locked token", signs, pins)
			}
		})
	}
}
