package trust

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/agent/server"
	"github.com/podpis/podpis/internal/testdeps"
)

func needCertutil(t *testing.T) { testdeps.Need(t, "certutil") }

// newNSS makes an empty NSS database as a browser profile would have.
func newNSS(t *testing.T, dir string) {
	os.MkdirAll(dir, 0o700)
	if out, err := exec.Command("certutil", "-N", "-d", "sql:"+dir, "--empty-password").CombinedOutput(); err != nil {
		t.Fatalf("certutil -N: %v %s", err, out)
	}
}

// listed returns certutil's line for name in dir, or "".
func listed(t *testing.T, dir, name string) string {
	out, _ := exec.Command("certutil", "-L", "-d", "sql:"+dir).Output()
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, name) {
			return l
		}
	}
	return ""
}

func newCA(t *testing.T, dir string) *x509.Certificate {
	_, ca, err := server.LoadOrCreateTLS(dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func failed(rs []Result) error {
	for _, r := range rs {
		if r.Err != nil {
			return fmt.Errorf("%s: %w", r.Store, r.Err)
		}
	}
	return nil
}

// TestInstallUninstall: install puts the CA into Chromium's database
// (creating it) and every Firefox profile, snap and flatpak included, as a
// TLS CA only; a second install changes nothing; renewal replaces the CA;
// uninstall leaves the stores as they were.
func TestInstallUninstall(t *testing.T) {
	needCertutil(t)
	home := t.TempDir()
	firefox := filepath.Join(home, ".mozilla/firefox/ab12cd.default-release")
	snap := filepath.Join(home, "snap/firefox/common/.mozilla/firefox/x9.default")
	flatpak := filepath.Join(home, ".var/app/org.mozilla.firefox/.mozilla/firefox/q1.default")
	for _, d := range []string{firefox, snap, flatpak} {
		newNSS(t, d)
	}
	chromium := filepath.Join(home, ".pki/nssdb")
	stores := NSSStores(home)
	if len(stores) != 4 {
		t.Fatalf("found %d stores, want Chromium and 3 Firefox profiles", len(stores))
	}
	data := t.TempDir()
	ca := newCA(t, data)
	m, _ := LoadManifest(data)
	if err := failed(m.Install(ca, stores)); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{chromium, firefox, snap, flatpak} {
		if l := listed(t, d, Name(ca)); !strings.HasSuffix(strings.TrimSpace(l), "C,,") {
			t.Errorf("%s: %q, want the CA trusted for TLS only (C,,)", d, l)
		}
	}
	m, _ = LoadManifest(data)
	if len(m.Entries) != 4 || len(m.Created) != 1 || m.Created[0] != "nss:"+chromium {
		t.Fatalf("manifest: %+v", m)
	}
	before, _ := os.ReadFile(filepath.Join(data, ManifestFile))
	if err := failed(m.Install(ca, NSSStores(home))); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(filepath.Join(data, ManifestFile)); !bytes.Equal(before, after) {
		t.Errorf("a second install changed the manifest:\n%s\n%s", before, after)
	}

	// «Перевыпустить сертификат»: a new CA in, the old one out.
	os.Remove(filepath.Join(data, server.ServerCertFile))
	renewed := newCA(t, data)
	if Fingerprint(renewed) == Fingerprint(ca) {
		t.Fatal("the CA was not renewed")
	}
	m.Install(renewed, NSSStores(home))
	if err := failed(m.Uninstall(Open, Fingerprint(renewed))); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{chromium, firefox} {
		if listed(t, d, Name(ca)) != "" || listed(t, d, Name(renewed)) == "" {
			t.Errorf("%s after renewal: old %q, new %q", d, listed(t, d, Name(ca)), listed(t, d, Name(renewed)))
		}
	}

	if err := failed(m.Uninstall(Open, "")); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{firefox, snap, flatpak} {
		if listed(t, d, "podpis") != "" {
			t.Errorf("%s: podpis's CA left behind", d)
		}
		if _, err := os.Stat(filepath.Join(d, "cert9.db")); err != nil {
			t.Errorf("%s: the profile's database was removed", d)
		}
	}
	if _, err := os.Stat(chromium); !os.IsNotExist(err) {
		t.Errorf("the database podpis created is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, ManifestFile)); !os.IsNotExist(err) {
		t.Errorf("manifest left behind: %v", err)
	}
}

// TestForeignCertificateStays: uninstall removes only the certificate it
// added, not another one under the same name.
func TestForeignCertificateStays(t *testing.T) {
	needCertutil(t)
	home := t.TempDir()
	profile := filepath.Join(home, ".mozilla/firefox/p.default")
	newNSS(t, profile)
	ours, other := newCA(t, t.TempDir()), newCA(t, t.TempDir())
	ff := &NSS{Dir: profile, Name: "Firefox"}
	if err := ff.Add(other, Name(ours)); err != nil {
		t.Fatal(err)
	}
	m := &Manifest{path: filepath.Join(t.TempDir(), ManifestFile),
		Entries: []Entry{{Store: ff.ID(), Name: Name(ours), Fingerprint: Fingerprint(ours)}}}
	if err := failed(m.Uninstall(Open, "")); err != nil {
		t.Fatal(err)
	}
	if listed(t, profile, Name(ours)) == "" {
		t.Error("uninstall removed a certificate podpis did not add")
	}
}

// TestChromiumTrustsAgent: the real check. Headless Chromium, with the
// home folder podpis installed into, opens the agent's https address
// without certificate errors; before install it refuses.
func TestChromiumTrustsAgent(t *testing.T) {
	testdeps.Need(t, "certutil", "chromium")
	chromium, _ := exec.LookPath("chromium")
	home, data := t.TempDir(), t.TempDir()
	tlsCfg, ca, err := server.LoadOrCreateTLS(data, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<p id=agent>podpis answers</p>")
	}))
	srv.TLS = tlsCfg
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	srv.StartTLS()
	defer srv.Close()
	open := func() string {
		cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
			"--user-data-dir="+filepath.Join(home, "profile"), "--dump-dom", srv.URL)
		cmd.Env = append(os.Environ(), "HOME="+home)
		out, _ := cmd.Output()
		return string(out)
	}
	if strings.Contains(open(), "podpis answers") {
		t.Fatal("Chromium trusted the agent before install")
	}
	m, _ := LoadManifest(data)
	if err := failed(m.Install(ca, NSSStores(home))); err != nil {
		t.Fatal(err)
	}
	if out := open(); !strings.Contains(out, "podpis answers") {
		t.Fatalf("Chromium does not trust the agent after install:\n%s", out)
	}
}
