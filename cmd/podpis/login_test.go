package main

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/internal/testtoken"
	"github.com/podpis/podpis/login"
	"github.com/podpis/podpis/verify"
)

// TestVerifyLoginCommand runs the contract of podpis verify --login ORIGIN:
// exit 0 a valid login for ORIGIN (challenge printed), 1 not (code and
// sentence on stderr), 2 usage or I/O.
func TestVerifyLoginCommand(t *testing.T) {
	dir, now, leaf, key, roots, write := verifySetup(t)
	const site = "https://lk.example.ru"
	doc := login.NewDocument(site, "the-challenge", now).Marshal()
	signed, _ := cms.Sign(doc, leaf, key, &cms.SignOptions{ContentType: login.OID})
	asData, _ := cms.Sign(doc, leaf, key, nil)
	loginPath := write("login.p7s", signed)

	out, errOut, code := runCLI(t, "verify", "--login", site, "--roots", roots, loginPath)
	if code != 0 || !strings.HasPrefix(out, "OK login\n") || !strings.Contains(out, "challenge: the-challenge\n") ||
		!strings.Contains(out, "signer: Петров Пётр\n") || !strings.Contains(out, "snils: 11223344595\n") {
		t.Fatalf("valid login: exit %d\n%s%s", code, out, errOut)
	}
	out, _, code = runCLI(t, "verify", "--login", site, "--roots", roots, "--json", loginPath)
	var res struct {
		Valid     bool
		Challenge string
		Identity  struct{ SNILS string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || !res.Valid || res.Challenge != "the-challenge" || res.Identity.SNILS != "11223344595" {
		t.Fatalf("--json: exit %d, %s", code, out)
	}
	for _, c := range []struct {
		name string
		args []string
		code string
	}{
		{"another site", []string{"--login", "https://evil.example", "--roots", roots, loginPath}, "ORIGIN_MISMATCH"},
		{"document signature", []string{"--login", site, "--roots", roots, write("data.p7s", asData)}, "WRONG_PURPOSE"},
		{"signed long before", []string{"--login", site, "--roots", roots, "--at", now.Add(time.Hour).Format(time.RFC3339), loginPath}, "CLOCK_SKEW"},
		{"untrusted", []string{"--login", site, "--roots", write("other.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE",
			Bytes: testpki.Root(t, gost3410.CurveTC26256A, "Other", now).Cert.Raw})), loginPath}, "UNTRUSTED"},
		{"junk", []string{"--login", site, "--roots", roots, write("junk", []byte("junk"))}, "MALFORMED"},
	} {
		out, errOut, code := runCLI(t, append([]string{"verify"}, c.args...)...)
		want := "podpis: " + c.code + ": " + verify.Code(c.code).Description() + "\n"
		if code != 1 || !strings.HasPrefix(errOut, want) || out != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 1 and %q", c.name, code, out, errOut, want)
		}
	}
	for _, args := range [][]string{
		{"verify", "--login", site, loginPath},
		{"verify", "--login", site, "--roots", roots, "--content", loginPath, loginPath},
		{"verify", "--login", site, "--roots", roots, filepath.Join(dir, "missing.p7s")},
		{"verify", "--login", site, "--roots", roots, "--at", "yesterday", loginPath},
	} {
		if _, _, code := runCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// TestSignRefusesLoginDocument (issue 18, attack 1 on the command line):
// podpis sign will not sign a login document, in any spelling, as a
// document; nothing is written and the token is not touched.
func TestSignRefusesLoginDocument(t *testing.T) {
	defer tokenEnv.ResetPIN()
	dir := t.TempDir()
	certs, _, code := runCLI(t, "certs", "--module", tokenEnv.SoftToken, "--no-known-modules", "--json")
	var list []struct{ ID string }
	if code != 0 || json.Unmarshal([]byte(certs), &list) != nil || len(list) == 0 {
		t.Fatalf("certs: exit %d", code)
	}
	id := list[0].ID
	t.Setenv("PODPIS_PIN", testtoken.PIN)
	now := time.Now().UTC().Format(time.RFC3339)
	for i, doc := range []string{
		fmt.Sprintf(`{"format":"podpis-auth:1","origin":"https://victim.example","challenge":"c","time":%q}`, now),
		string(login.NewDocument("https://victim.example", "c", time.Now()).Marshal()),
		"\ufeff\n" + string(login.NewDocument("https://victim.example", "c", time.Now()).Marshal()),
	} {
		in := filepath.Join(dir, fmt.Sprint("doc", i))
		os.WriteFile(in, []byte(doc), 0o600)
		out := filepath.Join(dir, fmt.Sprint("sig", i))
		_, errOut, code := runCLI(t, "sign", "--cert", id, "--in", in, "--out", out, "--module", tokenEnv.SoftToken, "--no-known-modules")
		if code != 1 || !strings.Contains(errOut, "login document") {
			t.Errorf("%q: exit %d, %s", doc, code, errOut)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%q: a signature was written", doc)
		}
	}
	// An ordinary JSON document is signed, as id-data.
	in := filepath.Join(dir, "ok.json")
	os.WriteFile(in, []byte(`{"format":"pdf","title":"Договор"}`), 0o600)
	out := filepath.Join(dir, "ok.p7s")
	if _, errOut, code := runCLI(t, "sign", "--cert", id, "--in", in, "--out", out, "--module", tokenEnv.SoftToken, "--no-known-modules"); code != 0 {
		t.Fatalf("ordinary JSON: exit %d: %s", code, errOut)
	}
	der, _ := os.ReadFile(out)
	if sd, err := cms.Parse(der); err != nil || !sd.ContentType.Equal(cms.OIDData) {
		t.Fatalf("ordinary JSON: %v", err)
	}
}
