package verify_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"testing"
	"time"

	"github.com/podpis/podpis/cades"
	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/tsp"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/internal/testtsa"
	"github.com/podpis/podpis/verify"
	"github.com/podpis/podpis/verify/revocation"
)

// ltFixture: a GOST root and sub CA publishing CRLs over HTTP, a signer
// under the sub CA, a GOST TSA.
type ltFixture struct {
	root, sub       *testpki.Issuer
	rootRev, subRev *testpki.RevServer
	cert            *x509.Certificate
	key             *gost3410.PrivateKey
	tsa             *testtsa.TSA
	content         []byte
}

func newLTFixture(t *testing.T) *ltFixture { return newLTFixtureB(t) }

func newLTFixtureB(t testing.TB) *ltFixture {
	t.Helper()
	now := time.Now()
	c := gost3410.CurveTC26256A
	f := &ltFixture{content: []byte("доверенность № 1")}
	f.root = testpki.Root(t, c, "Корневой УЦ", now)
	f.rootRev = f.root.Serve(t)
	f.sub = f.root.SubCA(t, c, "УЦ", now)
	tmpl := testpki.CATemplate("УЦ", now)
	tmpl.CRLDistributionPoints = []string{f.rootRev.CRLURL}
	f.sub.Cert = testpki.Issue(t, tmpl, f.root.Cert, f.sub.Key.Public(), f.root.Key)
	f.subRev = f.sub.Serve(t)
	f.cert, f.key = f.sub.Person(t, c, pkix.Name{CommonName: "Сидоров Иван"}, now, func(x *x509.Certificate) {
		x.CRLDistributionPoints = []string{f.subRev.CRLURL}
	})
	f.tsa = testtsa.Start(t, testtsa.GOST256)
	return f
}

