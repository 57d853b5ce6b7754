package main

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/testpki"
)

// TestVerifyCommand runs the CLI contract: exit 0 valid, 1 invalid with
// the reason code, 2 usage or I/O; --at and --json.
func TestVerifyCommand(t *testing.T) {
	dir, now, leaf, key, roots, write := verifySetup(t)
	content := write("doc.txt", []byte("Заявление"))
	attached, _ := cms.Sign([]byte("Заявление"), leaf, key, nil)
	detached, _ := cms.Sign([]byte("Заявление"), leaf, key, &cms.SignOptions{Detached: true})
	attachedPath := write("a.p7s", attached)
	detachedPEM := write("d.pem", pem.EncodeToMemory(&pem.Block{Type: "CMS", Bytes: detached}))

	out, errOut, code := runCLI(t, "verify", "--roots", roots, attachedPath)
	if code != 0 || !strings.HasPrefix(out, "OK\n") || !strings.Contains(out, "    Владелец: Петров Пётр\n") || !strings.Contains(out, "    СНИЛС: 112-233-445 95\n") {
		t.Fatalf("valid: exit %d\n%s%s", code, out, errOut)
	}
	if _, _, code := runCLI(t, "verify", "--roots", roots, "--content", content, detachedPEM); code != 0 {
		t.Fatalf("detached PEM: exit %d", code)
	}
	out, _, code = runCLI(t, "verify", "--roots", roots, "--at", now.AddDate(2, 0, 0).Format(time.RFC3339), attachedPath)
	if code != 1 || !strings.HasPrefix(out, "EXPIRED: ") {
		t.Fatalf("--at after expiry: exit %d, %q", code, out)
	}
	out, _, code = runCLI(t, "verify", "--roots", roots, "--json", "--content", write("other.txt", []byte("Другое")), detachedPEM)
	var res struct {
		Valid bool
		Code  string
	}
	if code != 1 || json.Unmarshal([]byte(out), &res) != nil || res.Valid || res.Code != "CONTENT_MISMATCH" {
		t.Fatalf("--json invalid: exit %d, %s", code, out)
	}
	out, _, code = runCLI(t, "verify", "--roots", roots, "--json", attachedPath)
	var ok struct {
		Valid    bool
		Identity struct{ SNILS, Thumbprint string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &ok) != nil || !ok.Valid || ok.Identity.SNILS != "11223344595" || len(ok.Identity.Thumbprint) != 40 {
		t.Fatalf("--json valid: exit %d, %s", code, out)
	}
	if out, _, code = runCLI(t, "verify", "--roots", roots, write("junk", []byte("junk"))); code != 1 || !strings.HasPrefix(out, "MALFORMED: ") {
		t.Fatalf("junk: exit %d, %q", code, out)
	}
	for _, args := range [][]string{
		{"verify", attachedPath},
		{"verify", "--roots", filepath.Join(dir, "missing.pem"), attachedPath},
		{"verify", "--roots", roots, filepath.Join(dir, "missing.p7s")},
		{"verify", "--roots", roots, "--at", "yesterday", attachedPath},
		{"verify", "--roots", content, attachedPath},
	} {
		if _, _, code := runCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// verifySetup makes what the podpis verify tests start from: a temporary
// dir, a root whose PEM is in roots, and under it Петров Пётр, SNILS
// 11223344595, with his key; write puts a file in dir and returns its path.
func verifySetup(t *testing.T) (dir string, now time.Time, leaf *x509.Certificate, key *gost3410.PrivateKey, roots string, write func(name string, b []byte) string) {
	dir = t.TempDir()
	now = time.Now()
	ca := testpki.Root(t, gost3410.CurveTC26512A, "CLI Root", now)
	leaf, key = ca.Person(t, gost3410.CurveTC26256A, pkix.Name{CommonName: "Петров Пётр",
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: []int{1, 2, 643, 100, 3}, Value: "11223344595"}}}, now, nil)
	write = func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o600)
		return p
	}
	roots = write("roots.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw}))
	return dir, now, leaf, key, roots, write
}
