package wineagent

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/podpis/podpis/internal/enginetest"
)

// TestSoftTokenDLL: the GOST soft token built as a Windows DLL is loaded
// by podpis.exe over PKCS#11 exactly as rtPKCS11ECP.dll and jcPKCS11-2.dll
// are (Windows' packed structures, 32-bit CK_ULONG): doctor finds its
// token and certificates, certs lists both keys, and sign makes a CMS
// signature with each that OpenSSL's GOST engine verifies on the Linux
// side. A wrong PIN comes back as PIN_INCORRECT, once: never retried.
func TestSoftTokenDLL(t *testing.T) {
	enginetest.Require(t)
	p, b := build(t)
	tk := newToken(t)
	env := agentEnv(t, tk.dir)
	module := winPath(b.dll)

	r := doctor(t, p, "", env, b.exe, "--module", module, "--no-known-modules")
	if len(r.Report.Modules) != 1 {
		t.Fatalf("modules: %+v", r.Report.Modules)
	}
	m := r.Report.Modules[0]
	if !m.Loaded || m.Name != "podpis soft token" || len(m.Slots) == 0 || !m.Slots[0].TokenPresent ||
		!slices.Contains(m.Slots[0].GOSTMechanisms, "CKM_GOSTR3410_WITH_GOSTR3411_12_512") {
		t.Fatalf("the soft token DLL: %+v", m)
	}
	if len(r.Report.Certificates) != len(tk.certs) {
		t.Errorf("doctor lists %d certificates, the token holds %d", len(r.Report.Certificates), len(tk.certs))
	}

	out, code := wine(t, p, "", env, b.exe, "certs", "--module", module, "--no-known-modules", "--json")
	var listed []struct {
		ID     string `json:"id"`
		HasKey bool   `json:"hasKey"`
	}
	if err := json.Unmarshal([]byte(out), &listed); err != nil || code != 0 || len(listed) != len(tk.certs) {
		t.Fatalf("certs --json: exit %d %v:\n%s", code, err, out)
	}
	work := t.TempDir()
	doc := filepath.Join(work, "doc.txt")
	content := "Заявление о выдаче справки, подписано под Wine\n"
	os.WriteFile(doc, []byte(content), 0o600)
	ca := tk.caFile(t)

	// One wrong PIN first: the module's counter must see exactly one.
	id := listed[0].ID
	bad := filepath.Join(work, "bad.p7s")
	out, code = wine(t, p, "", append(env, "PODPIS_PIN=0000"), b.exe, "sign", "--cert", id, "--in", winPath(doc), "--out", winPath(bad), "--module", module, "--no-known-modules")
	if code != 1 || !strings.Contains(out, "PIN_INCORRECT") {
		t.Errorf("wrong PIN: exit %d: %s", code, out)
	}
	if _, err := os.Stat(bad); err == nil {
		t.Error("a signature written with a wrong PIN")
	}
	if n := pinFailures(tk.dir); n != 1 {
		t.Errorf("the token counted %d wrong PINs for one wrong PIN", n)
	}

	for _, c := range listed {
		if !c.HasKey || tk.certs[c.ID] == nil {
			t.Errorf("certificate %s: not the token's, or without its key", c.ID)
			continue
		}
		sig := filepath.Join(work, c.ID+".p7s")
		out, code := wine(t, p, "", append(env, "PODPIS_PIN="+pin), b.exe, "sign", "--cert", c.ID, "--in", winPath(doc), "--out", winPath(sig), "--module", module, "--no-known-modules")
		if code != 0 {
			t.Errorf("sign with %s: exit %d: %s", c.ID, code, out)
			continue
		}
		got := filepath.Join(work, c.ID+".out")
		if out, err := enginetest.Try(nil, "cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER", "-in", sig,
			"-CAfile", ca, "-purpose", "any", "-out", got); err != nil {
			t.Errorf("OpenSSL rejects the signature made with %s (%s): %v\n%s", c.ID, tk.certs[c.ID].Subject.CommonName, err, out)
			continue
		}
		if b, _ := os.ReadFile(got); string(b) != content {
			t.Errorf("the signature with %s holds %q", c.ID, b)
		}
	}
}

// pinFailures reads the soft token's wrong-PIN counter (internal/softtoken
// keeps it in .pin-state).
func pinFailures(dir string) int {
	var s struct {
		Failures int `json:"failures"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, ".pin-state"))
	json.Unmarshal(b, &s)
	return s.Failures
}
