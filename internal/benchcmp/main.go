// Command benchcmp runs podpis's crypto benchmarks and OpenSSL's GOST engine
// on the same machine in the same run, one core each, and prints the ratios
// against the targets of the crypto issue (make bench).
//
// The engine is measured by enginebench.c, built here with the system C
// compiler against libcrypto (Debian libssl-dev).
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"time"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/crypto/streebog"
	"github.com/podpis/podpis/verify"
)

type figure struct {
	name     string
	ours     float64
	engine   float64
	unit     string
	target   float64 // minimum ours/engine
	absolute float64 // minimum ours, when the target is a rate
}

func main() {
	seconds := flag.Float64("seconds", 1, "time per engine figure and round")
	rounds := flag.Int("rounds", 3, "alternate ours and the engine this many times; keep the best of each")
	flag.Parse()
	dir, err := os.MkdirTemp("", "benchcmp")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	tool := filepath.Join(dir, "enginebench")
	src := sourcePath("enginebench.c")
	if out, err := exec.Command("cc", "-O2", "-o", tool, src, "-lcrypto").CombinedOutput(); err != nil {
		fail(fmt.Errorf("building enginebench (needs libssl-dev): %v\n%s", err, out))
	}
	engine := func(args ...string) []float64 {
		args = append(args, fmt.Sprint(*seconds))
		cmd := exec.Command(tool, args...)
		cmd.Env = append(os.Environ(), "OPENSSL_CONF=/dev/null")
		out, err := cmd.Output()
		if err != nil {
			fail(fmt.Errorf("enginebench %v: %v", args, err))
		}
		var vals []float64
		f := strings.Fields(string(out))
		for i := 1; i < len(f); i += 2 {
			var v float64
			fmt.Sscan(f[i], &v)
			vals = append(vals, v)
		}
		return vals
	}

	// This machine is shared: alternate ours and the engine and keep each
	// side's best figure, so that a noisy moment does not decide a ratio.
	var figs []figure
	for round := 0; round < *rounds; round++ {
		figs = mergeBest(figs, measureAll(engine))
	}
	report(figs)
}

func mergeBest(best, now []figure) []figure {
	if best == nil {
		return now
	}
	for i := range best {
		best[i].ours = max(best[i].ours, now[i].ours)
		best[i].engine = max(best[i].engine, now[i].engine)
	}
	return best
}

func measureAll(engine func(args ...string) []float64) []figure {
	var figs []figure
	for _, h := range []struct {
		name, md string
		sum      func([]byte)
	}{
		{"streebog256", "md_gost12_256", func(b []byte) { streebog.Sum256(b) }},
		{"streebog512", "md_gost12_512", func(b []byte) { streebog.Sum512(b) }},
	} {
		buf := make([]byte, 1<<20)
		r := testing.Benchmark(func(b *testing.B) {
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				h.sum(buf)
			}
		})
		ours := float64(r.Bytes) * float64(r.N) / r.T.Seconds() / 1e6
		figs = append(figs, figure{h.name, ours, engine("digest", h.md)[0], "MB/s", 1.0, 0})
	}
	for _, c := range []struct {
		alg, paramset string
		curve         *gost3410.Curve
		verifyTarget  float64
	}{
		{"gost2012_256", "TCA", gost3410.CurveTC26256A, 2},
		{"gost2012_512", "A", gost3410.CurveTC26512A, 3},
		{"gost2012_256", "A", gost3410.CurveCryptoProA, 0},
	} {
		sign, verify := measure(c.curve)
		e := engine("sign", c.alg, c.paramset)
		label := c.alg + " " + c.curve.Name()
		figs = append(figs,
			figure{label + " sign", sign, e[0], "/s", 1.0, 0},
			figure{label + " verify", verify, e[1], "/s", c.verifyTarget, 0})
		if c.curve == gost3410.CurveTC26256A {
			// A full CMS verification costs the engine at least three
			// verifications: signer, leaf by intermediate, intermediate by
			// root.
			figs = append(figs, figure{"verify CMS, 2-cert chain", measureCMS(), e[1] / 3, "/s", 0, 4000})
		}
	}
	return figs
}

