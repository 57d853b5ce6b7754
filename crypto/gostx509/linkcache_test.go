package gostx509

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
)

func nthKey(i int) linkKey {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	return sha256.Sum256(b[:])
}

// TestLinkCacheHoldsManySigners: 100,000 people taking turns all stay
// remembered. The map this replaced was cleared at 4,096 links, so with
// more signers than that every login verified its issuer link again.
func TestLinkCacheHoldsManySigners(t *testing.T) {
	var c linkCache
	const n = 100_000
	for i := range n {
		c.add(nthKey(i))
	}
	for round := range 3 {
		for i := range n {
			if !c.has(nthKey(i)) {
				t.Fatalf("round %d: link %d of %d forgotten", round, i, n)
			}
		}
	}
}

// TestLinkCacheEvicts: far past its capacity the cache stays bounded,
// still holds the most recent links, has forgotten the oldest, and keeps
// a link that every login uses (intermediate to root) however many others
// pass through.
func TestLinkCacheEvicts(t *testing.T) {
	var c linkCache
	const total, recent = 1_000_000, 100_000
	hot := nthKey(-1)
	c.add(hot)
	for i := range total {
		c.add(nthKey(i))
		if i%1000 == 0 && !c.has(hot) {
			t.Fatalf("the link every login uses was evicted after %d others", i)
		}
	}
	if n, max := c.len(), 2*linkShards*linkGeneration; n > max {
		t.Errorf("%d links held, want at most %d", n, max)
	}
	for i := total - recent; i < total; i++ {
		if !c.has(nthKey(i)) {
			t.Fatalf("recent link %d forgotten", i)
		}
	}
	forgotten := 0
	for i := range recent {
		if !c.has(nthKey(i)) {
			forgotten++
		}
	}
	if forgotten != recent {
		t.Errorf("%d of the %d oldest links still held after %d newer ones", recent-forgotten, recent, total)
	}
}

// TestLinkCacheConcurrent: adds and lookups from many goroutines (run
// under -race) lose nothing below the capacity.
func TestLinkCacheConcurrent(t *testing.T) {
	var c linkCache
	var wg sync.WaitGroup
	const workers, each = 8, 5000
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				k := nthKey(w*each + i)
				c.add(k)
				if !c.has(k) {
					t.Errorf("link %d lost right after adding it", w*each+i)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := c.len(); n != workers*each {
		t.Errorf("%d links held, want %d", n, workers*each)
	}
}

// TestChainRemembersManyLinks: 6,000 people under one CA log in, then all
// log in again with the CA's certificate object carrying a wrong parsed
// key (its bytes, and so the cache key, unchanged): each login can only
// pass from a remembered link. The map this cache replaced was cleared at
// 4,096 links, so most of them were verified again and failed here.
func TestChainRemembersManyLinks(t *testing.T) {
	const n = 6000
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CA"}, NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, _ := x509.CreateCertificate(rand.Reader, caT, caT, caKey.Public(), caKey)
	caCert, _ := x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaves := make([]*x509.Certificate, n)
	for i := range leaves {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 2)), Subject: pkix.Name{CommonName: "Person"},
			NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, leafKey.Public(), caKey)
		if err != nil {
			t.Fatal(err)
		}
		leaves[i], _ = x509.ParseCertificate(der)
	}
	v := &ChainVerifier{}
	for _, l := range leaves {
		if _, err := v.VerifyChain(l, ChainOptions{Roots: []*x509.Certificate{caCert}, At: t0}); err != nil {
			t.Fatal(err)
		}
	}
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	lying := *caCert
	lying.PublicKey = otherKey.Public()
	forgotten := 0
	for _, l := range leaves {
		if _, err := v.VerifyChain(l, ChainOptions{Roots: []*x509.Certificate{&lying}, At: t0}); err != nil {
			forgotten++
		}
	}
	if forgotten != 0 {
		t.Errorf("%d of %d verified links forgotten", forgotten, n)
	}
}

