package trust

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// NSS is an NSS certificate database (Chromium on Linux, Firefox), driven
// through certutil from libnss3-tools: its sqlite format is NSS's own
// business and certutil is what NSS supports for it.
type NSS struct {
	Dir  string
	Name string // the browser that reads it, for people
	// Create makes the database when missing (~/.pki/nssdb before
	// Chromium's first start); Firefox profiles are only ever changed.
	Create  bool
	created bool
}

func (n *NSS) ID() string      { return "nss:" + n.Dir }
func (n *NSS) Browser() string { return n.Name }

// ErrNoCertutil says NSS stores cannot be changed on this machine.
var ErrNoCertutil = errors.New("trust: certutil not found (Debian/Ubuntu: apt install libnss3-tools)")

func (n *NSS) certutil(args ...string) ([]byte, error) {
	bin, err := exec.LookPath("certutil")
	if err != nil {
		return nil, ErrNoCertutil
	}
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, append([]string{"-d", "sql:" + n.Dir}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("certutil %s: %w: %s", args[0], err, strings.TrimSpace(errOut.String()))
	}
	return out.Bytes(), nil
}

func (n *NSS) exists() bool {
	_, err := os.Stat(filepath.Join(n.Dir, "cert9.db"))
	return err == nil
}

func (n *NSS) Add(ca *x509.Certificate, name string) error {
	if !n.exists() {
		if !n.Create {
			return fmt.Errorf("trust: %s: no NSS database", n.Dir)
		}
		if err := os.MkdirAll(n.Dir, 0o700); err != nil {
			return err
		}
		if _, err := n.certutil("-N", "--empty-password"); err != nil {
			return err
		}
		n.created = true
	}
	f, err := os.CreateTemp("", "podpis-ca-*.pem")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	pem.Encode(f, &pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})
	f.Close()
	// C,,: a CA trusted to issue TLS server certificates, nothing else.
	_, err = n.certutil("-A", "-n", name, "-t", "C,,", "-i", f.Name())
	return err
}

func (n *NSS) Has(e Entry) (bool, error) {
	if !n.exists() {
		return false, nil
	}
	out, err := n.certutil("-L", "-n", e.Name, "-a")
	if err != nil {
		if errors.Is(err, ErrNoCertutil) {
			return false, err
		}
		return false, nil // certutil fails for a name it does not know
	}
	for rest := out; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return false, nil
		}
		if c, err := x509.ParseCertificate(b.Bytes); err == nil && Fingerprint(c) == e.Fingerprint {
			return true, nil
		}
	}
}

func (n *NSS) Remove(e Entry) error {
	has, err := n.Has(e)
	if err != nil || !has {
		return err
	}
	_, err = n.certutil("-D", "-n", e.Name)
	return err
}

func (n *NSS) Created() bool { return n.created }

// DeleteIfEmpty removes a database podpis created once it holds no
// certificate and no key: then nothing but podpis ever used it.
func (n *NSS) DeleteIfEmpty() error {
	if !n.exists() {
		return nil
	}
	certs, err := n.certutil("-L")
	if err != nil {
		return err
	}
	// The listing is two header lines, then a line per certificate.
	if lines := bytes.Split(bytes.TrimSpace(certs), []byte("\n")); len(lines) > 2 {
		return nil
	}
	if _, err := n.certutil("-K"); err == nil {
		return nil // it lists keys
	}
	for _, f := range []string{"cert9.db", "key4.db", "pkcs11.txt"} {
		if err := os.Remove(filepath.Join(n.Dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	// The folders too, when empty: ~/.pki was made for the database.
	if os.Remove(n.Dir) == nil {
		os.Remove(filepath.Dir(n.Dir))
	}
	return nil
}

// NSSStores finds the NSS databases of home's browsers on Linux:
// Chromium's (also snap and flatpak) and every Firefox profile, including
// the snap and flatpak ones.
func NSSStores(home string) []Store {
	stores := []Store{&NSS{Dir: filepath.Join(home, ".pki", "nssdb"), Name: "Chromium, Google Chrome", Create: true}}
	for _, c := range []struct{ dir, name string }{
		{"snap/chromium/current/.pki/nssdb", "Chromium (snap)"},
		{".var/app/org.chromium.Chromium/.pki/nssdb", "Chromium (flatpak)"},
		{".var/app/com.google.Chrome/.pki/nssdb", "Google Chrome (flatpak)"},
	} {
		if s := (&NSS{Dir: filepath.Join(home, c.dir), Name: c.name}); s.exists() {
			stores = append(stores, s)
		}
	}
	for _, c := range []struct{ dir, name string }{
		{".mozilla/firefox", "Firefox"},
		{"snap/firefox/common/.mozilla/firefox", "Firefox (snap)"},
		{".var/app/org.mozilla.firefox/.mozilla/firefox", "Firefox (flatpak)"},
	} {
		profiles, _ := filepath.Glob(filepath.Join(home, c.dir, "*", "cert9.db"))
		for _, db := range profiles {
			dir := filepath.Dir(db)
			stores = append(stores, &NSS{Dir: dir, Name: c.name + ", профиль " + filepath.Base(dir)})
		}
	}
	return stores
}

// openNSS reaches a store by its manifest ID.
func openNSS(id string) (Store, bool) {
	dir, ok := strings.CutPrefix(id, "nss:")
	if !ok {
		return nil, false
	}
	s := &NSS{Dir: dir, Name: "NSS " + dir}
	return s, s.exists()
}
