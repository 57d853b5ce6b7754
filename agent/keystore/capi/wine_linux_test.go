package capi

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/internal/testdeps"
	"github.com/podpis/podpis/internal/testwine"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testwine.Cleanup()
	os.Exit(code)
}

// fakeCSPs are GOST providers as their installers register them (names
// and types as CryptoPro CSP 5 and ViPNet CSP 4 write them): Wine has no
// GOST CSP, so the registry entries alone stand for one.
var fakeCSPs = []InstalledCSP{
	{"Crypto-Pro GOST R 34.10-2012 Cryptographic Service Provider", 80},
	{"Crypto-Pro GOST R 34.10-2012 Strong Cryptographic Service Provider", 81},
	{"Infotecs GOST 2012/512 Cryptographic Service Provider", 77},
	{"Infotecs GOST 2012/1024 Cryptographic Service Provider", 78},
	// ViPNet's GOST R 34.10-2001 provider, under PROV_RSA_SIG's number:
	// neither a GOST type podpis signs with nor RSA.
	{"Infotecs Cryptographic Service Provider", 2},
}

// TestMYStoreUnderWine runs the store against Wine's crypt32 and rsaenh:
// an RSA certificate with its key, imported into the current user's MY
// store from a PFX through PFXImportCertStore (TestMYStore, cross-built),
// is listed with its thumbprint, name and key, and signs through
// CryptSignHash — the signature and a CMS message with it checked here,
// by Go's crypto/rsa and by OpenSSL. GOST providers registered under
// HKLM\…\Cryptography\Defaults\Provider are read as installed CSPs and
// told from Wine's own RSA ones.
func TestMYStoreUnderWine(t *testing.T) {
	testdeps.Need(t, "openssl")
	p := testwine.Shared(t)
	dir := t.TempDir()
	exe := testwine.BuildTest(t, dir, "capi.test.exe", "github.com/podpis/podpis/agent/keystore/capi")

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(22), Subject: pkix.Name{CommonName: "Сидоров Сидор", Organization: []string{"Foreign Site Ltd"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(30 * 24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	certPEM, keyPEM, pfx := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "sidorov.pfx")
	os.WriteFile(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: mustPKCS8(t, key)}), 0o600)
	// An ASCII password: Wine's PFXImportCertStore drops the others
	// (testwine's TestCrypt32Limits).
	if out, err := exec.Command("openssl", "pkcs12", "-export", "-in", certPEM, "-inkey", keyPEM, "-name", "Сидоров",
		"-passout", "pass:parol-1", "-out", pfx).CombinedOutput(); err != nil {
		t.Fatalf("openssl pkcs12: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	podpis := testwine.Build(t, dir, "podpis.exe", "github.com/podpis/podpis/cmd/podpis")
	t.Setenv("PODPIS_DATA_DIR", testwine.WindowsPath(filepath.Join(dir, "data")))
	if f := doctorFinding(t, ctx, p, podpis, "NO_PROVIDER"); f == nil {
		t.Error("doctor with no CSP registered and nothing in MY: no NO_PROVIDER")
	}
	for _, c := range fakeCSPs {
		if out, err := p.Reg(ctx, "add", `HKLM\SOFTWARE\Microsoft\Cryptography\Defaults\Provider\`+c.Name,
			"/v", "Type", "/t", "REG_DWORD", "/d", strconv.Itoa(int(c.Type)), "/f"); err != nil {
			t.Fatalf("reg add %s: %v\n%s", c.Name, err, out)
		}
	}

	// A GOST CSP registered, MY empty: the CSP is named, the certificate
	// is what is missing.
	if f := doctorFinding(t, ctx, p, podpis, "NO_CERTIFICATES"); f == nil || !strings.HasPrefix(f.Title, "Crypto-Pro GOST R 34.10-2012") {
		t.Errorf("doctor with CryptoPro registered and MY empty: %+v", f)
	}
	if f := doctorFinding(t, ctx, p, podpis, "NO_PROVIDER"); f != nil {
		t.Errorf("doctor says %q with CryptoPro and ViPNet registered", f.Title)
	}

	report := filepath.Join(dir, "report.json")
	t.Setenv("PODPIS_CAPI_PFX", testwine.WindowsPath(pfx))
	t.Setenv("PODPIS_CAPI_PFX_PASSWORD", "parol-1")
	t.Setenv("PODPIS_CAPI_OUT", testwine.WindowsPath(report))
	out, err := p.Run(ctx, "wine", exe, "-test.run", "^TestMYStore$", "-test.v")
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestMYStore")) {
		t.Fatalf("capi.test.exe under Wine: %v\n%s", err, out)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("no report: %v\n%s", err, out)
	}
	var rep storeReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) > 0 {
		t.Errorf("under Wine: %v", rep.Errors)
	}

	thumb := sha1.Sum(der)
	if len(rep.Certificates) != 1 {
		t.Fatalf("MY store listed %d certificates, want the imported one: %+v", len(rep.Certificates), rep.Certificates)
	}
	got := rep.Certificates[0]
	if got.ID != hex.EncodeToString(thumb[:]) || got.CommonName != "Сидоров Сидор" || !got.HasKey || !got.Usable ||
		!strings.Contains(got.Source, "(RSA, тип ") || got.Container == "" {
		t.Errorf("listed %+v, want thumbprint %x, «Сидоров Сидор», a key in an RSA provider", got, thumb)
	}
	t.Logf("listed: %s, %s, container %s", got.ID, got.Source, got.Container)
	digest := sha256.Sum256(message)
	if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], got.Signature); err != nil {
		t.Errorf("CryptSignHash's signature, as the signer returns it, does not verify: %v", err)
	}
	if !got.PSSRefused {
		t.Error("a PSS signature was not refused with ErrHash: CryptSignHash would have padded PKCS #1 v1.5")
	}
	checkCMS(t, dir, got.CMS, cert, certPEM)

	// podpis.exe itself (doctor, as the agent) reads the store too.
	if d := doctor(t, ctx, p, podpis); !slices.Contains(d.Certificates, doctorCert{ID: got.ID, Provider: got.Source, HasKey: true}) {
		t.Errorf("doctor --json does not list the MY store's certificate %s: %+v", got.ID, d.Certificates)
	}

	for _, c := range fakeCSPs {
		if !slices.Contains(rep.CSPs, c) {
			t.Errorf("registered %q (type %d) not read: %v", c.Name, c.Type, rep.CSPs)
		}
	}
	if want := fakeCSPs[:4]; !sameSet(rep.GOST, want) {
		t.Errorf("GOST providers = %v, want %v", rep.GOST, want)
	}
	if !slices.ContainsFunc(rep.CSPs, func(c InstalledCSP) bool { return c.Type == ProvRSAFull || c.Type == ProvRSAAES }) {
		t.Errorf("Wine's own RSA providers not read: %v", rep.CSPs)
	}
}

type finding struct{ Code, Title, Cause string }

type doctorReport struct {
	Findings     []finding
	Certificates []doctorCert
}

type doctorCert struct {
	ID       string `json:"id"`
	Provider string `json:"provider"`
	HasKey   bool   `json:"hasKey"`
}

// doctor runs podpis.exe doctor --json and returns its report.
func doctor(t *testing.T, ctx context.Context, p *testwine.Prefix, exe string) doctorReport {
	t.Helper()
	out, _ := p.Run(ctx, "wine", exe, "doctor", "--json") // exit 1: not ready
	i := bytes.IndexByte(out, '{')
	var rep struct {
		Report doctorReport `json:"report"`
	}
	if i < 0 || json.Unmarshal(out[i:], &rep) != nil {
		t.Fatalf("doctor --json:\n%s", out)
	}
	return rep.Report
}

// doctorFinding runs podpis.exe doctor --json and returns its finding of
// code, nil if there is none.
func doctorFinding(t *testing.T, ctx context.Context, p *testwine.Prefix, exe, code string) *finding {
	t.Helper()
	for _, f := range doctor(t, ctx, p, exe).Findings {
		if f.Code == code {
			t.Logf("doctor: %s: %s — %s", f.Code, f.Title, f.Cause)
			return &f
		}
	}
	return nil
}

// checkCMS verifies the message TestMYStore signed with the store's signer,
// with our cms package and with OpenSSL.
func checkCMS(t *testing.T, dir string, der []byte, cert *x509.Certificate, certPEM string) {
	t.Helper()
	sd, err := cms.Parse(der)
	if err != nil || len(sd.Signers) != 1 {
		t.Fatalf("CMS: %v", err)
	}
	if err := sd.VerifySigner(sd.Signers[0], cert, nil); err != nil {
		t.Errorf("CMS does not verify: %v", err)
	}
	in := filepath.Join(dir, "signed.p7s")
	os.WriteFile(in, der, 0o600)
	out, err := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", in,
		"-CAfile", certPEM, "-purpose", "any").Output()
	if err != nil || !bytes.Equal(out, message) {
		t.Errorf("openssl cms -verify: %v: %q", err, out)
	}
}

func mustPKCS8(t *testing.T, key *rsa.PrivateKey) []byte {
	b, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sameSet(a, b []InstalledCSP) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(c InstalledCSP) bool { return !slices.Contains(b, c) })
}
