package testwine

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/internal/testdeps"
)

// TestCrypt32Limits runs limits/crypt32.c — CryptoAPI calls alone, no Go,
// no podpis — to show where Wine 8.0's crypt32 differs from Windows, and
// checks that the way podpis (or its test) goes round each one works:
//   - deleting from the user's Root system store (CERT_STORE_PROV_SYSTEM)
//     succeeds and is not kept; deleting from its registry physical store
//     is (installer/trust deletes there);
//   - PFXImportCertStore records rsaenh's PP_KEYSPEC (AT_KEYEXCHANGE|
//     AT_SIGNATURE, 3) as the key's spec, which CryptSignHash refuses;
//     AT_KEYEXCHANGE signs (capi's Wine test records that spec);
//   - PFXImportCertStore drops a password's non-ASCII characters
//     (password_to_ascii), so a PFX with a Cyrillic password does not
//     open (capi's Wine test uses an ASCII password).
//
// Each limit is logged as found; what fails the test is the way round.
func TestCrypt32Limits(t *testing.T) {
	testdeps.Need(t, "openssl")
	p := Shared(t)
	dir := t.TempDir()
	exe := filepath.Join(dir, "crypt32.exe")
	if out, err := exec.Command("x86_64-w64-mingw32-gcc", "-O2", "-o", exe, "limits/crypt32.c",
		"-lcrypt32", "-ladvapi32", "-lshell32").CombinedOutput(); err != nil {
		t.Fatalf("mingw: %v\n%s", err, out)
	}
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wine limits"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certDER, certPEM, keyPEM := filepath.Join(dir, "c.der"), filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	pk, _ := x509.MarshalPKCS8PrivateKey(key)
	os.WriteFile(certDER, der, 0o600)
	os.WriteFile(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600)
	pfx := func(name, password string) string {
		out := filepath.Join(dir, name)
		if b, err := exec.Command("openssl", "pkcs12", "-export", "-in", certPEM, "-inkey", keyPEM,
			"-passout", "pass:"+password, "-out", out).CombinedOutput(); err != nil {
			t.Fatalf("openssl pkcs12: %v\n%s", err, b)
		}
		return WindowsPath(out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run := func(args ...string) string {
		out, _ := p.Run(ctx, "wine", append([]string{exe}, args...)...)
		return string(out)
	}

	out := run("rootdel", WindowsPath(certDER))
	if !strings.Contains(out, "registry: gone") {
		t.Errorf("deleting through the registry physical store did not take the certificate out:\n%s", out)
	}
	if strings.Contains(out, "system: still there") {
		t.Log("Wine limit: a deletion through the Root system store is not kept")
	}

	out = run("pfxkeyspec", pfx("ascii.pfx", "parol-1"), "parol-1")
	if !strings.Contains(out, "sign 1: ok") {
		t.Errorf("the imported key does not sign as AT_KEYEXCHANGE:\n%s", out)
	}
	if strings.Contains(out, "keyspec 3") {
		t.Logf("Wine limit: the import recorded KeySpec 3 (%s)", strings.Join(strings.Fields(out), " "))
	}

	out = run("pfxkeyspec", pfx("cyrillic.pfx", "пароль"), "пароль")
	if strings.Contains(out, "PFXImportCertStore") {
		t.Logf("Wine limit: a PFX with a Cyrillic password does not open: %s", strings.TrimSpace(out))
	}
}
