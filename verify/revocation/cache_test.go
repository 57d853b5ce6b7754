package revocation

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// stdCA is an ECDSA CA made by crypto/x509.
type stdCA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func newStdCA(t *testing.T, name string, now time.Time) *stdCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &stdCA{cert, key}
}

func (c *stdCA) leaf(t *testing.T, serial int64, now time.Time, dp string) *x509.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "Person"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	if dp != "" {
		tmpl.CRLDistributionPoints = []string{dp}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, key.Public(), c.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert
}

// crl lists serials 1<<32 … 1<<32+n-1 (reason keyCompromise) and then
// extra, current for an hour from now.
func (c *stdCA) crl(t *testing.T, now time.Time, n int, extra ...x509.RevocationListEntry) []byte {
	t.Helper()
	entries := make([]x509.RevocationListEntry, 0, n+len(extra))
	for i := range n {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: big.NewInt(1<<32 + int64(i)), RevocationTime: now.Add(-time.Hour), ReasonCode: 1})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1),
		ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour),
		RevokedCertificateEntries: append(entries, extra...)}, c.cert, c.key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// lying is issuer's certificate, byte for byte, carrying another parsed
// public key: a CRL signature checked against it fails, so a check that
// passes with it was answered from what was remembered of issuer.
func lying(t *testing.T, issuer *x509.Certificate) *x509.Certificate {
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	l := *issuer
	l.PublicKey = other.Public()
	if l.CheckSignature(x509.ECDSAWithSHA256, []byte("x"), []byte("y")) == nil {
		t.Fatal("the lying copy verifies")
	}
	return &l
}

func writeFile(t *testing.T, b []byte) string {
	path := filepath.Join(t.TempDir(), "ca.crl")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCRLSignatureCheckedOnce: a CRL file's and a downloaded CRL's
// signature is checked once per issuer certificate, not at every login
// (the code this replaced checked it twice per login: a 100,000-entry CRL
// cost 130–220× in logins/s). A second login with the issuer's exact
// bytes passes even when its parsed key is made wrong, which only a
// remembered check allows; the answers (listed or not) are unchanged and
// freshness is still judged at each login's time.
func TestCRLSignatureCheckedOnce(t *testing.T) {
	now := time.Now()
	ca := newStdCA(t, "CA", now)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(ca.crl(t, now, 3)) }))
	defer srv.Close()
	fromFile, err := New(Config{Policy: Require, CRLFiles: []string{writeFile(t, ca.crl(t, now, 3))}})
	if err != nil {
		t.Fatal(err)
	}
	fromDP, _ := New(Config{Policy: Require})
	for name, c := range map[string]struct {
		chk *Checker
		dp  string
	}{"file": {fromFile, ""}, "distribution point": {fromDP, srv.URL + "/ca.crl"}} {
		good, bad := ca.leaf(t, 7, now, c.dp), ca.leaf(t, 1<<32+1, now, c.dp)
		if _, err := c.chk.CheckRevocation(context.Background(), []*x509.Certificate{good, ca.cert}, now); err != nil {
			t.Fatalf("%s: first login: %v", name, err)
		}
		liar := lying(t, ca.cert)
		if _, err := c.chk.CheckRevocation(context.Background(), []*x509.Certificate{good, liar}, now); err != nil {
			t.Errorf("%s: second login checked the CRL's signature again: %v", name, err)
		}
		var rev *RevokedError
		if _, err := c.chk.CheckRevocation(context.Background(), []*x509.Certificate{bad, liar}, now); !errors.As(err, &rev) || rev.Reason != 1 {
			t.Errorf("%s: listed certificate: %v", name, err)
		}
		// Past nextUpdate the remembered signature does not make the CRL
		// current (and the distribution point serves one just as old).
		if _, err := c.chk.CheckRevocation(context.Background(), []*x509.Certificate{good, ca.cert}, now.Add(2*time.Hour)); !errors.Is(err, ErrUnknown) {
			t.Errorf("%s: stale CRL: %v", name, err)
		}
		if _, err := c.chk.CheckRevocation(context.Background(), []*x509.Certificate{good, ca.cert}, now); err != nil {
			t.Errorf("%s: current again: %v", name, err)
		}
	}
}

