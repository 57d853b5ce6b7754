package verify

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/login"
	"github.com/podpis/podpis/verify/revocation"
)

// refusedOrigins are origins the agent refuses to serve (login.NormalizeOrigin,
// the rule it applies to the browser's Origin): verify must refuse them
// too, in Config and in every call.
var refusedOrigins = []string{
	"http://lk.example.ru", "http://localhost:8080", "http://127.0.0.2", "http://192.168.1.1",
	"ftp://lk.example.ru", "null", "", "https://user@lk.example.ru", "https://lk.example.ru/path",
	"https://lk.example.ru?q", "file:///etc/passwd", "chrome-extension://abcdef",
}

// TestOriginsRefusedAsTheAgentRefuses: an origin the agent would never
// sign a login for is no origin for verify either: New refuses it in
// Config.Origins, and IssueChallenge, VerifyLogin and ExamineLogin refuse
// it as their argument. Before, verify compared strings: a server passing
// "http://lk.example.ru" got challenges and logins for it.
func TestOriginsRefusedAsTheAgentRefuses(t *testing.T) {
	p := newTestPKI(t)
	clock := clockAt(testT0)
	cert, key := p.person(t, gost3410.CurveTC26256A, nil)
	v := newVerifier(t, p, clock)
	ctx := context.Background()
	for _, o := range refusedOrigins {
		if _, err := login.NormalizeOrigin(o); err == nil {
			t.Fatalf("%q: the agent's rule serves it; the table is wrong", o)
		}
		if _, err := New(Config{Origins: []string{origin, o}, Roots: []*x509.Certificate{p.root}}); err == nil {
			t.Errorf("New accepts origin %q", o)
		}
		if _, err := v.IssueChallenge(ctx, o); !errors.Is(err, ErrOriginNotConfigured) || !errors.Is(err, ErrOriginMismatch) {
			t.Errorf("IssueChallenge(%q): %v", o, err)
		}
		msg := agentSign(t, cert, key, login.NewDocument(o, "c", testT0), testT0, nil)
		if _, err := v.VerifyLogin(ctx, msg, o); !errors.Is(err, ErrOriginNotConfigured) {
			t.Errorf("VerifyLogin for %q: %v", o, err)
		}
		if _, _, err := v.ExamineLogin(ctx, msg, o); !errors.Is(err, ErrOriginNotConfigured) {
			t.Errorf("ExamineLogin for %q: %v", o, err)
		}
		// Signed for it, presented for the configured site: not this site.
		if _, _, err := v.ExamineLogin(ctx, msg, origin); !errors.Is(err, ErrOriginMismatch) {
			t.Errorf("a login signed for %q examined for %s: %v", o, origin, err)
		}
	}
}

