package wineagent

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podpis/podpis/agent/wsapi"
	"github.com/podpis/podpis/internal/enginetest"
	"github.com/podpis/podpis/internal/testwine"
	"github.com/podpis/podpis/verify"
)

// TestHeadlessAgent: podpis.exe run --headless under Wine serves a page's
// client of its own Windows account (wscall.exe, under Wine too):
// /v1/info, and a login per certificate for the trusted origin, signed
// through the soft token DLL and accepted by package verify and by
// OpenSSL's GOST engine; another origin is refused. A Linux process on
// the same loopback is refused as well: Wine's GetExtendedTcpTable lists
// its connection with owning process 0, and the peer check
// (internal/peercred) serves only the agent's own Windows account — as
// on Windows, where process 0 is no one's.
func TestHeadlessAgent(t *testing.T) {
	enginetest.Require(t)
	p, b := build(t)
	client := testwine.Build(t, t.TempDir(), "wscall.exe", "github.com/podpis/podpis/internal/wineagent/testdata/wscall")
	tk := newToken(t)
	const site = "https://lk.example.ru"
	addr, agentLog := p.StartAgent(t, append(agentEnv(t, tk.dir), "PODPIS_PIN="+pin), b.exe,
		"--headless", "--trust-origin", site, "--module", winPath(b.dll), "--no-known-modules")

	v, err := verify.New(verify.Config{Origins: []string{site}, Roots: []*x509.Certificate{tk.ca.Cert}})
	if err != nil {
		t.Fatal(err)
	}
	var reqs []string
	add := func(method string, params any) {
		raw, _ := json.Marshal(map[string]any{"id": len(reqs) + 1, "method": method, "params": params})
		reqs = append(reqs, string(raw))
	}
	add("certificates", map[string]any{})
	var ids []string
	for id := range tk.certs {
		ch, err := v.IssueChallenge(context.Background(), site)
		if err != nil {
			t.Fatal(err)
		}
		add("authenticate", wsapi.AuthenticateParams{Certificate: id, Challenge: ch.Value})
		ids = append(ids, id)
	}
	file := filepath.Join(t.TempDir(), "requests.jsonl")
	os.WriteFile(file, []byte(strings.Join(reqs, "\n")+"\n"), 0o600)
	out, code := wine(t, p, "", nil, client, addr, site, winPath(file))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 1+len(reqs) {
		log, _ := os.ReadFile(agentLog)
		t.Fatalf("wscall: exit %d:\n%s\nagent:\n%s", code, out, log)
	}
	var info struct{ Product, Version string }
	if json.Unmarshal([]byte(lines[0]), &info) != nil || info.Product != "podpis" || info.Version != version {
		t.Errorf("/v1/info: %s", lines[0])
	}
	type answer struct {
		Result json.RawMessage
		Error  *wsapi.Error
	}
	var certs wsapi.CertificatesResult
	var a answer
	if json.Unmarshal([]byte(lines[1]), &a) != nil || a.Error != nil || json.Unmarshal(a.Result, &certs) != nil || len(certs.Certificates) != len(tk.certs) {
		t.Fatalf("certificates: %s", lines[1])
	}
	ca := tk.caFile(t)
	for i, id := range ids {
		var auth wsapi.AuthenticateResult
		if json.Unmarshal([]byte(lines[2+i]), &a) != nil || a.Error != nil || json.Unmarshal(a.Result, &auth) != nil {
			t.Errorf("authenticate with %s: %s", id, lines[2+i])
			continue
		}
		der, _ := base64.StdEncoding.DecodeString(auth.CMS)
		r, err := v.VerifyLogin(context.Background(), der, site)
		if err != nil {
			t.Errorf("verify rejects the login made with %s: %v", id, err)
			continue
		}
		if r.Identity.CommonName != tk.certs[id].Subject.CommonName {
			t.Errorf("login by %q with %s", r.Identity.CommonName, id)
		}
		sig := filepath.Join(t.TempDir(), "login.p7s")
		os.WriteFile(sig, der, 0o600)
		if out, err := enginetest.Try(nil, "cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER", "-in", sig,
			"-CAfile", ca, "-purpose", "any", "-out", os.DevNull); err != nil {
			t.Errorf("OpenSSL rejects the login made with %s: %v\n%s", id, err, out)
		}
	}
	// Another origin, from the agent's own account: refused.
	os.WriteFile(file, nil, 0o600)
	if out, code := wine(t, p, "", nil, client, addr, "https://evil.example", winPath(file)); code == 0 || !strings.Contains(out, "HTTP 403") {
		t.Errorf("an untrusted origin served by a headless agent: exit %d: %s", code, out)
	}
	// A Linux process: no Windows account owns its socket.
	if resp, err := http.Get("http://" + addr + "/v1/info"); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a Linux process served by podpis.exe: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}
