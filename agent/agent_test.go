package agent

import (
	"context"
	"crypto"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/streebog"
	"github.com/podpis/podpis/internal/testpki"
)

func TestCleanText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Договор №5", "Договор №5"},
		// zenity expands backslash escapes; the text keeps its backslashes
		// (the prompter escapes them) but loses nothing else.
		{`\074b\076Госуслуги`, `\074b\076Госуслуги`},
		// A forged «Размер/Хэш» block stays on the description's line.
		{"Договор\nРазмер: 1 байт\r\nХэш (Стрибог-256): 00\u2028конец", "Договор Размер: 1 байт Хэш (Стрибог-256): 00 конец"},
		// U+202E would show "fdp.exe" as "exe.pdf".
		{"счёт\u202Efdp.exe", "счётfdp.exe"},
		{"a\u2066b\u2069c\u200Ed\u200Fe\u061Cf\u202Ag\u202Bh\u202Ci\u202Dj", "abcdefghij"},
		{"zero\u200Bwidth\u200C\u200D\u2060\uFEFFjoined", "zerowidthjoined"},
		{"tag\U000E0041\U000E0042s\u00ADoft\u180E", "tagsoft"},
		{"\x00\x07bell\x1b[31mred\x7f\u0085", "bell [31mred"},
		{"  many \t\t spaces\u00A0\u3000here  ", "many spaces here"},
		{"bad\xffutf8", "badutf8"},
		{"\u3164\u115F\u2800", ""},
		{strings.Repeat("я", 300), strings.Repeat("я", 199) + "…"},
		// A tower of combining marks is drawn over the lines above and
		// below (the hash, the certificate, the site): four stay, as in
		// real text, with a character dropped in between or not.
		{"Хэш" + strings.Repeat("\u0336\u0489", 90) + "!", "Хэш\u0336\u0489\u0336\u0489!"},
		{"x" + strings.Repeat("\u0301\u200B", 50) + " \u0301y", "x\u0301\u0301\u0301\u0301 \u0301y"},
		{"Tiếng Việt, שָׁלוֹם, हिंदी", "Tiếng Việt, שָׁלוֹם, हिंदी"},
		{strings.Repeat("я", 200), strings.Repeat("я", 200)},
	} {
		if got := CleanText(tc.in, MaxShownDescription); got != tc.want {
			t.Errorf("CleanText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPromptDomain(t *testing.T) {
	for origin, want := range map[string]string{
		"https://a.evil.example":       "evil.example",
		"https://x.y.evil.example:444": "evil.example",
		"https://lk.gosuslugi.ru":      "gosuslugi.ru",
		"https://a.b.spb.ru":           "b.spb.ru", // spb.ru is a public suffix
		"https://alice.github.io":      "alice.github.io",
		"https://bob.github.io":        "bob.github.io",
		"http://127.0.0.1:8080":        "127.0.0.1",
		"http://[::1]:8080":            "::1",
		"https://a.localhost":          "localhost",
		"https://a.evil.example.":      "evil.example",
		"https://evil.example.:8443":   "evil.example",
		"https://a.localhost.":         "localhost",
		"https://[::ffff:102:304]":     "1.2.3.4",
	} {
		if got := promptDomain(origin); got != want {
			t.Errorf("promptDomain(%q) = %q, want %q", origin, got, want)
		}
	}
}

// fakeStore holds one key in memory and asks pin on every signature,
// as a token needing a login does.
type fakeStore struct {
	cert *keystore.Certificate
	key  *gost3410.PrivateKey
}

func newFakeStore(t *testing.T) *fakeStore {
	ca := testpki.Root(t, gost3410.CurveTC26256A, "Тестовый УЦ", time.Now())
	cert, key := ca.Person(t, gost3410.CurveTC26256A, pkix.Name{CommonName: "Иванов Иван"}, time.Now(), nil)
	return &fakeStore{cert: keystore.Examine(cert, true, time.Now()), key: key}
}

func (p *fakeStore) Name() string { return "fake" }
func (p *fakeStore) Certificates(context.Context) ([]*keystore.Certificate, error) {
	return []*keystore.Certificate{p.cert}, nil
}
func (p *fakeStore) Signer(ctx context.Context, id string, pin keystore.PINFunc) (crypto.Signer, error) {
	return &fakeSigner{p: p, ctx: ctx, pin: pin}, nil
}
func (p *fakeStore) Close() error { return nil }

type fakeSigner struct {
	p   *fakeStore
	ctx context.Context
	pin keystore.PINFunc
}

func (s *fakeSigner) Public() crypto.PublicKey { return s.p.key.Public() }
func (s *fakeSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	var sig []byte
	err := s.pin(s.ctx, keystore.PINRequest{Token: "fake", Certificate: s.p.cert}, func(pin []byte, save bool) (req keystore.PINRequest, err error) {
		sig, err = s.p.key.Sign(r, digest, opts)
		return req, err
	})
	return sig, err
}

// recorder is a person who answers as told and remembers what was shown.
type recorder struct {
	decision Decision
	sign     bool
	hold     chan struct{} // when set, ConfirmOrigin waits for it

	mu      sync.Mutex
	origins []string
	shown   []SignSummary
	pins    []keystore.PINRequest
	opened  atomic.Int32
}

func (r *recorder) ConfirmOrigin(ctx context.Context, origin string) (Decision, error) {
	r.opened.Add(1)
	r.mu.Lock()
	r.origins = append(r.origins, origin)
	r.mu.Unlock()
	if r.hold != nil {
		select {
		case <-r.hold:
		case <-ctx.Done():
			return Deny, ctx.Err()
		}
	}
	return r.decision, nil
}

func (r *recorder) ConfirmSign(ctx context.Context, origin string, cert *keystore.Certificate, what SignSummary) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.shown = append(r.shown, what)
	return r.sign, nil
}

func (r *recorder) PIN(ctx context.Context, origin string, req keystore.PINRequest) ([]byte, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pins = append(r.pins, req)
	return []byte("1234"), false, nil
}

// TestPromptLimitPerDomain: twenty subdomains of one party share one
// budget of prompts; another party's budget is its own.
func TestPromptLimitPerDomain(t *testing.T) {
	// Each case is twenty origins of one party, as a browser sends them.
	for name, origin := range map[string]func(i int) string{
		"subdomains": func(i int) string { return fmt.Sprintf("https://s%d.evil.example", i) },
		// Browsers keep a host's trailing dot in the origin, and it is
		// the same site (and certificate) as without.
		"trailing dot":     func(i int) string { return fmt.Sprintf("https://s%d.evil.example.", i) },
		"with and without": func(i int) string { return fmt.Sprintf("https://s%d.evil.example%s", i/2, strings.Repeat(".", i%2)) },
		// One IPv4 address, spelt as itself and as IPv4-mapped IPv6 (the
		// browser writes [::ffff:102:304]), on any port.
		"ip spellings": func(i int) string {
			if i%2 == 0 {
				return fmt.Sprintf("https://1.2.3.4:%d", 1000+i)
			}
			return fmt.Sprintf("https://[::ffff:102:304]:%d", 1000+i)
		},
	} {
		t.Run(name, func(t *testing.T) {
			person := &recorder{decision: Deny}
			a := New(Config{Stores: []keystore.Store{newFakeStore(t)}, Prompter: person})
			ctx := context.Background()
			busy := 0
			for i := 0; i < 20; i++ {
				_, err := a.Certificates(ctx, origin(i), Filter{})
				switch {
				case errors.Is(err, ErrBusy):
					busy++
				case !errors.Is(err, ErrOriginDenied):
					t.Fatalf("%s: %v", origin(i), err)
				}
			}
			if n := person.opened.Load(); n != 6 || busy != 14 {
				t.Fatalf("20 origins of one party opened %d prompts (%d BUSY), want 6 (the per-minute limit)", n, busy)
			}
			if _, err := a.Certificates(ctx, "https://lk.other.example", Filter{}); !errors.Is(err, ErrOriginDenied) || person.opened.Load() != 7 {
				t.Fatalf("another domain was refused by the first one's limit: %v", err)
			}
		})
	}
}

// TestTrustedBatch: a trusted site signing a batch (a question and a PIN
// per document) is not held to the limit for sites nobody vouched for.
func TestTrustedBatch(t *testing.T) {
	const site = "https://lk.example.ru"
	person := &recorder{sign: true}
	a := New(Config{Stores: []keystore.Store{newFakeStore(t)}, Prompter: person, Trusted: []Rule{site}})
	ctx := context.Background()
	certs, _ := a.Certificates(ctx, site, Filter{})
	for i := 0; i < 10; i++ {
		if _, err := a.Sign(ctx, site, SignRequest{Certificate: certs[0].ID, Data: []byte{byte(i)}}); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
	}
	if len(person.shown) != 10 || len(person.pins) != 10 {
		t.Fatalf("%d documents shown, %d PINs asked", len(person.shown), len(person.pins))
	}
}

// TestOnePromptAtATime: while one site's prompt is open, no other site's
// opens; after it closes they may.
func TestOnePromptAtATime(t *testing.T) {
	person := &recorder{decision: AllowOnce, hold: make(chan struct{})}
	a := New(Config{Stores: []keystore.Store{newFakeStore(t)}, Prompter: person})
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		_, err := a.Certificates(ctx, "https://first.example", Filter{})
		done <- err
	}()
	for person.opened.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	for _, o := range []string{"https://second.example", "https://third.example.org", "http://127.0.0.1:9000"} {
		if _, err := a.Certificates(ctx, o, Filter{}); !errors.Is(err, ErrBusy) {
			t.Fatalf("%s while a prompt is open: %v, want BUSY", o, err)
		}
	}
	if n := person.opened.Load(); n != 1 {
		t.Fatalf("%d prompts open at once", n)
	}
	close(person.hold)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := a.Certificates(ctx, "https://second.example", Filter{}); err != nil {
		t.Fatalf("after the first prompt closed: %v", err)
	}
}

