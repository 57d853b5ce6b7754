package verify

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/login"
)

const origin = "https://lk.example.ru"

type fakeClock struct{ t atomic.Pointer[time.Time] }

// clockAt is a fakeClock set to t.
func clockAt(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.set(t)
	return c
}

func (c *fakeClock) now() time.Time      { return *c.t.Load() }
func (c *fakeClock) set(t time.Time)     { c.t.Store(&t) }
func (c *fakeClock) add(d time.Duration) { c.set(c.now().Add(d)) }

func newVerifier(t testing.TB, p *testPKI, clock *fakeClock) *Verifier {
	t.Helper()
	v, err := New(Config{Origins: []string{origin}, Roots: []*x509.Certificate{p.root}, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// agentSign does what the agent does: sign the authentication document,
// adding the issuing CA as CryptoPro adds the chain it knows.
func agentSign(t testing.TB, cert *x509.Certificate, key *gost3410.PrivateKey, doc login.Document, at time.Time, opts *cms.SignOptions) []byte {
	t.Helper()
	issuersMu.Lock()
	chain := issuers[cert]
	issuersMu.Unlock()
	o := cms.SignOptions{SigningTime: at, Certificates: chain, ContentType: login.OID}
	if opts != nil {
		o = *opts
		if o.SigningTime.IsZero() {
			o.SigningTime = at
		}
		if o.Certificates == nil {
			o.Certificates = chain
		}
		if o.ContentType.Equal(x509.OID{}) {
			o.ContentType = login.OID
		}
	}
	der, err := cms.Sign(doc.Marshal(), cert, key, &o)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestLogin(t *testing.T) {
	p := newTestPKI(t)
	clock := clockAt(testT0)
	v := newVerifier(t, p, clock)
	ctx := context.Background()
	cert, key := p.person(t, gost3410.CurveTC26256A, nil)

	c, err := v.IssueChallenge(ctx, origin)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Value) != 76 || c.Origin != origin || !c.Expires.Equal(testT0.Add(5*time.Minute)) {
		t.Fatalf("challenge %+v: not 57 bytes in base64url for %s until %s", c, origin, testT0.Add(5*time.Minute))
	}
	msg := agentSign(t, cert, key, login.NewDocument(origin, c.Value, testT0), testT0, nil)
	res, err := v.VerifyLogin(ctx, msg, origin)
	if err != nil {
		t.Fatal(err)
	}
	id := res.Identity
	if id.CommonName != "Иванов Иван Иванович" || id.SNILS != "12345678901" || id.INN != "771234567890" ||
		id.INNLE != "7712345678" || id.OGRN != "1027700000000" || id.Surname != "Иванов" ||
		id.GivenName != "Иван Иванович" || id.Email != "ivanov@example.ru" || id.Organization != "ООО «Ромашка»" ||
		id.Issuer != "Тестовый УЦ" || len(id.Thumbprint) != 40 || len(res.Chain) != 3 {
		t.Fatalf("identity: %+v, chain %d", id, len(res.Chain))
	}
	// The same message again is a replay.
	if _, err := v.VerifyLogin(ctx, msg, origin); !errors.Is(err, ErrChallengeReplayed) {
		t.Fatalf("replay: %v", err)
	}
}

func TestLoginFailures(t *testing.T) {
	p := newTestPKI(t)
	clock := clockAt(testT0)
	v := newVerifier(t, p, clock)
	ctx := context.Background()
	cert, key := p.person(t, gost3410.CurveCryptoProA, nil)
	noDS, noDSKey := p.person(t, gost3410.CurveTC26256A, func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyEncipherment })
	expired, expiredKey := p.person(t, gost3410.CurveTC26256A, func(c *x509.Certificate) { c.NotAfter = testT0.Add(-time.Hour) })
	future, futureKey := p.person(t, gost3410.CurveTC26256A, func(c *x509.Certificate) { c.NotBefore = testT0.Add(time.Hour) })
	stranger := newTestPKI(t)
	strangerCert, strangerKey := stranger.person(t, gost3410.CurveTC26256A, nil)

	fresh := func() string {
		c, err := v.IssueChallenge(ctx, origin)
		if err != nil {
			t.Fatal(err)
		}
		return c.Value
	}
	sign := func(doc login.Document) []byte { return agentSign(t, cert, key, doc, testT0, nil) }
	cases := []struct {
		name string
		msg  func() []byte
		want error
	}{
		{"garbage", func() []byte { return []byte("garbage") }, ErrMalformed},
		{"truncated", func() []byte { m := sign(login.NewDocument(origin, fresh(), testT0)); return m[:len(m)-20] }, ErrMalformed},
		{"detached", func() []byte {
			return agentSign(t, cert, key, login.NewDocument(origin, fresh(), testT0), testT0, &cms.SignOptions{Detached: true})
		}, ErrMalformed},
		{"not an auth document", func() []byte {
			der, _ := cms.Sign([]byte(`{"hello":1}`), cert, key, &cms.SignOptions{SigningTime: testT0, ContentType: login.OID})
			return der
		}, ErrMalformed},
		{"non-canonical document", func() []byte {
			doc := login.NewDocument(origin, fresh(), testT0)
			der, _ := cms.Sign(append(doc.Marshal()[:len(doc.Marshal())-1], ' ', '}'), cert, key, &cms.SignOptions{SigningTime: testT0, ContentType: login.OID})
			return der
		}, ErrMalformed},
		{"version 1 document", func() []byte {
			doc := login.NewDocument(origin, fresh(), testT0)
			doc.Format = "podpis-auth:1"
			return sign(doc)
		}, ErrMalformed},
		// Issue 18, attack 1: the document signed as data (what the sign
		// method made of a page's login document) is no login.
		{"document signature of a login document", func() []byte {
			return agentSign(t, cert, key, login.NewDocument(origin, fresh(), testT0), testT0, &cms.SignOptions{ContentType: cms.OIDData})
		}, ErrWrongPurpose},
		{"another content type", func() []byte {
			other, _ := x509.OIDFromInts([]uint64{1, 2, 840, 113549, 1, 9, 16, 1, 4})
			return agentSign(t, cert, key, login.NewDocument(origin, fresh(), testT0), testT0, &cms.SignOptions{ContentType: other})
		}, ErrWrongPurpose},
		{"challenge for another site", func() []byte {
			c, _ := v.IssueChallenge(ctx, "https://evil.example")
			return sign(login.NewDocument(origin, c.Value, testT0))
		}, ErrChallengeUnknown},
		{"challenge of another key", func() []byte {
			other, _ := New(Config{Origins: []string{origin}, Roots: []*x509.Certificate{p.root}, Now: clock.now})
			c, _ := other.IssueChallenge(ctx, origin)
			return sign(login.NewDocument(origin, c.Value, testT0))
		}, ErrChallengeUnknown},
		{"challenge with its expiry moved", func() []byte {
			c := fresh()
			b, _ := base64.RawURLEncoding.DecodeString(c)
			b[8]++ // one second more
			return sign(login.NewDocument(origin, base64.RawURLEncoding.EncodeToString(b), testT0))
		}, ErrChallengeUnknown},
		{"other origin", func() []byte { return sign(login.NewDocument("https://evil.example", fresh(), testT0)) }, ErrOriginMismatch},
		{"unknown challenge", func() []byte { return sign(login.NewDocument(origin, "AAAA", testT0)) }, ErrChallengeUnknown},
		{"clock skew", func() []byte { return sign(login.NewDocument(origin, fresh(), testT0.Add(-time.Hour))) }, ErrClockSkew},
		{"untrusted", func() []byte {
			return agentSign(t, strangerCert, strangerKey, login.NewDocument(origin, fresh(), testT0), testT0, nil)
		}, ErrUntrusted},
		{"expired certificate", func() []byte {
			return agentSign(t, expired, expiredKey, login.NewDocument(origin, fresh(), testT0), testT0, nil)
		}, ErrExpired},
		{"not yet valid", func() []byte {
			return agentSign(t, future, futureKey, login.NewDocument(origin, fresh(), testT0), testT0, nil)
		}, ErrNotYetValid},
		{"key usage", func() []byte {
			return agentSign(t, noDS, noDSKey, login.NewDocument(origin, fresh(), testT0), testT0, nil)
		}, ErrKeyUsage},
		{"flipped signature bit", func() []byte {
			m := sign(login.NewDocument(origin, fresh(), testT0))
			m[len(m)-7] ^= 1 // inside the signature value
			return m
		}, ErrBadSignature},
	}
	for _, c := range cases {
		_, err := v.VerifyLogin(ctx, c.msg(), origin)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: not a *verify.Error: %v", c.name, err)
		}
	}

	// A failed login does not consume the challenge.
	ch := fresh()
	bad := sign(login.NewDocument(origin, ch, testT0))
	bad[len(bad)-7] ^= 1
	if _, err := v.VerifyLogin(ctx, bad, origin); !errors.Is(err, ErrBadSignature) {
		t.Fatal(err)
	}
	if _, err := v.VerifyLogin(ctx, sign(login.NewDocument(origin, ch, testT0)), origin); err != nil {
		t.Fatalf("challenge burnt by a forged message: %v", err)
	}

	// A document signature never passes for a login, nor a login for a
	// document.
	signedLogin := sign(login.NewDocument(origin, fresh(), testT0))
	if _, err := v.VerifySignature(context.Background(), signedLogin, nil); !errors.Is(err, ErrWrongPurpose) {
		t.Fatalf("login as a document: %v", err)
	}

	// Expiry: the challenge lives ChallengeTTL; signed in time but
	// presented late, it is expired (the clock skew allows it).
	ch = fresh()
	clock.add(5*time.Minute + time.Second)
	msg := agentSign(t, cert, key, login.NewDocument(origin, ch, clock.now()), clock.now(), nil)
	if _, err := v.VerifyLogin(ctx, msg, origin); !errors.Is(err, ErrChallengeExpired) {
		t.Fatalf("expired challenge: %v", err)
	}
}

// TestParallelUse: of many concurrent logins with one challenge exactly one
// succeeds.
func TestParallelUse(t *testing.T) {
	p := newTestPKI(t)
	clock := clockAt(testT0)
	v := newVerifier(t, p, clock)
	cert, key := p.person(t, gost3410.CurveTC26256A, nil)
	c, _ := v.IssueChallenge(context.Background(), origin)
	msg := agentSign(t, cert, key, login.NewDocument(origin, c.Value, testT0), testT0, nil)
	var wins, replays atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := v.VerifyLogin(context.Background(), msg, origin)
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, ErrChallengeReplayed):
				replays.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || replays.Load() != 15 {
		t.Fatalf("%d wins, %d replays", wins.Load(), replays.Load())
	}
}

