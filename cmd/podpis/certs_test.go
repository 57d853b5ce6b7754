package main

import (
	"crypto/sha1"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/internal/testtoken"
	"github.com/rogpeppe/go-internal/testscript"
)

var (
	tokenEnv *testtoken.Env
	tokenCA  *testpki.Issuer
	// tokenCertID is the thumbprint of the soft token's certificate.
	tokenCertID string
)

// TestMain puts one GOST key in the soft token before anything loads it.
func TestMain(m *testing.M) {
	// Tests run the command as a separate process by re-executing the
	// test binary with PODPIS_RUN_MAIN set, and scripts as "podpis".
	if os.Getenv("PODPIS_RUN_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	if scriptCommands[filepath.Base(os.Args[0])] != nil {
		testscript.Main(m, scriptCommands)
	}
	env, err := testtoken.Setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tokenEnv = env
	// The agents and doctors the tests start find each other through
	// this folder, never through the machine's (another podpis may run
	// there, or another engineer's tests).
	rt := filepath.Join(env.Dir, "rt")
	if err := os.Mkdir(rt, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_RUNTIME_DIR", rt)
	t := testpki.MainTB{}
	tokenCA = testpki.Root(t, gost3410.CurveTC26512A, "CLI CA", time.Now())
	cert, key := tokenCA.Person(t, gost3410.CurveTC26256A, pkix.Name{CommonName: "Сидоров Сидор",
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: []int{1, 2, 643, 100, 3}, Value: "12345678901"}}}, time.Now(), nil)
	if err := env.AddToSoftToken("sidorov", key, cert); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tokenCertID = fmt.Sprintf("%x", sha1.Sum(cert.Raw))
	testscript.Main(cleanupM{m, env}, scriptCommands)
}

// cleanupM removes the tokens after the tests: testscript.Main exits
// without returning.
type cleanupM struct {
	m   *testing.M
	env *testtoken.Env
}

func (c cleanupM) Run() int {
	defer c.env.Cleanup()
	return c.m.Run()
}

func TestCertsAndSign(t *testing.T) {
	defer tokenEnv.ResetPIN()
	mod := tokenEnv.SoftToken
	out, errOut, code := runCLI(t, "certs", "--module", mod, "--no-known-modules", "--json")
	var certs []struct {
		ID       string
		Token    string
		HasKey   bool
		Identity struct{ CommonName, SNILS string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &certs) != nil {
		t.Fatalf("certs --json: exit %d\n%s%s", code, out, errOut)
	}
	var id string
	for _, c := range certs {
		if c.Identity.CommonName == "Сидоров Сидор" && c.HasKey && c.Identity.SNILS == "12345678901" && c.Token == "podpis soft token" {
			id = c.ID
		}
	}
	if id == "" {
		t.Fatalf("soft token certificate not listed:\n%s", out)
	}
	out, _, code = runCLI(t, "certs", "--module", mod, "--no-known-modules")
	if code != 0 || !strings.Contains(out, id+"  Сидоров Сидор") || !strings.Contains(out, "    СНИЛС: 123-456-789 01\n") {
		t.Fatalf("certs: exit %d\n%s", code, out)
	}

	dir := t.TempDir()
	in := filepath.Join(dir, "doc.txt")
	os.WriteFile(in, []byte("Заявление"), 0o600)
	roots := filepath.Join(dir, "roots.pem")
	os.WriteFile(roots, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tokenCA.Cert.Raw}), 0o600)
	t.Setenv("PODPIS_PIN", testtoken.PIN)
	for _, detached := range []bool{false, true} {
		sig := filepath.Join(dir, fmt.Sprintf("sig-%v.p7s", detached))
		args := []string{"sign", "--cert", id, "--in", in, "--out", sig, "--module", mod, "--no-known-modules"}
		vargs := []string{"verify", "--roots", roots, sig}
		if detached {
			args = append(args, "--detached")
			vargs = []string{"verify", "--roots", roots, "--content", in, sig}
		}
		if _, errOut, code := runCLI(t, args...); code != 0 {
			t.Fatalf("sign detached=%v: exit %d: %s", detached, code, errOut)
		}
		if out, _, code := runCLI(t, vargs...); code != 0 || !strings.Contains(out, "    Владелец: Сидоров Сидор\n") {
			t.Fatalf("verify detached=%v: exit %d\n%s", detached, code, out)
		}
	}

	t.Setenv("PODPIS_PIN", "0000")
	if _, errOut, code := runCLI(t, "sign", "--cert", id, "--in", in, "--out", filepath.Join(dir, "x"), "--module", mod, "--no-known-modules"); code != 1 || !strings.Contains(errOut, "PIN_INCORRECT: Неверный PIN-код") {
		t.Fatalf("wrong PIN: exit %d: %s", code, errOut)
	}
	if tokenEnv.PINFailures() != 1 {
		t.Fatalf("counter %d after one wrong PIN", tokenEnv.PINFailures())
	}
	if _, errOut, code := runCLI(t, "sign", "--cert", strings.Repeat("0", 40), "--in", in, "--out", filepath.Join(dir, "x"), "--module", mod, "--no-known-modules"); code != 1 || !strings.Contains(errOut, "CERT_NOT_FOUND") {
		t.Fatalf("unknown certificate: exit %d: %s", code, errOut)
	}
	if _, errOut, code := runCLI(t, "certs", "--module", "/nonexistent/lib.so", "--no-known-modules"); code != 1 || !strings.Contains(errOut, "NO_PROVIDER") {
		t.Fatalf("missing module: exit %d: %s", code, errOut)
	}
	if _, _, code := runCLI(t, "sign", "--cert", id); code != 2 {
		t.Fatalf("usage: exit %d", code)
	}
}
