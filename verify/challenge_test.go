package verify

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/login"
)

// TestChallengeOtherSiteNotBurnt (issue 18, item 10): a login for one site
// carrying the challenge issued for another fails, and the other site's
// person still logs in with it. The old store consumed the challenge first
// and checked its origin after.
func TestChallengeOtherSiteNotBurnt(t *testing.T) {
	p := newTestPKI(t)
	clock := clockAt(testT0)
	const siteB = "https://b.example.ru"
	v, err := New(Config{Origins: []string{origin, siteB}, Roots: []*x509.Certificate{p.root}, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cert, key := p.person(t, gost3410.CurveTC26256A, nil)
	c, err := v.IssueChallenge(ctx, siteB)
	if err != nil {
		t.Fatal(err)
	}
	forA := agentSign(t, cert, key, login.NewDocument(origin, c.Value, testT0), testT0, nil)
	if _, err := v.VerifyLogin(ctx, forA, origin); !errors.Is(err, ErrChallengeUnknown) {
		t.Fatalf("B's challenge in a login for A: %v", err)
	}
	forB := agentSign(t, cert, key, login.NewDocument(siteB, c.Value, testT0), testT0, nil)
	if _, err := v.VerifyLogin(ctx, forB, siteB); err != nil {
		t.Fatalf("B's own login after the attempt for A: %v", err)
	}
	if _, err := v.VerifyLogin(ctx, forB, siteB); !errors.Is(err, ErrChallengeReplayed) {
		t.Fatalf("replay: %v", err)
	}
}

// TestIssueStoresNothing (issue 18, item 11): a million challenges issued
// (more than the old store's 100,000 cap) leave the store empty, and a
// login right after succeeds; the store then holds that one login.
func TestIssueStoresNothing(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_001
	}
	p := newTestPKI(t)
	clock := clockAt(testT0)
	store := &MemoryStore{Now: clock.now}
	v, err := New(Config{Origins: []string{origin}, Roots: []*x509.Certificate{p.root}, Store: store, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < n; i++ {
		if _, err := v.IssueChallenge(ctx, origin); err != nil {
			t.Fatalf("issue %d: %v", i, err)
		}
	}
	if len(store.used) != 0 {
		t.Fatalf("issuing stored %d entries", len(store.used))
	}
	cert, key := p.person(t, gost3410.CurveTC26256A, nil)
	c, _ := v.IssueChallenge(ctx, origin)
	if _, err := v.VerifyLogin(ctx, agentSign(t, cert, key, login.NewDocument(origin, c.Value, testT0), testT0, nil), origin); err != nil {
		t.Fatalf("login after %d issues: %v", n, err)
	}
	if len(store.used) != 1 {
		t.Fatalf("store holds %d after one login", len(store.used))
	}
}

// TestReplayAfterForgetting: once the store forgets a used challenge, the
// challenge itself has expired, so a replay is still refused.
func TestReplayAfterForgetting(t *testing.T) {
	p := newTestPKI(t)
	clock := clockAt(testT0)
	store := &MemoryStore{Now: clock.now}
	v, _ := New(Config{Origins: []string{origin}, Roots: []*x509.Certificate{p.root}, Store: store, Now: clock.now, MaxClockSkew: time.Hour})
	ctx := context.Background()
	cert, key := p.person(t, gost3410.CurveTC26256A, nil)
	c, _ := v.IssueChallenge(ctx, origin)
	msg := agentSign(t, cert, key, login.NewDocument(origin, c.Value, testT0), testT0, nil)
	if _, err := v.VerifyLogin(ctx, msg, origin); err != nil {
		t.Fatal(err)
	}
	clock.add(10*time.Minute + time.Second) // past expiry + TTL: forgettable
	// Another login makes the store sweep.
	for i := 0; i < 1100; i++ {
		store.Consume(ctx, fmt.Sprint(i), clock.now().Add(time.Minute))
	}
	if _, ok := store.used[c.Value]; ok {
		t.Fatal("not forgotten")
	}
	if _, err := v.VerifyLogin(ctx, msg, origin); !errors.Is(err, ErrChallengeExpired) {
		t.Fatalf("replay after the store forgot: %v", err)
	}
}

func TestMemoryStore(t *testing.T) {
	clock := clockAt(testT0)
	s := &MemoryStore{Now: clock.now}
	ctx := context.Background()
	if err := s.Consume(ctx, "a", testT0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.Consume(ctx, "a", testT0.Add(time.Minute)); !errors.Is(err, ErrChallengeReplayed) {
		t.Fatalf("second consume: %v", err)
	}
	// Forgotten values are swept: what the store holds is bounded by
	// what is live, not by how many were ever used.
	for i := 0; i < 10_000; i++ {
		s.Consume(ctx, fmt.Sprint("old", i), testT0.Add(time.Minute))
	}
	clock.add(2 * time.Minute)
	for i := 0; i < 10_000; i++ {
		s.Consume(ctx, fmt.Sprint("new", i), clock.now().Add(time.Minute))
	}
	if n := len(s.used); n > 2*10_000 || n < 10_000 {
		t.Fatalf("%d remembered with 10,000 live", n)
	}
	if _, ok := s.used["old0"]; ok {
		t.Fatal("an expired value survived a sweep")
	}
}

// TestChallengeKey: servers sharing a key accept each other's challenges;
// a short key is refused.
func TestChallengeKey(t *testing.T) {
	p := newTestPKI(t)
	clock := clockAt(testT0)
	if _, err := New(Config{Origins: []string{origin}, Roots: []*x509.Certificate{p.root}, ChallengeKey: make([]byte, 31)}); err == nil {
		t.Fatal("31-byte key accepted")
	}
	key := []byte("a key of thirty-two bytes, shared")
	store := &MemoryStore{Now: clock.now}
	a, _ := New(Config{Origins: []string{origin}, Roots: []*x509.Certificate{p.root}, ChallengeKey: key, Store: store, Now: clock.now})
	b, _ := New(Config{Origins: []string{origin}, Roots: []*x509.Certificate{p.root}, ChallengeKey: key, Store: store, Now: clock.now})
	ctx := context.Background()
	cert, priv := p.person(t, gost3410.CurveTC26256A, nil)
	c, _ := a.IssueChallenge(ctx, origin)
	msg := agentSign(t, cert, priv, login.NewDocument(origin, c.Value, testT0), testT0, nil)
	if _, err := b.VerifyLogin(ctx, msg, origin); err != nil {
		t.Fatalf("the other server: %v", err)
	}
	if _, err := a.VerifyLogin(ctx, msg, origin); !errors.Is(err, ErrChallengeReplayed) {
		t.Fatalf("replay on the issuer: %v", err)
	}
}

// TestExamineLogin: everything but the challenge is checked; the document
// comes back for the challenge to be looked up.
func TestExamineLogin(t *testing.T) {
	p := newTestPKI(t)
	clock := clockAt(testT0)
	v := newVerifier(t, p, clock)
	cert, key := p.person(t, gost3410.CurveTC26256A, nil)
	msg := agentSign(t, cert, key, login.NewDocument(origin, "made-up", testT0), testT0, nil)
	for i := 0; i < 2; i++ { // nothing consumed
		res, doc, err := v.ExamineLogin(context.Background(), msg, origin)
		if err != nil || doc.Challenge != "made-up" || res.Identity.SNILS != "12345678901" {
			t.Fatalf("examine: %v, %+v", err, doc)
		}
	}
	if _, _, err := v.ExamineLogin(context.Background(), msg, "https://evil.example"); !errors.Is(err, ErrOriginMismatch) {
		t.Fatalf("other origin: %v", err)
	}
	data, _ := cms.Sign(login.NewDocument(origin, "x", testT0).Marshal(), cert, key, &cms.SignOptions{SigningTime: testT0})
	if _, _, err := v.ExamineLogin(context.Background(), data, origin); !errors.Is(err, ErrWrongPurpose) {
		t.Fatalf("id-data: %v", err)
	}
	if _, err := v.VerifyLogin(context.Background(), msg, origin); !errors.Is(err, ErrChallengeUnknown) {
		t.Fatalf("VerifyLogin of a made-up challenge: %v", err)
	}
}