func TestDocumentSignature(t *testing.T) {
	p := newTestPKI(t)
	clock := clockAt(testT0)
	cert, key := p.person(t, gost3410.CurveTC26512C, nil)
	// The message carries only the signer's certificate: without the
	// intermediate configured there is no path.
	v := newVerifier(t, p, clock)
	der, _ := cms.Sign([]byte("x"), cert, key, &cms.SignOptions{SigningTime: testT0})
	if _, err := v.VerifySignature(context.Background(), der, nil); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("without the intermediate: %v", err)
	}
	v, _ = New(Config{Origins: []string{origin}, Roots: []*x509.Certificate{p.root}, Intermediates: []*x509.Certificate{p.inter}, Now: clock.now})
	doc := []byte("Договор № 1")
	for _, detached := range []bool{false, true} {
		der, _ := cms.Sign(doc, cert, key, &cms.SignOptions{Detached: detached, SigningTime: testT0})
		var content []byte
		if detached {
			content = doc
		}
		res, err := v.VerifySignature(context.Background(), der, content)
		if err != nil || string(res.Content) != string(doc) {
			t.Fatalf("detached=%v: %v", detached, err)
		}
		if _, err := v.VerifySignature(context.Background(), der, []byte("Договор № 2")); !errors.Is(err, ErrContentMismatch) {
			t.Fatalf("detached=%v, other content: %v", detached, err)
		}
	}
}
