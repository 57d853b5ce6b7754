package revocation

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/testpki"
)

// TestOffline: the evidence a signature carries answers for the time the
// signature proves: revoked after it, good; revoked before it, revoked; a
// CRL that was not current then, of another CA, or none at all, unknown.
func TestOffline(t *testing.T) {
	now := time.Now()
	c := gost3410.CurveTC26256A
	ca := testpki.Root(t, c, "УЦ", now)
	stranger := testpki.Root(t, c, "Чужой УЦ", now)
	cert, _ := ca.Person(t, c, pkix.Name{CommonName: "Петров"}, now, nil)
	chain := []*x509.Certificate{cert, ca.Cert}
	revokedAt := now.Add(-time.Hour)
	listed := ca.CRL(t, []x509.RevocationListEntry{{SerialNumber: cert.SerialNumber, RevocationTime: revokedAt}}, now.Add(-2*time.Hour), now.Add(time.Hour))
	clean := ca.CRL(t, nil, now.Add(-2*time.Hour), now.Add(time.Hour))
	stale := ca.CRL(t, nil, now.Add(-72*time.Hour), now.Add(-48*time.Hour))
	foreign := stranger.CRL(t, nil, now.Add(-2*time.Hour), now.Add(time.Hour))
	for _, tc := range []struct {
		name string
		crls [][]byte
		at   time.Time
		want error
	}{
		{"revoked after the proven time", [][]byte{listed}, revokedAt.Add(-time.Minute), nil},
		{"revoked before the proven time", [][]byte{listed}, revokedAt.Add(time.Minute), ErrRevoked},
		{"not listed", [][]byte{clean}, now, nil},
		{"a CRL not current then", [][]byte{stale}, now, ErrUnknown},
		{"another CA's CRL", [][]byte{foreign}, now, ErrUnknown},
		{"no evidence", nil, now, ErrUnknown},
	} {
		o, err := NewOffline(tc.crls, nil)
		if err != nil {
			t.Fatal(err)
		}
		st, err := o.CheckRevocation(context.Background(), chain, tc.at)
		if !errors.Is(err, tc.want) || tc.want == nil && (err != nil || st[0].Source != EmbeddedCRL) {
			t.Errorf("%s: %v %v, want %v", tc.name, st, err, tc.want)
		}
	}
	if _, err := NewOffline([][]byte{[]byte("junk")}, nil); err == nil {
		t.Error("a CRL that does not parse accepted")
	}
}