// measureCMS times verify.VerifySignature on an attached 256-bit CMS whose
// message carries leaf and intermediate; the root is trusted.
func measureCMS() float64 {
	now := time.Now()
	mk := func(c *gost3410.Curve) *gost3410.PrivateKey {
		k, err := gost3410.GenerateKey(c, nil)
		if err != nil {
			fail(err)
		}
		return k
	}
	issue := func(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) *x509.Certificate {
		der, err := gostx509.CreateCertificate(nil, tmpl, parent, pub, signer)
		if err != nil {
			fail(err)
		}
		c, _ := x509.ParseCertificate(der)
		return c
	}
	ca := func(n int64, name string) *x509.Certificate {
		return &x509.Certificate{SerialNumber: big.NewInt(n), Subject: pkix.Name{CommonName: name},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign}
	}
	rootKey, interKey, key := mk(gost3410.CurveTC26512A), mk(gost3410.CurveTC26256A), mk(gost3410.CurveTC26256A)
	rootT := ca(1, "root")
	root := issue(rootT, rootT, rootKey.Public(), rootKey)
	inter := issue(ca(2, "inter"), root, interKey.Public(), rootKey)
	leaf := issue(&x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "leaf"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}, inter, key.Public(), interKey)
	msg, err := cms.Sign([]byte(`{"format":"podpis-auth:1"}`), leaf, key, &cms.SignOptions{Certificates: []*x509.Certificate{inter}})
	if err != nil {
		fail(err)
	}
	// Revocation off: the engine's figure checks none either.
	v, _ := verify.New(verify.Config{Roots: []*x509.Certificate{root}, Revocation: verify.RevocationOff})
	r := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			if _, err := v.VerifySignature(context.Background(), msg, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	return perSecond(r)
}

func report(figs []figure) {
	fmt.Printf("%-34s %12s %12s %7s %8s\n", "figure", "podpis", "engine", "ratio", "target")
	fmt.Println("(verify CMS: engine column is its 256-bit verify/s ÷ 3)")
	missed := 0
	for _, f := range figs {
		ratio := f.ours / f.engine
		target, mark := "", ""
		switch {
		case f.target > 0:
			target = fmt.Sprintf("≥%.1f×", f.target)
			if ratio < f.target {
				mark = "  MISSED"
				missed++
			}
		case f.absolute > 0:
			target = fmt.Sprintf("≥%.0f/s", f.absolute)
			if f.ours < f.absolute {
				mark = "  MISSED"
				missed++
			}
		}
		fmt.Printf("%-34s %12.1f %12.1f %6.2f× %8s%s\n", f.name+" "+f.unit, f.ours, f.engine, ratio, target, mark)
	}
	if missed > 0 {
		fmt.Printf("%d figure(s) below target\n", missed)
	}
}

func measure(c *gost3410.Curve) (signs, verifies float64) {
	key, err := gost3410.GenerateKey(c, nil)
	if err != nil {
		fail(err)
	}
	digest := make([]byte, c.Size())
	rand.Read(digest)
	sig, _ := key.Sign(nil, digest, nil)
	pub := key.PublicKey()
	rs := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			key.Sign(nil, digest, nil)
		}
	})
	rv := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			if !pub.Verify(digest, sig) {
				b.Fatal("verify failed")
			}
		}
	})
	return perSecond(rs), perSecond(rv)
}

func perSecond(r testing.BenchmarkResult) float64 {
	return float64(r.N) / r.T.Seconds()
}

// sourcePath finds a file of this directory whether run with go run from
// the repository root or from here.
func sourcePath(name string) string {
	for _, p := range []string{filepath.Join("internal", "benchcmp", "c", name), filepath.Join("c", name)} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	fail(fmt.Errorf("%s not found: run from the repository root", name))
	return ""
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchcmp:", err)
	os.Exit(1)
}
