package agent

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/certreq"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/testpki"
)

// makerStore is a token that makes keys as the PKCS#11 store does: its
// own refusals first (no such token), then keystore.AskConsent, then the
// PIN (tried once: "1234" is right), then the key, destroyed when use
// fails; and it takes certificates in for the keys it holds.
type makerStore struct {
	fakeStore
	mu    sync.Mutex
	keys  []*gost3410.PrivateKey
	certs []*x509.Certificate
}

func (m *makerStore) GenerateKey(ctx context.Context, req keystore.KeyRequest, pin keystore.PINFunc, use func(*keystore.NewKey) error) error {
	if req.Token != "" && req.Token != "Рутокен" {
		return keystore.ErrTokenNotFound
	}
	if err := keystore.AskConsent(ctx, keystore.Consent{Token: "Рутокен"}); err != nil {
		return err
	}
	var ok bool
	err := pin(ctx, keystore.PINRequest{Token: "Рутокен", NewKey: true}, func(p []byte, _ bool) (keystore.PINRequest, error) {
		ok = string(p) == "1234"
		return keystore.PINRequest{}, nil
	})
	if err != nil {
		return err
	}
	if !ok {
		return keystore.ErrPINIncorrect
	}
	k, err := gost3410.GenerateKey(req.Spec.Curve, rand.Reader)
	if err != nil {
		return err
	}
	if err := use(&keystore.NewKey{ID: []byte{1, 2, 3}, Token: "Рутокен", Signer: k}); err != nil {
		return err
	}
	m.mu.Lock()
	m.keys = append(m.keys, k)
	m.mu.Unlock()
	return nil
}

func (m *makerStore) InstallCertificate(ctx context.Context, data []byte, pin keystore.PINFunc) (*keystore.Certificate, error) {
	cert, err := x509.ParseCertificate(data)
	if err != nil {
		return nil, keystore.ErrBadCertificate
	}
	m.mu.Lock()
	held := false
	for _, k := range m.keys {
		spki, _ := certreq.MarshalPublicKey(k.Public())
		held = held || bytes.Equal(spki, cert.RawSubjectPublicKeyInfo)
	}
	m.mu.Unlock()
	if !held {
		return nil, keystore.ErrNoMatchingKey
	}
	c := keystore.Examine(cert, true, time.Now())
	c.Token = "Рутокен"
	if err := keystore.AskConsent(ctx, keystore.Consent{Token: "Рутокен", Certificate: c}); err != nil {
		return nil, err
	}
	err = pin(ctx, keystore.PINRequest{Token: "Рутокен", Certificate: c, Install: true}, func([]byte, bool) (keystore.PINRequest, error) { return keystore.PINRequest{}, nil })
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.certs = append(m.certs, cert)
	m.mu.Unlock()
	return c, nil
}

// keyPerson answers the key windows as told and remembers them.
type keyPerson struct {
	recorder
	create, install bool
	newKeys         []NewKeySummary
	installs        []*keystore.Certificate
}

func (p *keyPerson) ConfirmNewKey(ctx context.Context, origin string, what NewKeySummary) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.newKeys = append(p.newKeys, what)
	return p.create, nil
}

func (p *keyPerson) ConfirmInstall(ctx context.Context, origin, token string, cert *keystore.Certificate) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.installs = append(p.installs, cert)
	return p.install, nil
}

func newKeyRequest(subject string) NewKeyRequest {
	s, err := certreq.ParseSubject(subject)
	if err != nil {
		panic(err)
	}
	return NewKeyRequest{Algorithm: "tc26-256-a", Request: &certreq.Request{Subject: s}}
}

const goodSubject = "CN=Иванов Иван,SNILS=11223344595,INN=500100732259"

// TestCreateRequestConsent: a key is made only after the person's
// «Создать» — for a trusted site too, which without this check would make
// keys with a PIN window alone — and the subject is shown cleaned.
func TestCreateRequestConsent(t *testing.T) {
	const site = "https://ca.example"
	for _, tc := range []struct {
		name    string
		trusted bool
		create  bool
		want    error
		keys    int
	}{
		{"declined", false, false, ErrCancelled, 0},
		{"declined, trusted site", true, false, ErrCancelled, 0},
		{"created", false, true, nil, 1},
		{"created, trusted site", true, true, nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := &makerStore{fakeStore: *newFakeStore(t)}
			person := &keyPerson{create: tc.create}
			cfg := Config{Stores: []keystore.Store{store}, Prompter: person}
			if tc.trusted {
				cfg.Trusted = []Rule{mustRule(t, site)}
			}
			a := New(cfg)
			req := newKeyRequest(goodSubject + ",O=\u202Eфирма")
			der, _, err := a.CreateRequest(context.Background(), site, req)
			if !errors.Is(err, tc.want) || tc.want == nil && err != nil {
				t.Fatalf("CreateRequest: %v, want %v", err, tc.want)
			}
			if len(person.newKeys) != 1 || len(store.keys) != tc.keys {
				t.Fatalf("%d consent windows, %d keys; want 1 window and %d keys", len(person.newKeys), len(store.keys), tc.keys)
			}
			shown := person.newKeys[0]
			if shown.Token != "Рутокен" || shown.Label != "Иванов Иван" || shownField(shown, "O") != "фирма" || shownField(shown, "SNILS") != "11223344595" {
				t.Errorf("the window showed %+v", shown)
			}
			if !tc.create {
				if len(person.pins) != 0 {
					t.Errorf("the PIN was asked after «Отмена»: %+v", person.pins)
				}
				return
			}
			if len(person.pins) != 1 || !person.pins[0].NewKey || person.pins[0].Login || person.pins[0].Document != nil {
				t.Errorf("PIN asked %+v, want once, for a new key", person.pins)
			}
			csr, err := x509.ParseCertificateRequest(der)
			if err != nil {
				// The standard library knows no GOST: the request's
				// structure is checked through its subject.
				if !strings.Contains(err.Error(), "x509") {
					t.Fatal(err)
				}
				return
			}
			if csr.Subject.CommonName != "Иванов Иван" {
				t.Errorf("request subject %v", csr.Subject)
			}
		})
	}
}

