package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/podpis/podpis/internal/testdeps"
	"github.com/podpis/podpis/internal/testpki"
)

// stealCAKey makes the next CreateTLS hand its CA key to the test, which
// plays someone who copied it out of the agent's memory before it was
// zeroed. It returns a copy of the key and the memory that held its scalar.
func stealCAKey(t *testing.T) (stolen **ecdsa.PrivateKey, words *[]big.Word) {
	t.Helper()
	var s *ecdsa.PrivateKey
	var w []big.Word
	testHookCAKey = func(k *ecdsa.PrivateKey) {
		s = &ecdsa.PrivateKey{PublicKey: k.PublicKey, D: new(big.Int).Set(k.D)}
		w = k.D.Bits()
	}
	t.Cleanup(func() { testHookCAKey = nil })
	return &s, &w
}

// issue signs a server certificate under ca with key.
func issue(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, tmpl *x509.Certificate) *x509.Certificate {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageEmailProtection}
	return testpki.Issue(t, tmpl, ca, &k.PublicKey, caKey)
}

func writePEM(t *testing.T, path string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// chainErrs verifies leaf against ca alone with Go's crypto/x509 and with
// `openssl verify`, and returns each verdict.
func chainErrs(t *testing.T, ca, leaf *x509.Certificate, opensslArgs ...string) (goErr, sslErr error, sslOut []byte) {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	_, goErr = leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	dir := t.TempDir()
	writePEM(t, filepath.Join(dir, "ca.pem"), ca.Raw)
	writePEM(t, filepath.Join(dir, "leaf.pem"), leaf.Raw)
	args := append([]string{"verify", "-CAfile", filepath.Join(dir, "ca.pem")}, opensslArgs...)
	sslOut, sslErr = exec.Command("openssl", append(args, filepath.Join(dir, "leaf.pem"))...).CombinedOutput()
	return goErr, sslErr, sslOut
}

// TestLocalCAConstraints attacks the per-user CA with its own key, as
// whoever copied it would: certificates for a real site's DNS name, an
// e-mail address and a URI must not chain to it in Go or in OpenSSL, while
// the agent's own 127.0.0.1 certificate still does. The key is zeroed once
// the server certificate is issued.
func TestLocalCAConstraints(t *testing.T) {
	testdeps.Need(t, "openssl")
	stolen, words := stealCAKey(t)
	dir := t.TempDir()
	tlsCfg, ca, err := LoadOrCreateTLS(dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if *stolen == nil {
		t.Fatal("the test hook did not see the CA key")
	}
	if len(*words) == 0 {
		t.Fatal("no key words seen")
	}
	for _, w := range *words {
		if w != 0 {
			t.Error("the CA key is still in memory after issuing")
			break
		}
	}

	site, _ := url.Parse("https://gosuslugi.ru/")
	attacks := []struct {
		name string
		tmpl *x509.Certificate
	}{
		{"dns", &x509.Certificate{Subject: pkix.Name{CommonName: "gosuslugi.ru"}, DNSNames: []string{"gosuslugi.ru"}}},
		{"wildcard", &x509.Certificate{Subject: pkix.Name{CommonName: "*.ru"}, DNSNames: []string{"*.ru"}}},
		{"dns and ip", &x509.Certificate{DNSNames: []string{"esia.gosuslugi.ru"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}},
		{"cn only", &x509.Certificate{Subject: pkix.Name{CommonName: "gosuslugi.ru"}}},
		{"email", &x509.Certificate{Subject: pkix.Name{CommonName: "Иванов"}, EmailAddresses: []string{"ivanov@gosuslugi.ru"}}},
		{"uri", &x509.Certificate{Subject: pkix.Name{CommonName: "site"}, URIs: []*url.URL{site}}},
		{"other ip", &x509.Certificate{IPAddresses: []net.IP{net.IPv4(192, 168, 0, 1)}}},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			leaf := issue(t, ca, *stolen, a.tmpl)
			goErr, sslErr, out := chainErrs(t, ca, leaf)
			if a.name == "cn only" {
				// Go never takes a host name from the common name, so the
				// chain alone is harmless there; a connection must fail.
				goErr = leaf.VerifyHostname("gosuslugi.ru")
			}
			if goErr == nil {
				t.Error("Go's crypto/x509 accepts it")
			}
			if sslErr == nil {
				t.Errorf("openssl verify accepts it: %s", out)
			}
		})
	}

	// The agent's own certificate still verifies, for 127.0.0.1 and ::1.
	leaf, err := x509.ParseCertificate(tlsCfg.Certificates[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, ip := range []string{"127.0.0.1", "::1"} {
		goErr, sslErr, out := chainErrs(t, ca, leaf, "-verify_ip", ip, "-purpose", "sslserver")
		if goErr != nil {
			t.Errorf("Go refuses the agent's certificate: %v", goErr)
		}
		if err := leaf.VerifyHostname(ip); err != nil {
			t.Errorf("Go: %v", err)
		}
		if sslErr != nil {
			t.Errorf("openssl refuses the agent's certificate for %s: %s", ip, out)
		}
	}
}

// TestLocalCARenewed: a CA written by an older version, constrained for
// IP addresses only, is replaced on the next start; a current one is kept,
// so the trust stores do not churn.
func TestLocalCARenewed(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	oldCA := writeOldTLS(t, dir, now)
	if _, ca, err := LoadOrCreateTLS(dir, now); err != nil {
		t.Fatal(err)
	} else if ca.Equal(oldCA) || !nameLocked(ca) {
		t.Fatalf("the IP-only CA was kept (DNS %q, e-mail %q, URI %q)",
			ca.PermittedDNSDomains, ca.PermittedEmailAddresses, ca.PermittedURIDomains)
	}
	_, first, _ := LoadOrCreateTLS(dir, now)
	_, second, err := LoadOrCreateTLS(dir, now.Add(time.Hour))
	if err != nil || !first.Equal(second) {
		t.Fatalf("a current CA was replaced: %v", err)
	}
}

// writeOldTLS writes the files as the previous CreateTLS made them: a CA
// whose only name constraint is the loopback IP ranges.
func writeOldTLS(t *testing.T, dir string, now time.Time) *x509.Certificate {
	t.Helper()
	return testpki.WriteIPOnlyLocalTLS(t, dir, CAFile, ServerCertFile, ServerKeyFile, now)
}
