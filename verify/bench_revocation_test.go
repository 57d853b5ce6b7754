package verify_test

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/verify"
	"github.com/podpis/podpis/verify/revocation"
)

// The figures issue 18 asks for: logins per second per core (one
// goroutine; run with -cpu 1 for a single core) with and without
// revocation, and with many distinct signers. A "login" is VerifySignature
// of an attached CMS by a GOST TC26 256 A key whose message carries the
// signer's certificate and its intermediate (TC26 256 A) under a TC26
// 512 A root.
//
// Each iteration is a pair: a baseline login, then the case's login, each
// timed alone, so that both see the same load on a shared machine (the
// ratio, x_baseline, is what the "≥ 0.8×" is about). ns/op is the
// pair's; logins/s and base_logins/s are each half's own rate.

var benchT0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// pairs runs b's loop over (baseline, case) login pairs and reports the
// rates and their ratio.
func pairs(b *testing.B, baseline, login func(i int) error) {
	b.ReportAllocs()
	var inBase, inCase time.Duration
	i := 0
	for b.Loop() {
		t0 := time.Now()
		if err := baseline(i); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := login(i); err != nil {
			b.Fatal(err)
		}
		inBase += t1.Sub(t0)
		inCase += time.Since(t1)
		i++
	}
	b.ReportMetric(float64(b.N)/inCase.Seconds(), "logins/s")
	b.ReportMetric(float64(b.N)/inBase.Seconds(), "base_logins/s")
	b.ReportMetric(inBase.Seconds()/inCase.Seconds(), "x_baseline")
}

type benchPKI struct {
	root, inter *testpki.Issuer
}

func newBenchPKI(b testing.TB) *benchPKI {
	root := testpki.Root(b, gost3410.CurveTC26512A, "Корневой УЦ", benchT0)
	return &benchPKI{root: root, inter: root.SubCA(b, gost3410.CurveTC26256A, "Выпускающий УЦ", benchT0)}
}

// login signs a login-sized document for a new TC26 256 A key; edit may
// adjust the signer's certificate.
func (p *benchPKI) login(b testing.TB, name string, edit func(*x509.Certificate)) []byte {
	cert, key := p.inter.Person(b, gost3410.CurveTC26256A, pkix.Name{CommonName: name}, benchT0, edit)
	msg, err := cms.Sign([]byte(`{"format":"podpis-bench","challenge":"AAAAAAAAAAAAAAAAAAAAAA"}`), cert, key,
		&cms.SignOptions{SigningTime: benchT0, Certificates: []*x509.Certificate{p.inter.Cert}})
	if err != nil {
		b.Fatal(err)
	}
	return msg
}

