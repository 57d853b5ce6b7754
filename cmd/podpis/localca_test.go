package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/agent/server"
	"github.com/podpis/podpis/installer/trust"
	"github.com/podpis/podpis/internal/testdeps"
)

// TestUpgradeReissuesCA: a person installed podpis when its CA was
// constrained to IP addresses only (a copy of that CA could vouch for any
// site). The next start of the agent replaces the CA with a name-locked
// one and swaps it in the browser stores, the old one out.
func TestUpgradeReissuesCA(t *testing.T) {
	testdeps.Need(t, "certutil")
	home := t.TempDir()
	data := filepath.Join(home, "data")
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	profile := filepath.Join(home, ".mozilla", "firefox", "k2.default-release")
	os.MkdirAll(profile, 0o700)
	if out, err := exec.Command("certutil", "-N", "-d", "sql:"+profile, "--empty-password").CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	oldCA := writeIPOnlyTLS(t, data)
	m, err := trust.LoadManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range m.Install(oldCA, trust.UserStores()) {
		if r.Err != nil {
			t.Fatalf("installing the old CA: %s: %v", r.Store, r.Err)
		}
	}

	cmd, _, _ := startRun(t, []string{"PODPIS_DATA_DIR=" + data, "PODPIS_CONFIG=" + filepath.Join(data, "config.json")},
		"--headless", "--no-known-modules", "--module", tokenEnv.SoftToken, "--listen", "127.0.0.1:0")
	cmd.Process.Kill()
	cmd.Wait()

	ca, err := server.LoadCA(data)
	if err != nil {
		t.Fatal(err)
	}
	if ca.Equal(oldCA) || !slices.Equal(ca.PermittedDNSDomains, []string{"invalid"}) {
		t.Fatalf("the IP-only CA is still in use (permitted DNS %q)", ca.PermittedDNSDomains)
	}
	m, _ = trust.LoadManifest(data)
	if len(m.Entries) == 0 {
		t.Fatal("no store holds the new CA")
	}
	for _, e := range m.Entries {
		if e.Fingerprint != trust.Fingerprint(ca) {
			t.Errorf("store %s still lists %s, not the new CA", e.Store, e.Name)
		}
	}
	for _, db := range []string{profile, filepath.Join(home, ".pki", "nssdb")} {
		out, _ := exec.Command("certutil", "-L", "-d", "sql:"+db).CombinedOutput()
		if !strings.Contains(string(out), trust.Name(ca)) || strings.Contains(string(out), trust.Name(oldCA)) {
			t.Errorf("%s: want %q and not %q:\n%s", db, trust.Name(ca), trust.Name(oldCA), out)
		}
	}
}

// writeIPOnlyTLS writes the TLS files as versions before the name lock
// made them: a CA constrained to the loopback IP ranges only.
func writeIPOnlyTLS(t *testing.T, dir string) *x509.Certificate {
	t.Helper()
	os.MkdirAll(dir, 0o700)
	now := time.Now()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caT := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "podpis local CA (before the name lock)"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true, KeyUsage: x509.KeyUsageCertSign,
		PermittedIPRanges: []*net.IPNet{
			{IP: net.IPv4(127, 0, 0, 1).To4(), Mask: net.CIDRMask(32, 32)},
			{IP: net.IPv6loopback, Mask: net.CIDRMask(128, 128)},
		},
		PermittedDNSDomainsCritical: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caT, caT, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	for name, b := range map[string]*pem.Block{
		server.CAFile:         {Type: "CERTIFICATE", Bytes: caDER},
		server.ServerCertFile: {Type: "CERTIFICATE", Bytes: leafDER},
		server.ServerKeyFile:  {Type: "PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return ca
}
