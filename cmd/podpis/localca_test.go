package main

import (
	"crypto/x509"
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
	"github.com/podpis/podpis/internal/testpki"
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
	return testpki.WriteIPOnlyLocalTLS(t, dir, server.CAFile, server.ServerCertFile, server.ServerKeyFile, time.Now())
}