// verifier checks revocation with r; nil means not at all
// (verify.RevocationOff), the baseline.
func (p *benchPKI) verifier(b testing.TB, r *revocation.Checker) *verify.Verifier {
	cfg := verify.Config{Roots: []*x509.Certificate{p.root.Cert}, Now: func() time.Time { return benchT0 }, Revocation: verify.RevocationOff}
	if r != nil {
		cfg.Revocation = r
	}
	v, err := verify.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// crlEntries lists n serial numbers that no test certificate has.
func crlEntries(n int) []x509.RevocationListEntry {
	e := make([]x509.RevocationListEntry, n)
	for i := range e {
		e[i] = x509.RevocationListEntry{SerialNumber: big.NewInt(1<<40 + int64(i)), RevocationTime: benchT0.Add(-time.Hour), ReasonCode: 1}
	}
	return e
}

// BenchmarkLoginsRevocation: logins with the intermediate's and the
// root's CRLs from files, empty and with 100,000 entries, and with the
// intermediate's 100,000-entry CRL from a distribution point (the root's
// from a file), each paired with a login checked without revocation. The
// signer is never listed, so every login walks the whole check.
func BenchmarkLoginsRevocation(b *testing.B) {
	p := newBenchPKI(b)
	dir := b.TempDir()
	week := benchT0.Add(7 * 24 * time.Hour)
	write := func(name string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, der, 0o600); err != nil {
			b.Fatal(err)
		}
		return path
	}
	rootCRL := write("root.crl", p.root.CRL(b, nil, benchT0.Add(-time.Hour), week))
	emptyCRL := write("empty.crl", p.inter.CRL(b, nil, benchT0.Add(-time.Hour), week))
	bigDER := p.inter.CRL(b, crlEntries(100_000), benchT0.Add(-time.Hour), week)
	bigCRL := write("big.crl", bigDER)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(bigDER) }))
	defer srv.Close()

	plain := p.login(b, "Без точки распространения", nil)
	withDP := p.login(b, "С точкой распространения", func(c *x509.Certificate) { c.CRLDistributionPoints = []string{srv.URL + "/inter.crl"} })
	none := p.verifier(b, nil)
	if _, err := none.VerifySignature(context.Background(), plain, nil); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		files []string
		msg   []byte
	}{
		{"crl-file-empty", []string{emptyCRL, rootCRL}, plain},
		{"crl-file-100k", []string{bigCRL, rootCRL}, plain},
		{"crl-dp-100k", []string{rootCRL}, withDP},
	} {
		r, err := revocation.New(revocation.Config{Policy: revocation.Require, CRLFiles: c.files, NoOCSP: true})
		if err != nil {
			b.Fatal(err)
		}
		v := p.verifier(b, r)
		if res, err := v.VerifySignature(context.Background(), c.msg, nil); err != nil {
			b.Fatalf("%s: %v", c.name, err)
		} else if len(res.Revocation) != 2 {
			b.Fatalf("%s: revocation established for %q, want signer and intermediate", c.name, res.Revocation)
		}
		b.Run(c.name, func(b *testing.B) {
			pairs(b, func(int) error { _, err := none.VerifySignature(context.Background(), plain, nil); return err },
				func(int) error { _, err := v.VerifySignature(context.Background(), c.msg, nil); return err })
		})
	}
}

// distinctSigners: logins of n different people (own key and certificate
// each, GOST TC26 256 A, issued by the same intermediate), made once per
// process and shared by the sub-benchmarks.
var distinctSigners struct {
	once sync.Once
	pki  *benchPKI
	msgs [][]byte
}

const maxDistinctSigners = 100_000

func signers(b *testing.B) (*benchPKI, [][]byte) {
	d := &distinctSigners
	d.once.Do(func() {
		start := time.Now()
		d.pki = newBenchPKI(b)
		d.msgs = make([][]byte, maxDistinctSigners)
		var wg sync.WaitGroup
		workers := runtime.NumCPU() // not -cpu's GOMAXPROCS: making them is not measured
		for w := range workers {
			wg.Go(func() {
				for i := w; i < len(d.msgs); i += workers {
					d.msgs[i] = d.pki.login(b, fmt.Sprintf("Подписант %d", i), nil)
				}
			})
		}
		wg.Wait()
		b.Logf("%d signers made in %v", len(d.msgs), time.Since(start).Round(time.Millisecond))
	})
	return d.pki, d.msgs
}

// BenchmarkLoginsDistinctSigners: 1,000 and 100,000 signers taking turns,
// after each has logged in once (a running server's steady state), paired
// with logins of one signer: the issuer links verified once per signer
// must stay remembered.
func BenchmarkLoginsDistinctSigners(b *testing.B) {
	p, msgs := signers(b)
	one := p.verifier(b, nil)
	if _, err := one.VerifySignature(context.Background(), msgs[0], nil); err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1000, maxDistinctSigners} {
		v := p.verifier(b, nil)
		for _, m := range msgs[:n] {
			if _, err := v.VerifySignature(context.Background(), m, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprintf("signers-%d", n), func(b *testing.B) {
			pairs(b, func(int) error { _, err := one.VerifySignature(context.Background(), msgs[0], nil); return err },
				func(i int) error { _, err := v.VerifySignature(context.Background(), msgs[i%n], nil); return err })
		})
	}
}