// TestOnlyConfiguredOrigins: the site's origins are fixed in Config. A
// login page of another site cannot have this server issue or accept a
// challenge for its own origin, even a well-formed one signed by a real
// person for it: before, the origin was whatever the caller passed (say
// the request's Origin header), and a login made for evil.example passed
// for it.
func TestOnlyConfiguredOrigins(t *testing.T) {
	p := newTestPKI(t)
	clock := clockAt(testT0)
	cert, key := p.person(t, gost3410.CurveTC26256A, nil)
	const evil = "https://evil.example"
	v := newVerifier(t, p, clock) // Origins: origin
	ctx := context.Background()
	if _, err := v.IssueChallenge(ctx, evil); !errors.Is(err, ErrOriginNotConfigured) {
		t.Fatalf("challenge for an unconfigured origin: %v", err)
	}
	// A challenge made with this server's key for evil (as the old
	// IssueChallenge made one for any origin), signed for evil.
	evilChallenge, err := v.challenges.issue(evil, testT0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	msg := agentSign(t, cert, key, login.NewDocument(evil, evilChallenge.Value, testT0), testT0, nil)
	if _, err := v.VerifyLogin(ctx, msg, evil); !errors.Is(err, ErrOriginNotConfigured) || !errors.Is(err, ErrOriginMismatch) {
		t.Fatalf("a login for an unconfigured origin: %v", err)
	}
	if _, err := v.VerifyLogin(ctx, msg, origin); !errors.Is(err, ErrOriginMismatch) {
		t.Fatalf("a login for evil presented for %s: %v", origin, err)
	}
	// A server without origins checks documents only.
	docs, err := New(Config{Roots: []*x509.Certificate{p.root}, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := docs.IssueChallenge(ctx, origin); !errors.Is(err, ErrOriginNotConfigured) {
		t.Fatalf("a challenge from a verifier without origins: %v", err)
	}
}

// TestOriginSpellings: "https://LK.example.ru:443" and
// "https://lk.example.ru" are one site, for the server's configuration,
// its calls and the signed document alike, because verify reads origins
// by the agent's rule (login.NormalizeOrigin). Before, a server configured
// with the first refused the agent's login (signed for the second) as
// ORIGIN_MISMATCH.
func TestOriginSpellings(t *testing.T) {
	p := newTestPKI(t)
	clock := clockAt(testT0)
	cert, key := p.person(t, gost3410.CurveTC26256A, nil)
	ctx := context.Background()
	const configured, agentSigns = "https://LK.example.ru:443", "https://lk.example.ru"
	if n, err := login.NormalizeOrigin(configured); err != nil || n != agentSigns {
		t.Fatalf("the agent signs %q for %q, not %q", n, configured, agentSigns)
	}
	v, err := New(Config{Origins: []string{configured}, Roots: []*x509.Certificate{p.root}, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ issueFor, signedFor, verifyFor string }{
		{configured, agentSigns, configured},
		{agentSigns, agentSigns, configured},
		{configured, agentSigns, agentSigns},
		{"https://lk.EXAMPLE.ru/", "https://LK.example.ru:443", "https://lk.example.ru:443"}, // another signer's spelling
	} {
		ch, err := v.IssueChallenge(ctx, c.issueFor)
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if ch.Origin != agentSigns {
			t.Errorf("%+v: challenge for %q", c, ch.Origin)
		}
		msg := agentSign(t, cert, key, login.NewDocument(c.signedFor, ch.Value, testT0), testT0, nil)
		if _, err := v.VerifyLogin(ctx, msg, c.verifyFor); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	// One site, one challenge: the other spelling is a replay.
	ch, _ := v.IssueChallenge(ctx, configured)
	msg := agentSign(t, cert, key, login.NewDocument(agentSigns, ch.Value, testT0), testT0, nil)
	if _, err := v.VerifyLogin(ctx, msg, agentSigns); err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyLogin(ctx, msg, configured); !errors.Is(err, ErrChallengeReplayed) {
		t.Fatalf("the same login under the other spelling: %v", err)
	}
}

// TestEveryCodeHasASentinel: errors.Is works for every code, and only for
// its own. REVOKED and REVOCATION_UNKNOWN had none.
func TestEveryCodeHasASentinel(t *testing.T) {
	sentinels := []*Error{ErrMalformed, ErrBadSignature, ErrContentMismatch, ErrUntrusted, ErrExpired,
		ErrNotYetValid, ErrKeyUsage, ErrChallengeUnknown, ErrChallengeExpired, ErrChallengeReplayed,
		ErrOriginMismatch, ErrClockSkew, ErrRevoked, ErrRevocationUnknown, ErrWrongPurpose, ErrUnsupportedAlgorithm,
		ErrBadTimestamp, ErrTimestampUntrusted}
	of := map[Code]*Error{}
	for _, s := range sentinels {
		if s.Err != nil || of[s.Code] != nil {
			t.Fatalf("sentinel %v: a cause, or a second one for its code", s.Code)
		}
		of[s.Code] = s
	}
	for code := range descriptions {
		s := of[code]
		if s == nil {
			t.Errorf("%s has no sentinel", code)
			continue
		}
		err := error(fail(code, errors.New("cause")))
		for _, other := range sentinels {
			if errors.Is(err, other) != (other == s) {
				t.Errorf("errors.Is(%s failure, %s) = %v", code, other.Code, !(other == s))
			}
		}
	}
	if len(of) != len(descriptions) {
		t.Errorf("%d sentinels for %d codes", len(of), len(descriptions))
	}
}

// revokedPKI serves the issuing CA's CRL, listing bad, from a
// distribution point the person's certificates name.
func revokedPKI(t *testing.T) (p *testPKI, good, bad *x509.Certificate, goodKey, badKey *gost3410.PrivateKey, crlURL string) {
	p = newTestPKI(t)
	var crl []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(crl) }))
	t.Cleanup(srv.Close)
	crlURL = srv.URL + "/inter.crl"
	withDP := func(c *x509.Certificate) { c.CRLDistributionPoints = []string{crlURL} }
	good, goodKey = p.person(t, gost3410.CurveTC26256A, withDP)
	bad, badKey = p.person(t, gost3410.CurveTC26256A, withDP)
	crl = p.issuing.CRL(t, []x509.RevocationListEntry{{SerialNumber: bad.SerialNumber, RevocationTime: testT0.Add(-time.Hour)}},
		testT0.Add(-time.Hour), testT0.Add(24*time.Hour))
	return
}

// TestRevocationOnByDefault: a Config that says nothing about revocation
// checks it: a revoked signer fails (REVOKED) and Result says how the
// others were found good. Before, nil meant no check, and a revoked
// certificate logged in.
func TestRevocationOnByDefault(t *testing.T) {
	p, good, bad, goodKey, badKey, crlURL := revokedPKI(t)
	clock := clockAt(testT0)
	v := newVerifier(t, p, clock)
	ctx := context.Background()
	sign := func(cert *x509.Certificate, key *gost3410.PrivateKey) []byte {
		ch, _ := v.IssueChallenge(ctx, origin)
		return agentSign(t, cert, key, login.NewDocument(origin, ch.Value, testT0), testT0, nil)
	}
	if _, err := v.VerifyLogin(ctx, sign(bad, badKey), origin); !errors.Is(err, ErrRevoked) {
		t.Fatalf("a revoked signer, default config: %v", err)
	}
	res, err := v.VerifyLogin(ctx, sign(good, goodKey), origin)
	if err != nil {
		t.Fatal(err)
	}
	// The signer from the CRL; the intermediate names no distribution
	// point: unknown, let through by policy prefer.
	if len(res.Revocation) != 2 ||
		res.Revocation[0].Source != revocation.CRL || res.Revocation[0].Where != crlURL || res.Revocation[0].Serial.Cmp(good.SerialNumber) != 0 ||
		res.Revocation[1].Source != revocation.Unknown || res.Revocation[1].Subject != p.inter.Subject.CommonName || res.Revocation[1].Err == nil {
		t.Fatalf("how revocation was established: %q", res.Revocation)
	}

	// Explicitly off: the revoked signer passes, and Result says nothing
	// was checked.
	off, _ := New(Config{Origins: []string{origin}, Roots: []*x509.Certificate{p.root}, Now: clock.now, Revocation: RevocationOff})
	ch, _ := off.IssueChallenge(ctx, origin)
	res, err = off.VerifyLogin(ctx, agentSign(t, bad, badKey, login.NewDocument(origin, ch.Value, testT0), testT0, nil), origin)
	if err != nil || len(res.Revocation) != 1 || res.Revocation[0].Source != revocation.NotChecked {
		t.Fatalf("RevocationOff: %v, %q", err, res.Revocation)
	}
}

// ctxChecker records the context each check gets.
type ctxChecker struct{ got []context.Context }

func (c *ctxChecker) CheckRevocation(ctx context.Context, chain []*x509.Certificate, at time.Time) ([]revocation.Status, error) {
	c.got = append(c.got, ctx)
	return nil, ctx.Err()
}

type ctxKey struct{}

// TestContextReachesRevocation: the caller's ctx is the one revocation
// checks get, from every call that checks a chain, and a cancelled ctx
// fails the call with its cause (not a verification code): a login server
// shutting down or a client gone does not wait for a CRL download.
func TestContextReachesRevocation(t *testing.T) {
	p := newTestPKI(t)
	clock := clockAt(testT0)
	cert, key := p.person(t, gost3410.CurveTC26256A, nil)
	chk := &ctxChecker{}
	v, err := New(Config{Origins: []string{origin}, Roots: []*x509.Certificate{p.root}, Now: clock.now, Revocation: chk})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.WithValue(context.Background(), ctxKey{}, "caller")
	ch, _ := v.IssueChallenge(ctx, origin)
	loginMsg := agentSign(t, cert, key, login.NewDocument(origin, ch.Value, testT0), testT0, nil)
	doc, err := cms.Sign([]byte("Договор № 1"), cert, key, &cms.SignOptions{SigningTime: testT0, Certificates: []*x509.Certificate{p.inter}})
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]func(context.Context) error{
		"VerifySignature": func(ctx context.Context) error { _, err := v.VerifySignature(ctx, doc, nil); return err },
		"ExamineLogin":    func(ctx context.Context) error { _, _, err := v.ExamineLogin(ctx, loginMsg, origin); return err },
		"VerifyLogin":     func(ctx context.Context) error { _, err := v.VerifyLogin(ctx, loginMsg, origin); return err },
	}
	for _, name := range []string{"VerifySignature", "ExamineLogin", "VerifyLogin"} {
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		chk.got = nil
		if err := calls[name](cancelled); !errors.Is(err, context.Canceled) {
			t.Errorf("%s, cancelled: %v", name, err)
		}
		chk.got = nil
		if err := calls[name](ctx); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if len(chk.got) != 1 || chk.got[0].Value(ctxKey{}) != "caller" {
			t.Errorf("%s: the revocation check got %v", name, chk.got)
		}
	}
}