// TestCRLRememberedPerIssuer: a CRL remembered as signed by its issuer
// vouches for nothing under another CA of the same name (another key,
// other bytes); that CA's certificates stay unknown. A remembered answer
// keyed by the issuer's name, or by the CRL alone, would let them through
// as "not listed". The per-CRL record is bounded however many such CAs
// turn up.
func TestCRLRememberedPerIssuer(t *testing.T) {
	now := time.Now()
	ca := newStdCA(t, "CA", now)
	chk, err := New(Config{Policy: Require, CRLFiles: []string{writeFile(t, ca.crl(t, now, 3))}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chk.CheckRevocation(context.Background(), []*x509.Certificate{ca.leaf(t, 7, now, ""), ca.cert}, now); err != nil {
		t.Fatal(err)
	}
	for i := range 3 * maxIssuersPerCRL {
		impostor := newStdCA(t, "CA", now)
		if _, err := chk.CheckRevocation(context.Background(), []*x509.Certificate{impostor.leaf(t, 7, now, ""), impostor.cert}, now); !errors.Is(err, ErrUnknown) {
			t.Fatalf("impostor %d: %v, want unknown", i, err)
		}
	}
	if n := len(*chk.files[0].verified.Load()); n > maxIssuersPerCRL {
		t.Errorf("%d issuers remembered for one CRL, want at most %d", n, maxIssuersPerCRL)
	}
	if _, err := chk.CheckRevocation(context.Background(), []*x509.Certificate{ca.leaf(t, 8, now, ""), ca.cert}, now); err != nil {
		t.Errorf("the real CA after the impostors: %v", err)
	}
}

// TestLargeCRL: a 100,000-entry CRL answers from its map, entry by entry:
// the last entry's own time and reason (and not before that time), one in
// the middle, and serials next to listed ones are not listed.
func TestLargeCRL(t *testing.T) {
	now := time.Now()
	ca := newStdCA(t, "CA", now)
	last := x509.RevocationListEntry{SerialNumber: big.NewInt(99), RevocationTime: now.Add(-2 * time.Minute).Truncate(time.Second), ReasonCode: 4}
	chk, err := New(Config{Policy: Require, CRLFiles: []string{writeFile(t, ca.crl(t, now, 100_000, last))}})
	if err != nil {
		t.Fatal(err)
	}
	var rev *RevokedError
	if _, err := chk.CheckRevocation(context.Background(), []*x509.Certificate{ca.leaf(t, 99, now, ""), ca.cert}, now); !errors.As(err, &rev) || rev.Reason != 4 || !rev.At.Equal(last.RevocationTime) {
		t.Errorf("listed last: %v", err)
	}
	// Revoked after the signing time: not revoked for this signature.
	if _, err := chk.CheckRevocation(context.Background(), []*x509.Certificate{ca.leaf(t, 99, now, ""), ca.cert}, now.Add(-4*time.Minute)); err != nil {
		t.Errorf("signed before its revocation: %v", err)
	}
	for _, s := range []int64{1<<32 - 1, 1<<32 + 100_000} {
		if _, err := chk.CheckRevocation(context.Background(), []*x509.Certificate{ca.leaf(t, s, now, ""), ca.cert}, now); err != nil {
			t.Errorf("serial %d, not listed: %v", s, err)
		}
	}
	if _, err := chk.CheckRevocation(context.Background(), []*x509.Certificate{ca.leaf(t, 1<<32+54_321, now, ""), ca.cert}, now); !errors.Is(err, ErrRevoked) {
		t.Errorf("listed in the middle: %v", err)
	}
}

// TestCRLSerialKeys: serial numbers of every length up to 20 octets and
// beyond (non-conforming, still listed) are found with their own entry,
// and their neighbours and the same magnitudes shifted by an octet are
// found only when they are listed themselves.
func TestCRLSerialKeys(t *testing.T) {
	now := time.Now()
	ca := newStdCA(t, "CA", now)
	var listed []x509.RevocationListEntry
	isListed := map[string]bool{}
	for _, bits := range []uint{0, 7, 8, 63, 64, 152, 159, 160, 200} {
		s := new(big.Int).Lsh(big.NewInt(1), bits)
		listed = append(listed, x509.RevocationListEntry{SerialNumber: s, RevocationTime: now.Add(-time.Minute).Truncate(time.Second), ReasonCode: int(bits % 10)})
		isListed[s.String()] = true
	}
	l, err := parse(ca.crl(t, now, 0, listed...))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range listed {
		if r, ok := l.entry(e.SerialNumber); !ok || int(r.reason) != e.ReasonCode || !r.at().Equal(e.RevocationTime) {
			t.Errorf("serial %x: %v %+v", e.SerialNumber, ok, r)
		}
		for _, other := range []*big.Int{
			new(big.Int).Add(e.SerialNumber, big.NewInt(1)),
			new(big.Int).Lsh(e.SerialNumber, 8),
			new(big.Int).Rsh(e.SerialNumber, 8),
		} {
			if _, ok := l.entry(other); ok != isListed[other.String()] {
				t.Errorf("serial %x: found %v, listed %v", other, ok, isListed[other.String()])
			}
		}
	}
}