// sign makes a detached signature at level.
func (f *ltFixture) sign(t *testing.T, level cades.Level) []byte {
	t.Helper()
	msg, err := cms.Sign(f.content, f.cert, f.key, &cms.SignOptions{Detached: true, Certificates: []*x509.Certificate{f.sub.Cert}})
	if err != nil {
		t.Fatal(err)
	}
	msg, err = cades.Extend(context.Background(), msg, level, cades.Options{
		TSA: &tsp.Client{URL: f.tsa.URL}, Certificates: []*x509.Certificate{f.root.Cert}})
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// verifier verifies at now with revocation checked online (policy
// Require: an unanswered question fails), trusting the fixture's TSA
// unless tsaRoots says otherwise.
func (f *ltFixture) verifier(t *testing.T, now time.Time, tsaRoots ...*x509.Certificate) *verify.Verifier {
	t.Helper()
	if tsaRoots == nil {
		tsaRoots = []*x509.Certificate{f.tsa.Root}
	}
	chk, err := revocation.New(revocation.Config{Policy: revocation.Require})
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.New(verify.Config{Roots: []*x509.Certificate{f.root.Cert}, TimestampRoots: tsaRoots,
		Revocation: chk, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (f *ltFixture) check(v *verify.Verifier, msg []byte) (*verify.Signer, error) {
	doc, err := v.VerifyDocument(context.Background(), bytes.NewReader(msg), bytes.NewReader(f.content))
	if err != nil {
		return nil, err
	}
	return &doc.Signers[0], doc.Signers[0].Err
}

// TestProvenTime: with a signature-time-stamp the signer's certificate is
// judged at the proven time. Revoked after it, or expired since, the
// signature stands (without the timestamp it does not); revoked before
// it, it fails.
func TestProvenTime(t *testing.T) {
	f := newLTFixture(t)
	bes, tsig := f.sign(t, cades.BES), f.sign(t, cades.T)
	// Revoked a little after signing (the timestamp's time has seconds).
	f.subRev.Revoke(f.cert.SerialNumber, time.Now().Add(2*time.Second))
	later := time.Now().Add(10 * time.Second)
	s, err := f.check(f.verifier(t, later), tsig)
	if err != nil {
		t.Fatalf("CAdES-T of a certificate revoked after the proven time: %v", err)
	}
	if s.Level != "t" || len(s.Timestamps) != 1 || s.Timestamps[0].TSA == "" || time.Since(s.Timestamps[0].Time) > time.Minute {
		t.Fatalf("level %q, timestamps %+v", s.Level, s.Timestamps)
	}
	if _, err := f.check(f.verifier(t, later), bes); !errors.Is(err, verify.ErrRevoked) {
		t.Fatalf("CAdES-BES of the same, verified after the revocation: %v, want REVOKED", err)
	}

	// Revoked before signing: the timestamp proves nothing in its favour.
	g := newLTFixture(t)
	g.subRev.Revoke(g.cert.SerialNumber, time.Now().Add(-time.Hour))
	if _, err := g.check(g.verifier(t, time.Now()), g.sign(t, cades.T)); !errors.Is(err, verify.ErrRevoked) {
		t.Fatalf("CAdES-T of a certificate revoked before the proven time: %v, want REVOKED", err)
	}
}

// TestXL1Offline: an X Long Type 1 signature verifies from what it
// carries once the CA's CRL servers and the TSA are gone, years later,
// after the signer's certificate has expired; the revocation source is
// the signature. Tampering with what it carries is refused.
func TestXL1Offline(t *testing.T) {
	f := newLTFixture(t)
	xl := f.sign(t, cades.XL1)
	f.rootRev.Close()
	f.subRev.Close()
	afterExpiry := f.cert.NotAfter.Add(24 * time.Hour)
	s, err := f.check(f.verifier(t, afterExpiry), xl)
	if err != nil {
		t.Fatalf("X Long Type 1 offline, after expiry: %v", err)
	}
	if s.Level != "xl1" || len(s.Timestamps) != 2 || s.Timestamps[1].Kind != "cades-c" {
		t.Fatalf("level %q, timestamps %+v", s.Level, s.Timestamps)
	}
	if len(s.Revocation) != 2 || s.Revocation[0].Source != revocation.EmbeddedCRL || s.Revocation[1].Source != revocation.EmbeddedCRL {
		t.Fatalf("revocation %v, want both from the signature's CRLs", s.Revocation)
	}
	// The same signature as CAdES-T only needs the (gone) servers.
	if _, err := f.check(f.verifier(t, time.Now()), f.sign(t, cades.T)); !errors.Is(err, verify.ErrRevocationUnknown) {
		t.Fatalf("CAdES-T with the CRL servers gone: %v, want REVOCATION_UNKNOWN", err)
	}

	sd, _ := cms.Parse(xl)
	v, _, _ := cades.ReadValues(sd.Signers[0])
	crl := v.CRLs[0]
	tampered := func(edit func([]byte)) []byte {
		b := bytes.Clone(xl)
		edit(b)
		return b
	}
	for _, c := range []struct {
		name string
		msg  []byte
		want error
	}{
		// A CRL whose bytes differ from the one referenced.
		{"CRL changed", tampered(func(b []byte) { i := bytes.Index(b, crl); b[i+len(crl)-1] ^= 1 }), verify.ErrBadTimestamp},
		// The references changed after the CAdES-C timestamp.
		{"references changed", tampered(func(b []byte) {
			oid := []byte{0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x15}
			i := bytes.Index(b, oid)
			b[i+len(oid)+40] ^= 1 // inside the first OtherCertID's hash
		}), verify.ErrBadTimestamp},
	} {
		if _, err := f.check(f.verifier(t, afterExpiry), c.msg); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// The CAdES-C timestamp turned into an unknown attribute: what is
	// left is an X Long (as IIT writes them), and the verdict says so —
	// never xl1.
	stripped := tampered(func(b []byte) {
		oid := []byte{0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x19}
		i := bytes.Index(b, oid)
		b[i+len(oid)-1] = 0x63
	})
	s, err = f.check(f.verifier(t, afterExpiry), stripped)
	if err != nil {
		t.Fatalf("without its CAdES-C timestamp: %v", err)
	}
	if s.Level != "xl" || len(s.Timestamps) != 1 {
		t.Fatalf("without its CAdES-C timestamp: level %q, timestamps %+v", s.Level, s.Timestamps)
	}
}

// TestTimestampRefused: a timestamp from a TSA not trusted, and a token
// over another signature grafted on, are refused.
func TestTimestampRefused(t *testing.T) {
	f := newLTFixture(t)
	tsig := f.sign(t, cades.T)
	stranger := testtsa.Start(t, testtsa.GOST256)
	if _, err := f.check(f.verifier(t, time.Now(), stranger.Root), tsig); !errors.Is(err, verify.ErrTimestampUntrusted) {
		t.Fatalf("untrusted TSA: %v, want TIMESTAMP_UNTRUSTED", err)
	}
	// Another signature's token on this one.
	other := f.sign(t, cades.T)
	sd, _ := cms.Parse(other)
	token := sd.Signers[0].Unsigned(cades.OIDSignatureTimeStamp)[0]
	bes := f.sign(t, cades.BES)
	grafted, err := cms.AddUnsigned(bes, 0, cms.MarshalAttribute(cades.OIDSignatureTimeStamp, token))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.check(f.verifier(t, time.Now()), grafted); !errors.Is(err, verify.ErrBadTimestamp) {
		t.Fatalf("a token over another signature: %v, want BAD_TIMESTAMP", err)
	}
	// A timestamp from the verifier's future proves nothing.
	if _, err := f.check(f.verifier(t, time.Now().Add(-time.Hour)), tsig); !errors.Is(err, verify.ErrBadTimestamp) {
		t.Fatalf("a timestamp an hour ahead of the verifier: %v, want BAD_TIMESTAMP", err)
	}
	// The same signature without it verifies: the refusal is the token's.
	if _, err := f.check(f.verifier(t, time.Now()), bes); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkTimestampCost: what a CAdES-T and an X Long Type 1 cost next
// to the CAdES-BES signature they extend (a GOST-256 key; the test TSA,
// an `openssl ts -reply` process per token, and CRLs over loopback HTTP),
// reported as ratios of the time per signature.
func BenchmarkTimestampCost(b *testing.B) {
	f := newLTFixtureB(b)
	ctx := context.Background()
	opts := cades.Options{TSA: &tsp.Client{URL: f.tsa.URL}, Certificates: []*x509.Certificate{f.root.Cert}}
	var bes, tt, xl time.Duration
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		msg, err := cms.Sign(f.content, f.cert, f.key, &cms.SignOptions{Detached: true, Certificates: []*x509.Certificate{f.sub.Cert}})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := cades.Extend(ctx, msg, cades.T, opts); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if _, err := cades.Extend(ctx, msg, cades.XL1, opts); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		bes, tt, xl = bes+t1.Sub(t0), tt+t2.Sub(t1)+t1.Sub(t0), xl+t3.Sub(t2)+t1.Sub(t0)
	}
	b.ReportMetric(float64(tt)/float64(bes), "t/bes")
	b.ReportMetric(float64(xl)/float64(bes), "xl1/bes")
	b.ReportMetric(float64(bes.Microseconds())/float64(b.N), "bes-µs/op")
}

// TestXL1OCSP: an RSA hierarchy whose CA answers OCSP (as qualified CAs
// mostly do), an ECDSA signer and an RSA TSA: the X Long carries the
// BasicOCSPResponse, and verifies from it once the responder is gone;
// the timestamps' imprint is SHA-256.
func TestXL1OCSP(t *testing.T) {
	now := time.Now()
	rootKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := testpki.CATemplate("RSA Root", now)
	root := &testpki.Issuer{Cert: testpki.Issue(t, tmpl, tmpl, &rootKey.PublicKey, rootKey), Key: rootKey}
	rev := root.Serve(t)
	signerKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := testpki.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "ECDSA Signer"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, OCSPServer: []string{rev.OCSPURL}}, root.Cert, &signerKey.PublicKey, rootKey)
	tsa := testtsa.Start(t, testtsa.RSA)
	content := []byte("contract")
	msg, err := cms.Sign(content, leaf, signerKey, &cms.SignOptions{Detached: true})
	if err != nil {
		t.Fatal(err)
	}
	xl, err := cades.Extend(context.Background(), msg, cades.XL1, cades.Options{TSA: &tsp.Client{URL: tsa.URL}, Certificates: []*x509.Certificate{root.Cert}})
	if err != nil {
		t.Fatal(err)
	}
	rev.Close()
	sd, _ := cms.Parse(xl)
	vals, _, _ := cades.ReadValues(sd.Signers[0])
	if len(vals.OCSP) != 1 || len(vals.CRLs) != 0 {
		t.Fatalf("%d OCSP responses, %d CRLs", len(vals.OCSP), len(vals.CRLs))
	}
	tok, _ := tsp.ParseToken(sd.Signers[0].Unsigned(cades.OIDSignatureTimeStamp)[0])
	if !tok.Info.HashAlgorithm.Equal(tsp.SHA256) {
		t.Fatalf("imprint %v for an ECDSA signer", tok.Info.HashAlgorithm)
	}
	chk, _ := revocation.New(revocation.Config{Policy: revocation.Require})
	v, err := verify.New(verify.Config{Roots: []*x509.Certificate{root.Cert}, TimestampRoots: []*x509.Certificate{tsa.Root},
		Revocation: chk, Now: func() time.Time { return now.AddDate(3, 0, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := v.VerifyDocument(context.Background(), bytes.NewReader(xl), bytes.NewReader(content))
	if err != nil || doc.Signers[0].Err != nil {
		t.Fatalf("%v %v", err, doc.Signers[0].Err)
	}
	if st := doc.Signers[0].Revocation; len(st) != 1 || st[0].Source != revocation.EmbeddedOCSP {
		t.Fatalf("revocation %v, want the OCSP response in the signature", st)
	}
}

// TestXL1EveryCurve: on every GOST parameter set (CA, signer and the
// imprint's Streebog of the signer's size), an X Long Type 1 made while
// the CA's CRL server runs verifies offline once it is gone, after the
// signer's certificate expired.
func TestXL1EveryCurve(t *testing.T) {
	tsa := testtsa.Start(t, testtsa.GOST512)
	for _, c := range gost3410.Curves() {
		t.Run(c.Name(), func(t *testing.T) {
			now := time.Now()
			root := testpki.Root(t, c, "УЦ "+c.Name(), now)
			rev := root.Serve(t)
			cert, key := root.Person(t, c, pkix.Name{CommonName: "Подписант"}, now, func(x *x509.Certificate) {
				x.CRLDistributionPoints = []string{rev.CRLURL}
			})
			content := []byte(c.Name())
			msg, err := cms.Sign(content, cert, key, &cms.SignOptions{Detached: true})
			if err != nil {
				t.Fatal(err)
			}
			xl, err := cades.Extend(context.Background(), msg, cades.XL1, cades.Options{TSA: &tsp.Client{URL: tsa.URL}, Certificates: []*x509.Certificate{root.Cert}})
			if err != nil {
				t.Fatal(err)
			}
			rev.Close()
			chk, _ := revocation.New(revocation.Config{Policy: revocation.Require})
			v, _ := verify.New(verify.Config{Roots: []*x509.Certificate{root.Cert}, TimestampRoots: []*x509.Certificate{tsa.Root},
				Revocation: chk, Now: func() time.Time { return cert.NotAfter.Add(time.Hour) }})
			doc, err := v.VerifyDocument(context.Background(), bytes.NewReader(xl), bytes.NewReader(content))
			if err != nil || doc.Signers[0].Err != nil || doc.Signers[0].Level != "xl1" {
				t.Fatalf("%v %v %q", err, doc.Signers[0].Err, doc.Signers[0].Level)
			}
			sd, _ := cms.Parse(xl)
			tok, _ := tsp.ParseToken(sd.Signers[0].Unsigned(cades.OIDSignatureTimeStamp)[0])
			if !tok.Info.HashAlgorithm.Equal(sd.Signers[0].DigestAlgorithm) {
				t.Fatalf("imprint %v for a %v signer", tok.Info.HashAlgorithm, sd.Signers[0].DigestAlgorithm)
			}
		})
	}
}