// TestCreateRequestRefusedFirst: what the page got wrong, and a token the
// store cannot use, are refused before any window or PIN.
func TestCreateRequestRefusedFirst(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*NewKeyRequest)
		want  error
		field string
	}{
		{"INN checksum", func(r *NewKeyRequest) { *r = newKeyRequest("CN=Иванов Иван,INN=500100732258") }, certreq.ErrInvalid, "INN"},
		{"SNILS checksum", func(r *NewKeyRequest) { *r = newKeyRequest("CN=Иванов Иван,SNILS=11223344596") }, certreq.ErrInvalid, "SNILS"},
		{"no CN", func(r *NewKeyRequest) { *r = newKeyRequest("SN=Иванов") }, certreq.ErrInvalid, "CN"},
		{"unknown algorithm", func(r *NewKeyRequest) { r.Algorithm = "tc26-256-z" }, certreq.ErrInvalid, "algorithm"},
		{"issue's form, unknown set", func(r *NewKeyRequest) { r.Algorithm = KeyAlgorithmName("gost2012_512", "D") }, certreq.ErrInvalid, "algorithm"},
		{"key usage", func(r *NewKeyRequest) { r.Request.KeyUsage = []string{"everything"} }, certreq.ErrInvalid, "keyUsage"},
		{"no such token", func(r *NewKeyRequest) { r.Token = "чужой" }, keystore.ErrTokenNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := &makerStore{fakeStore: *newFakeStore(t)}
			person := &keyPerson{create: true}
			a := New(Config{Stores: []keystore.Store{store}, Prompter: person, Trusted: []Rule{mustRule(t, "https://ca.example")}})
			req := newKeyRequest(goodSubject)
			tc.edit(&req)
			_, _, err := a.CreateRequest(context.Background(), "https://ca.example", req)
			if !errors.Is(err, tc.want) {
				t.Fatalf("CreateRequest: %v, want %v", err, tc.want)
			}
			var ce *certreq.Error
			if tc.field != "" && (!errors.As(err, &ce) || ce.Field != tc.field) {
				t.Errorf("error %v does not name the field %s", err, tc.field)
			}
			if len(person.newKeys)+len(person.pins)+len(store.keys) != 0 {
				t.Errorf("%d windows, %d PINs, %d keys before the refusal", len(person.newKeys), len(person.pins), len(store.keys))
			}
		})
	}
}

// TestKeyAlgorithmName: the issue's form of the algorithm reads as podpis's
// names, and every name it gives is one the key store knows.
func TestKeyAlgorithmName(t *testing.T) {
	for _, tc := range []struct{ alg, set, want string }{
		{"tc26-256-a", "", "tc26-256-a"},
		{"rsa2048", "", "rsa2048"},
		{"gost2012_256", "A", "tc26-256-a"},
		{"gost2012_256", "d", "tc26-256-d"},
		{"gost2012_256", "CryptoPro-XchB", "cryptopro-xchb"},
		{"gost2012_512", "C", "tc26-512-c"},
		{"gost2012_512", "D", "gost2012_512/D"},
		{"tc26-256-a", "A", "tc26-256-a/A"},
	} {
		if got := KeyAlgorithmName(tc.alg, tc.set); got != tc.want {
			t.Errorf("KeyAlgorithmName(%q, %q) = %q, want %q", tc.alg, tc.set, got, tc.want)
		}
	}
	for _, sets := range keyAlgorithmNames {
		for _, name := range sets {
			if _, ok := keystore.KeySpecByName(name); !ok {
				t.Errorf("%s is no key the store knows", name)
			}
		}
	}
}

