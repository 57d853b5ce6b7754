package wineui

import (
	"context"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/agent/wsapi"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/internal/enginetest"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/internal/testwine"
	"github.com/podpis/podpis/ui/uiproto"
	"github.com/podpis/podpis/verify"
)

// TestWineAgentLogin: the whole of a login on Windows, under Wine.
// podpis.exe run — not headless: it asks in its own windows — with
// podpis-ui.exe next to it, both built as the installer builds them
// (-H windowsgui: the window's stdin and stdout are the pipes the agent
// gave it, with no console), and the GOST soft
// token as a Windows PKCS#11 DLL; a page's client of the same Windows
// account (wscall.exe) asks for a login. The agent starts the PIN window
// itself (a Windows process starting a Windows process with pipes); a
// wrong PIN typed into it is refused by the token and said in the same
// window, the right one typed next signs, and the login is accepted by
// package verify and by OpenSSL's GOST engine.
func TestWineAgentLogin(t *testing.T) {
	enginetest.Require(t)
	d := setup(t)
	const site, pin = "https://lk.example.ru", "5791"
	// The programs as the installer ships them (scripts/package-windows.sh):
	// -H windowsgui, no console; podpis-ui.exe next to podpis.exe.
	install := t.TempDir()
	exe := testwine.Build(t, install, "podpis.exe", "github.com/podpis/podpis/cmd/podpis", "-ldflags", "-H windowsgui")
	testwine.Build(t, install, "podpis-ui.exe", "github.com/podpis/podpis/cmd/podpis-ui", "-ldflags", "-H windowsgui")
	dll := testwine.Build(t, buildDir, "podpis-softtoken.dll", "github.com/podpis/podpis/cmd/podpis-softtoken", "-buildmode=c-shared")
	client := testwine.Build(t, t.TempDir(), "wscall.exe", "github.com/podpis/podpis/internal/wineagent/testdata/wscall")

	now := time.Now()
	tokens := t.TempDir()
	ca := testpki.Root(t, gost3410.CurveTC26512A, "Wine CA", now)
	cert, key := ca.Person(t, gost3410.CurveTC26256A, pkix.Name{CommonName: "Иванов Иван Иванович"}, now, nil)
	der, err := gostx509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(tokens, "ivanov.key"), "PRIVATE KEY", der)
	writePEM(t, filepath.Join(tokens, "ivanov.pem"), "CERTIFICATE", cert.Raw)
	data := t.TempDir()
	env := []string{
		"PODPIS_DATA_DIR=" + testwine.WindowsPath(data),
		"PODPIS_CONFIG=" + testwine.WindowsPath(filepath.Join(data, "config.json")),
		"PODPIS_SYSTEM_CONFIG=",
		"PODPIS_SOFTTOKEN_DIR=" + testwine.WindowsPath(tokens),
		"PODPIS_SOFTTOKEN_PIN=" + pin,
		"PODPIS_PIN=", // not headless: no PIN but the one typed
	}
	addr, agentLog := d.p.StartAgent(t, env, exe, "--trust-origin", site, "--module", testwine.WindowsPath(dll), "--no-known-modules")

	v, err := verify.New(verify.Config{Origins: []string{site}, Roots: []*x509.Certificate{ca.Cert}})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := v.IssueChallenge(context.Background(), site)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := json.Marshal(map[string]any{"id": 1, "method": "authenticate",
		"params": wsapi.AuthenticateParams{Certificate: fmt.Sprintf("%x", sha1.Sum(cert.Raw)), Challenge: ch.Value}})
	reqFile := filepath.Join(t.TempDir(), "requests.jsonl")
	os.WriteFile(reqFile, append(req, '\n'), 0o600)

	type result struct {
		out string
		err error
	}
	called := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := d.p.Run(ctx, "wine", client, addr, site, testwine.WindowsPath(reqFile))
		called <- result{string(out), err}
	}()
	win := d.find(t, uiproto.TitlePIN)
	time.Sleep(read)
	d.shot(t, win, "wine-agent-pin-01-fresh.png")
	d.keys(t, win, []string{"type", "0000"}, []string{"key", "Return"})
	// The token's answer comes back to the window in a moment; until
	// then its field takes no keys. (No PIN is retried here: the person
	// types the next one.)
	time.Sleep(3 * time.Second)
	d.shot(t, win, "wine-agent-pin-02-wrong.png")
	d.keys(t, win, []string{"type", pin}, []string{"key", "Return"})
	r := within(t, d, called, "the login")
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if r.err != nil || len(lines) != 2 {
		log, _ := os.ReadFile(agentLog)
		t.Fatalf("wscall: %v:\n%s\nagent:\n%s", r.err, r.out, log)
	}
	var a struct {
		Result wsapi.AuthenticateResult
		Error  *wsapi.Error
	}
	if json.Unmarshal([]byte(lines[1]), &a) != nil || a.Error != nil {
		t.Fatalf("authenticate: %s", lines[1])
	}
	sig, _ := base64.StdEncoding.DecodeString(a.Result.CMS)
	got, err := v.VerifyLogin(context.Background(), sig, site)
	if err != nil {
		t.Fatalf("verify rejects the login: %v", err)
	}
	if got.Identity.CommonName != cert.Subject.CommonName {
		t.Errorf("login by %q", got.Identity.CommonName)
	}
	sigFile := filepath.Join(t.TempDir(), "login.p7s")
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(sigFile, sig, 0o600)
	writePEM(t, caFile, "CERTIFICATE", ca.Cert.Raw)
	if out, err := enginetest.Try(nil, "cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER", "-in", sigFile,
		"-CAfile", caFile, "-purpose", "any", "-out", os.DevNull); err != nil {
		t.Errorf("OpenSSL rejects the login: %v\n%s", err, out)
	}
	d.gone(t)
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
