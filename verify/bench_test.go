package verify

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
)

// BenchmarkVerifyCMS is the full verification of an attached 256-bit CMS
// whose message carries a two-certificate chain: parsing, signed
// attributes, the signer's signature and the chain (whose issuer links are
// remembered after the first run, as in a running server).
func BenchmarkVerifyCMS(b *testing.B) {
	msg, v := benchMessage(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.VerifySignature(msg, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func benchMessage(b testing.TB) ([]byte, *Verifier) {
	p := newTestPKI(b)
	cert, key := p.person(b, gost3410.CurveTC26256A, nil)
	msg, err := cms.Sign([]byte(`{"format":"podpis-auth:1"}`), cert, key, &cms.SignOptions{Certificates: []*x509.Certificate{p.inter}})
	if err != nil {
		b.Fatal(err)
	}
	v, _ := New(Config{Roots: []*x509.Certificate{p.root}, Now: func() time.Time { return testT0 }})
	return msg, v
}
