package verify_test

import (
	"bytes"
	"context"
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

func newLTFixture(t *testing.T) *ltFixture {
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
		// The CAdES-C timestamp turned into an unknown attribute.
		{"no CAdES-C timestamp", tampered(func(b []byte) {
			oid := []byte{0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x19}
			i := bytes.Index(b, oid)
			b[i+len(oid)-1] = 0x63
		}), verify.ErrBadTimestamp},
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
	// The same signature without it verifies: the refusal is the token's.
	if _, err := f.check(f.verifier(t, time.Now()), bes); err != nil {
		t.Fatal(err)
	}
}
