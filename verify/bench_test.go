package verify

import (
	"context"
	"crypto/x509"
	"runtime"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/login"
)

// BenchmarkVerifyCMS is the full verification of an attached 256-bit CMS
// whose message carries a two-certificate chain: parsing, signed
// attributes, the signer's signature and the chain (whose issuer links are
// remembered after the first run, as in a running server).
func BenchmarkVerifyCMS(b *testing.B) {
	msg, v := benchMessage(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.VerifySignature(context.Background(), msg, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func benchMessage(b testing.TB) ([]byte, *Verifier) {
	p := newTestPKI(b)
	cert, key := p.person(b, gost3410.CurveTC26256A, nil)
	msg, err := cms.Sign([]byte(`{"title":"Договор"}`), cert, key, &cms.SignOptions{Certificates: []*x509.Certificate{p.inter}})
	if err != nil {
		b.Fatal(err)
	}
	v, _ := New(Config{Origins: []string{origin}, Roots: []*x509.Certificate{p.root}, Now: func() time.Time { return testT0 }})
	return msg, v
}

// BenchmarkLogin is a whole login on one server: a challenge issued, the
// agent's CMS (made beforehand, one per login) verified, the challenge
// consumed in the memory store.
func BenchmarkLogin(b *testing.B) {
	p := newTestPKI(b)
	cert, key := p.person(b, gost3410.CurveTC26256A, nil)
	v, _ := New(Config{Origins: []string{origin}, Roots: []*x509.Certificate{p.root}, Now: func() time.Time { return testT0 }})
	ctx := context.Background()
	msgs := make([][]byte, 256)
	for i := range msgs {
		c, err := v.IssueChallenge(ctx, origin)
		if err != nil {
			b.Fatal(err)
		}
		msgs[i] = agentSign(b, cert, key, login.NewDocument(origin, c.Value, testT0), testT0, nil)
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if i == len(msgs) {
			// Fresh challenges, off the clock.
			b.StopTimer()
			for j := range msgs {
				c, _ := v.IssueChallenge(ctx, origin)
				msgs[j] = agentSign(b, cert, key, login.NewDocument(origin, c.Value, testT0), testT0, nil)
			}
			i = 0
			b.StartTimer()
		}
		if _, err := v.VerifyLogin(ctx, msgs[i], origin); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
}

// BenchmarkIssueChallenge: what a flood of challenge requests costs.
func BenchmarkIssueChallenge(b *testing.B) {
	p := newTestPKI(b)
	v, _ := New(Config{Origins: []string{origin}, Roots: []*x509.Certificate{p.root}})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.IssueChallenge(ctx, origin); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMillionIssuesThenLogin (issue 18, item 11): 1,000,000
// challenges issued, then one login; it reports the time of the issues,
// the heap in use after them and whether the login went through.
func BenchmarkMillionIssuesThenLogin(b *testing.B) {
	p := newTestPKI(b)
	cert, key := p.person(b, gost3410.CurveTC26256A, nil)
	ctx := context.Background()
	for b.Loop() {
		store := &MemoryStore{Now: func() time.Time { return testT0 }}
		v, _ := New(Config{Origins: []string{origin}, Roots: []*x509.Certificate{p.root}, Store: store, Now: func() time.Time { return testT0 }})
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		for range 1_000_000 {
			v.IssueChallenge(ctx, origin)
		}
		issued := time.Since(start)
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		c, _ := v.IssueChallenge(ctx, origin)
		msg := agentSign(b, cert, key, login.NewDocument(origin, c.Value, testT0), testT0, nil)
		start = time.Now()
		if _, err := v.VerifyLogin(ctx, msg, origin); err != nil {
			b.Fatalf("login after a million issues: %v", err)
		}
		b.ReportMetric(issued.Seconds(), "s/1M-issues")
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/1e6, "heap-MB-after")
		b.ReportMetric(float64(time.Since(start).Microseconds()), "µs-login")
		b.ReportMetric(float64(len(store.used)), "stored")
	}
}