// TestCachedLinkTamper: once a chain's links are remembered, a certificate
// differing from the verified one in any byte (its signature, its serial
// number) or an issuer with another key of the same name gets no credit
// from them; and the checks that depend on time and on the chain's shape
// still run on every call.
func TestCachedLinkTamper(t *testing.T) {
	root := issue(t, gost3410.CurveTC26512A, "Root", nil, ca(-1))
	inter := issue(t, gost3410.CurveTC26256A, "Intermediate", root, ca(0))
	leaf := issue(t, gost3410.CurveTC26256A, "Leaf", inter, nil)
	inter2 := issue(t, gost3410.CurveTC26256A, "Second level", inter, ca(-1)) // inter allows no CA below it
	deep := issue(t, gost3410.CurveTC26256A, "Too deep", inter2, nil)
	// Same name and key identifier as inter, another key, signed by nobody trusted.
	fakeInter := issue(t, gost3410.CurveTC26256A, "Intermediate", nil, func(c *x509.Certificate) {
		ca(0)(c)
		c.SubjectKeyId = inter.cert.SubjectKeyId
	})
	fakeLeaf := issue(t, gost3410.CurveTC26256A, "Leaf", fakeInter, func(c *x509.Certificate) {
		c.SerialNumber = leaf.cert.SerialNumber
		c.AuthorityKeyId = inter.cert.SubjectKeyId
	})

	opts := ChainOptions{Roots: []*x509.Certificate{root.cert}, Intermediates: []*x509.Certificate{inter.cert, inter2.cert}, At: t0}
	v := &ChainVerifier{}
	if _, err := v.VerifyChain(leaf.cert, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyChain(deep.cert, opts); !errors.Is(err, ErrPathLength) {
		t.Fatalf("path length, first time: %v", err)
	}
	held := v.links.len()
	if _, err := v.VerifyChain(leaf.cert, opts); err != nil || v.links.len() != held {
		t.Fatalf("second verification: %v, %d links held (was %d)", err, v.links.len(), held)
	}

	tamper := func(der []byte, at int) *x509.Certificate {
		b := bytes.Clone(der)
		b[at] ^= 1
		c, err := x509.ParseCertificate(b)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// The serial number's content octets: INTEGER, length, value.
	sn := leaf.cert.SerialNumber.Bytes()
	serialAt := bytes.Index(leaf.cert.Raw, append([]byte{0x02, byte(len(sn))}, sn...)) + 2
	withInter := func(inters ...*x509.Certificate) ChainOptions {
		o := opts
		o.Intermediates = inters
		return o
	}
	for _, c := range []struct {
		name string
		leaf *x509.Certificate
		opts ChainOptions
		want error
	}{
		{"signature byte flipped", tamper(leaf.cert.Raw, len(leaf.cert.Raw)-1), opts, ErrCertSignature},
		{"serial number byte flipped", tamper(leaf.cert.Raw, serialAt), opts, ErrCertSignature},
		{"leaf of an issuer of the same name", fakeLeaf.cert, opts, ErrCertSignature},
		{"issuer of the same name offered", fakeLeaf.cert, withInter(fakeInter.cert), ErrUntrusted},
		{"expired since", leaf.cert, func() ChainOptions { o := opts; o.At = t0.Add(48 * time.Hour); return o }(), ErrExpired},
		{"path length, links remembered", deep.cert, opts, ErrPathLength},
		{"EKU now required", leaf.cert, func() ChainOptions {
			o := opts
			o.ExtKeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
			return o
		}(), ErrKeyUsage},
	} {
		if _, err := v.VerifyChain(c.leaf, c.opts); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

// BenchmarkLinkCache: lookups of remembered links from all cores at once
// (a login server under load), 100,000 links held.
func BenchmarkLinkCache(b *testing.B) {
	var c linkCache
	const n = 100_000
	keys := make([]linkKey, n)
	for i := range keys {
		keys[i] = nthKey(i)
		c.add(keys[i])
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if !c.has(keys[i%n]) {
				b.Fatal("forgotten")
			}
			i += 7919
		}
	})
}