// TestSignShowsDocument: a document is shown to the person — cleaned —
// even for a trusted origin, and the PIN dialog is told it is a document
// and which; a login's PIN dialog is told it is a login.
func TestSignShowsDocument(t *testing.T) {
	const site = "https://lk.example.ru"
	for _, trusted := range []bool{true, false} {
		person := &recorder{decision: AllowAlways, sign: true}
		cfg := Config{Stores: []keystore.Store{newFakeStore(t)}, Prompter: person}
		if trusted {
			cfg.Trusted = []Rule{site}
		}
		a := New(cfg)
		ctx := context.Background()
		certs, err := a.Certificates(ctx, site, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		desc := "Договор\nРазмер: 1 байт\u202Efdp.exe"
		if _, err := a.Sign(ctx, site, SignRequest{Certificate: certs[0].ID, Data: []byte("документ"), Description: desc}); err != nil {
			t.Fatal(err)
		}
		sum := streebog.Sum256([]byte("документ"))
		want := SignSummary{Description: "Договор Размер: 1 байтfdp.exe", Size: len("документ"), Streebog: hex.EncodeToString(sum[:])}
		if len(person.shown) != 1 || !reflect.DeepEqual(person.shown[0], want) {
			t.Fatalf("trusted=%v: the document shown: %+v, want %+v", trusted, person.shown, want)
		}
		if len(person.pins) != 1 || person.pins[0].Login || person.pins[0].Document == nil ||
			person.pins[0].Document.Description != want.Description || person.pins[0].Document.Streebog != person.shown[0].Streebog {
			t.Fatalf("trusted=%v: the PIN dialog was told %+v", trusted, person.pins)
		}
		if _, _, err := a.Authenticate(ctx, site, certs[0].ID, "challenge"); err != nil {
			t.Fatal(err)
		}
		if len(person.pins) != 2 || !person.pins[1].Login || person.pins[1].Document != nil {
			t.Fatalf("trusted=%v: a login's PIN dialog was told %+v", trusted, person.pins[1])
		}
	}
}

// TestAllowOnceSession: «Только сейчас» covers what one connection (its
// Session) asks next, and nothing on another; without a Session it covers
// the one request.
func TestAllowOnceSession(t *testing.T) {
	const site = "https://new.example"
	person := &recorder{decision: AllowOnce}
	a := New(Config{Stores: []keystore.Store{newFakeStore(t)}, Prompter: person})
	conn := WithSession(context.Background(), NewSession())
	certs, err := a.Certificates(conn, site, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Authenticate(conn, site, certs[0].ID, "challenge"); err != nil {
		t.Fatal(err)
	}
	if n := person.opened.Load(); n != 1 {
		t.Fatalf("one login asked about the site %d times", n)
	}
	other := WithSession(context.Background(), NewSession())
	if _, err := a.Certificates(other, site, Filter{}); err != nil || person.opened.Load() != 2 {
		t.Fatalf("another connection was not asked: %v, %d prompts", err, person.opened.Load())
	}
	if _, err := a.Certificates(context.Background(), site, Filter{}); err != nil || person.opened.Load() != 3 {
		t.Fatalf("a request without a session was not asked: %v, %d prompts", err, person.opened.Load())
	}
	if _, err := a.Certificates(conn, "https://else.example", Filter{}); err != nil || person.opened.Load() != 4 {
		t.Fatalf("another origin on the allowed connection was not asked: %v", err)
	}
}

// moduleStore is a store that describes its modules, as the PKCS#11 store
// does: loaded ones may hold certificates, or none.
type moduleStore struct {
	modules []keystore.ModuleInfo
	certs   []*keystore.Certificate
}

func (s *moduleStore) Name() string                   { return "modules" }
func (s *moduleStore) Modules() []keystore.ModuleInfo { return s.modules }
func (s *moduleStore) Certificates(context.Context) ([]*keystore.Certificate, error) {
	return s.certs, nil
}
func (s *moduleStore) Signer(context.Context, string, keystore.PINFunc) (crypto.Signer, error) {
	return nil, keystore.ErrCertNotFound
}
func (s *moduleStore) Close() error { return nil }

// platformStore is a store that is a provider itself (CryptoAPI): it
// describes no modules.
type platformStore []*keystore.Certificate

func (s platformStore) Name() string                                                  { return "platform" }
func (s platformStore) Certificates(context.Context) ([]*keystore.Certificate, error) { return s, nil }
func (s platformStore) Signer(context.Context, string, keystore.PINFunc) (crypto.Signer, error) {
	return nil, keystore.ErrCertNotFound
}
func (s platformStore) Close() error { return nil }

// TestNoProviderIsNotNoCertificates: a machine with no provider module at
// all (none found, or none loads) is told «Не установлен криптопровайдер»
// (ErrNoProvider), and only a provider that holds nothing «Сертификаты не
// найдены» (ErrNoCertificates), as docs/protocol.md promises. The agent
// used to say the latter for both.
func TestNoProviderIsNotNoCertificates(t *testing.T) {
	broken := keystore.ModuleInfo{Name: "Rutoken", Library: "/usr/lib/librtpkcs11ecp.so", Error: "cannot be loaded"}
	empty := keystore.ModuleInfo{Name: "podpis soft token", Library: "/opt/libpodpis-softtoken.so", Loaded: true}
	for _, c := range []struct {
		name   string
		stores []keystore.Store
		want   error
	}{
		{"no store", nil, keystore.ErrNoProvider},
		{"no module found", []keystore.Store{&moduleStore{}}, keystore.ErrNoProvider},
		{"no module loads", []keystore.Store{&moduleStore{modules: []keystore.ModuleInfo{broken}}}, keystore.ErrNoProvider},
		{"a module, no token or certificate", []keystore.Store{&moduleStore{modules: []keystore.ModuleInfo{broken, empty}}}, ErrNoCertificates},
		{"a platform store, empty", []keystore.Store{platformStore{}}, ErrNoCertificates},
		{"no module, an empty platform store", []keystore.Store{&moduleStore{}, platformStore{}}, ErrNoCertificates},
	} {
		a := New(Config{Stores: c.stores, Trusted: []Rule{"https://lk.example.ru"}})
		certs, err := a.Certificates(context.Background(), "https://lk.example.ru", Filter{})
		if !errors.Is(err, c.want) || certs != nil {
			t.Errorf("%s: %d certificates, %v; want %v", c.name, len(certs), err, c.want)
		}
		if c.want == keystore.ErrNoProvider && errors.Is(err, ErrNoCertificates) {
			t.Errorf("%s: both codes at once", c.name)
		}
	}
}
