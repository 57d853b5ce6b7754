package main

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/cades"
	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/tsp"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/internal/testtoken"
	"github.com/podpis/podpis/internal/testtsa"
)

// TestSignCAdES: podpis sign --tsa --cades t makes a CAdES-T that podpis
// verify reports with its timestamp; a TSA that is down, or an X Long
// whose revocation evidence cannot be had, is an error with its code and
// no file, never a CAdES-BES; bad flags are usage errors before any PIN.
func TestSignCAdES(t *testing.T) {
	tsa := testtsa.Start(t, testtsa.GOST256)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o600)
		return p
	}
	in := write("doc.txt", []byte("Доверенность"))
	roots := write("roots.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tokenCA.Cert.Raw}))
	tsaRoots := write("tsa-roots.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tsa.Root.Raw}))
	t.Setenv("PODPIS_PIN", testtoken.PIN)
	sign := func(out string, extra ...string) (string, int) {
		args := append([]string{"sign", "--cert", tokenCertID, "--in", in, "--out", out, "--detached",
			"--module", tokenEnv.SoftToken, "--no-known-modules"}, extra...)
		_, errOut, code := runCLI(t, args...)
		return errOut, code
	}

	sig := filepath.Join(dir, "doc.sig")
	if errOut, code := sign(sig, "--cades", "t", "--tsa", tsa.URL); code != 0 {
		t.Fatalf("sign --cades t: exit %d: %s", code, errOut)
	}
	out, errOut, code := runCLI(t, "verify", "--roots", roots, "--tsa-roots", tsaRoots, "--content", in, sig)
	if code != 0 || !strings.Contains(out, "    Форма: CAdES-T\n") || !strings.Contains(out, "    Штамп времени подписи: ") ||
		!strings.Contains(out, "(CN=Тестовая служба времени,O=podpis)") {
		t.Fatalf("verify of a CAdES-T: exit %d\n%s%s", code, out, errOut)
	}
	out, _, code = runCLI(t, "verify", "--roots", roots, "--tsa-roots", tsaRoots, "--content", in, "--json", sig)
	var res struct {
		Signers []struct {
			Level      string
			Timestamps []struct{ Kind, TSA string }
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Signers[0].Level != "t" ||
		len(res.Signers[0].Timestamps) != 1 || res.Signers[0].Timestamps[0].Kind != "signature" {
		t.Fatalf("verify --json of a CAdES-T: exit %d\n%s", code, out)
	}
	// Attached: the streamed (BER) signature is extended as well.
	attached := filepath.Join(dir, "doc.p7s")
	args := []string{"sign", "--cert", tokenCertID, "--in", in, "--out", attached, "--module", tokenEnv.SoftToken, "--no-known-modules", "--tsa", tsa.URL}
	if _, errOut, code := runCLI(t, args...); code != 0 {
		t.Fatalf("sign attached --tsa: exit %d: %s", code, errOut)
	}
	if out, errOut, code := runCLI(t, "verify", "--roots", roots, "--tsa-roots", tsaRoots, attached); code != 0 || !strings.Contains(out, "    Форма: CAdES-T\n") {
		t.Fatalf("verify of an attached CAdES-T: exit %d\n%s%s", code, out, errOut)
	}
	// The TSA's root is not the signer's: without --tsa-roots it is not
	// trusted.
	if out, _, code := runCLI(t, "verify", "--roots", roots, "--content", in, sig); code != 1 || !strings.HasPrefix(out, "TIMESTAMP_UNTRUSTED: ") {
		t.Fatalf("verify without the TSA's root: exit %d\n%s", code, out)
	}

	tsa.Down.Store(true)
	failed := filepath.Join(dir, "failed.sig")
	if errOut, code := sign(failed, "--tsa", tsa.URL); code != 1 || !strings.Contains(errOut, "podpis: TSA_UNAVAILABLE: Служба штампов времени недоступна") {
		t.Fatalf("TSA down: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(failed); err == nil {
		t.Fatal("a TSA failure left a signature")
	}
	tsa.Down.Store(false)
	// The soft token's certificate names no CRL or OCSP: no X Long.
	if errOut, code := sign(failed, "--cades", "xl1", "--tsa", tsa.URL, "--chain", roots); code != 1 || !strings.Contains(errOut, "podpis: REVOCATION_UNAVAILABLE: ") {
		t.Fatalf("X Long without revocation sources: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(failed); err == nil {
		t.Fatal("a failed X Long left a signature")
	}

	hits := tsa.Hits.Load()
	for _, args := range [][]string{
		{"--cades", "t"},
		{"--cades", "a", "--tsa", tsa.URL},
		{"--cades", "t", "--tsa", "ftp://tsa.example/"},
		{"--tsa", "/tmp/tsa"},
	} {
		if errOut, code := sign(failed, args...); code != 2 {
			t.Errorf("%q: exit %d: %s", args, code, errOut)
		}
	}
	if tsa.Hits.Load() != hits {
		t.Error("a usage error reached the TSA")
	}
}

// TestVerifyXL1Offline: podpis verify of a CAdES-X Long Type 1 whose CA's
// CRL servers are gone, after the signer's certificate expired, with
// revocation required: valid, from what the signature carries, and it
// says so.
func TestVerifyXL1Offline(t *testing.T) {
	now := time.Now()
	c := gost3410.CurveTC26256A
	root := testpki.Root(t, c, "Корневой УЦ", now)
	rev := root.Serve(t)
	cert, key := root.Person(t, c, pkix.Name{CommonName: "Кузнецова Анна"}, now, func(x *x509.Certificate) {
		x.CRLDistributionPoints = []string{rev.CRLURL}
	})
	tsa := testtsa.Start(t, testtsa.GOST256)
	content := []byte("ON_EMCHD")
	msg, err := cms.Sign(content, cert, key, &cms.SignOptions{Detached: true})
	if err != nil {
		t.Fatal(err)
	}
	xl, err := cades.Extend(context.Background(), msg, cades.XL1, cades.Options{TSA: &tsp.Client{URL: tsa.URL}, Certificates: []*x509.Certificate{root.Cert}})
	if err != nil {
		t.Fatal(err)
	}
	rev.Close()
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o600)
		return p
	}
	sig, in := write("doc.sig", xl), write("doc.xml", content)
	roots := write("roots.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Cert.Raw}))
	tsaRoots := write("tsa.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tsa.Root.Raw}))
	out, errOut, code := runCLI(t, "verify", "--roots", roots, "--tsa-roots", tsaRoots, "--revocation", "require",
		"--at", cert.NotAfter.AddDate(1, 0, 0).Format(time.RFC3339), "--content", in, sig)
	for _, want := range []string{"OK\n", "    Форма: CAdES-X Long Type 1\n", "    Штамп времени подписи: ", "    Штамп времени CAdES-C: ",
		"    Отзыв: Кузнецова Анна: CRL in the signature: not listed\n"} {
		if !strings.Contains(out, want) {
			t.Fatalf("exit %d, no %q in\n%s%s", code, want, out, errOut)
		}
	}
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	t.Logf("\n%s", out)
}