// TestKeyNoPerson: an agent with nobody to ask (headless, or a prompter
// without the key windows) makes no key and installs nothing, even for a
// trusted site with the PIN at hand.
func TestKeyNoPerson(t *testing.T) {
	for name, cfg := range map[string]Config{
		"unattended":     {Prompter: unattendedPerson{&keyPerson{create: true, install: true}}, Trusted: []Rule{mustRule(t, "https://ca.example")}},
		"only trusted":   {Prompter: &keyPerson{create: true, install: true}, Trusted: []Rule{mustRule(t, "https://ca.example")}, OnlyTrusted: true},
		"no key windows": {Prompter: &recorder{decision: AllowAlways, sign: true}, Trusted: []Rule{mustRule(t, "https://ca.example")}},
	} {
		t.Run(name, func(t *testing.T) {
			store := &makerStore{fakeStore: *newFakeStore(t)}
			cfg.Stores = []keystore.Store{store}
			a := New(cfg)
			if _, _, err := a.CreateRequest(context.Background(), "https://ca.example", newKeyRequest(goodSubject)); !errors.Is(err, ErrNoConsent) {
				t.Errorf("CreateRequest: %v, want ErrNoConsent", err)
			}
			if _, err := a.InstallCertificate(context.Background(), "https://ca.example", store.cert.Cert.Raw); !errors.Is(err, ErrNoConsent) {
				t.Errorf("InstallCertificate: %v, want ErrNoConsent", err)
			}
			if len(store.keys)+len(store.certs) != 0 {
				t.Errorf("%d keys and %d certificates made with nobody asked", len(store.keys), len(store.certs))
			}
		})
	}
}

type unattendedPerson struct{ *keyPerson }

func (unattendedPerson) Unattended() bool { return true }

// TestKeyPromptsLimited: a trusted site cannot open key windows without
// limit (to wear the person into a yes, or fill the token): they count
// against its domain as an untrusted site's prompts do.
func TestKeyPromptsLimited(t *testing.T) {
	store := &makerStore{fakeStore: *newFakeStore(t)}
	person := &keyPerson{create: false}
	a := New(Config{Stores: []keystore.Store{store}, Prompter: person, Trusted: []Rule{mustRule(t, "https://ca.example")}})
	busy := 0
	for i := 0; i < 10; i++ {
		_, _, err := a.CreateRequest(context.Background(), "https://ca.example", newKeyRequest(goodSubject))
		if errors.Is(err, ErrBusy) {
			busy++
		} else if !errors.Is(err, ErrCancelled) {
			t.Fatal(err)
		}
	}
	if len(person.newKeys) != 6 || busy != 4 {
		t.Fatalf("%d key windows, %d BUSY; want 6 (the per-minute limit) and 4", len(person.newKeys), busy)
	}
}

// TestInstallConsent: a certificate goes to the token only after the
// person saw whose it is and where it goes; one whose key no token holds
// (someone else's certificate) or that is no certificate is refused
// before any window.
func TestInstallConsent(t *testing.T) {
	store := &makerStore{fakeStore: *newFakeStore(t)}
	ca := testpki.Root(t, gost3410.CurveTC26256A, "Тестовый УЦ", time.Now())
	mine, _ := ca.Person(t, gost3410.CurveTC26256A, pkix.Name{CommonName: "Иванов Иван"}, time.Now(), nil)
	// The key of "mine" is not on the token: issue a certificate for a
	// key that is.
	person := &keyPerson{create: true}
	a := New(Config{Stores: []keystore.Store{store}, Prompter: person})
	if _, _, err := a.CreateRequest(context.Background(), "https://ca.example", newKeyRequest(goodSubject)); err != nil {
		t.Fatal(err)
	}
	held := testpki.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Иванов Иван"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature}, ca.Cert, store.keys[0].Public(), ca.Key)
	for _, tc := range []struct {
		name    string
		data    []byte
		install bool
		want    error
		windows int
		certs   int
	}{
		{"not a certificate", []byte("junk"), true, keystore.ErrBadCertificate, 0, 0},
		{"someone else's", mine.Raw, true, keystore.ErrNoMatchingKey, 0, 0},
		{"declined", held.Raw, false, ErrCancelled, 1, 0},
		{"installed", held.Raw, true, nil, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			person.installs, person.pins = nil, nil
			person.install = tc.install
			store.certs = nil
			c, err := a.InstallCertificate(context.Background(), "https://ca.example", tc.data)
			if !errors.Is(err, tc.want) || tc.want == nil && err != nil {
				t.Fatalf("InstallCertificate: %v, want %v", err, tc.want)
			}
			if len(person.installs) != tc.windows || len(store.certs) != tc.certs {
				t.Fatalf("%d windows, %d certificates written; want %d, %d", len(person.installs), len(store.certs), tc.windows, tc.certs)
			}
			if tc.windows == 1 && person.installs[0].Identity.CommonName != "Иванов Иван" {
				t.Errorf("the window showed %+v", person.installs[0].Identity)
			}
			if tc.want == nil && (c == nil || len(person.pins) != 1 || !person.pins[0].Install) {
				t.Errorf("installed %v with PINs %+v, want one PIN for the installation", c, person.pins)
			}
			if tc.windows == 0 && len(person.pins) != 0 {
				t.Errorf("PIN asked for a refused certificate")
			}
		})
	}
}

func mustRule(t *testing.T, s string) Rule {
	t.Helper()
	r, err := ParseRule(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func shownField(s NewKeySummary, key string) string {
	for _, f := range s.Subject {
		if f.Key == key {
			return f.Value
		}
	}
	return ""
}
