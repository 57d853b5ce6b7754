package pkcs11

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/podpis/podpis/internal/enginetest"
	"github.com/podpis/podpis/internal/testdeps"
	"github.com/podpis/podpis/internal/testtoken"
)

func pkcs11Tool(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command("pkcs11-tool", append([]string{"--module", env.SoftToken}, args...)...).CombinedOutput()
	return string(out), err
}

// TestSoftTokenWithPkcs11Tool drives the soft token with OpenSC's
// pkcs11-tool, a client we did not write: it must see the token, name the
// TC26 mechanisms, list objects (private keys only after login), sign with
// both GOST mechanisms so that OpenSSL's engine verifies, and count a
// wrong PIN once.
func TestSoftTokenWithPkcs11Tool(t *testing.T) {
	requireSetup(t)
	testdeps.Need(t, "pkcs11-tool") // Debian opensc
	defer env.ResetPIN()
	out, err := pkcs11Tool(t, "--list-token-slots")
	if err != nil || !strings.Contains(out, "podpis soft token") || !strings.Contains(out, "login required") {
		t.Fatalf("slots: %v\n%s", err, out)
	}
	out, _ = pkcs11Tool(t, "--list-mechanisms")
	for _, m := range []string{"GOSTR3410,", "GOSTR3410_512", "GOSTR3410-WITH-GOSTR3411-12-256", "GOSTR3410-WITH-GOSTR3411-12-512"} {
		if !strings.Contains(out, m) {
			t.Errorf("mechanism %s missing:\n%s", m, out)
		}
	}
	out, _ = pkcs11Tool(t, "--list-objects")
	if strings.Contains(out, "Private Key Object") || !strings.Contains(out, "Public Key Object") {
		t.Fatalf("private keys visible before login:\n%s", out)
	}
	out, err = pkcs11Tool(t, "--login", "--pin", testtoken.PIN, "--list-objects")
	if err != nil || strings.Count(out, "Private Key Object; GOSTR3410-2012-256") != 9 || strings.Count(out, "Private Key Object; GOSTR3410-2012-512") != 3 {
		t.Fatalf("objects after login: %v\n%s", err, out)
	}

	dir := t.TempDir()
	msg := filepath.Join(dir, "msg")
	os.WriteFile(msg, []byte("подпись через pkcs11-tool"), 0o600)
	for _, c := range []struct{ name, mech, md string }{
		{"gost2012_256-TCA", "GOSTR3410-WITH-GOSTR3411-12-256", "-md_gost12_256"},
		{"gost2012_512-C", "GOSTR3410-WITH-GOSTR3411-12-512", "-md_gost12_512"},
	} {
		id := objectID(t, out, c.name)
		sig := filepath.Join(dir, c.name+".sig")
		if o, err := pkcs11Tool(t, "--login", "--pin", testtoken.PIN, "--sign", "--mechanism", c.mech, "--id", id, "-i", msg, "-o", sig); err != nil {
			t.Fatalf("%s: %v\n%s", c.name, err, o)
		}
		pub := filepath.Join(dir, c.name+".pub")
		enginetest.Run(t, nil, "pkey", "-engine", "gost", "-in", filepath.Join(env.SoftTokenDir, c.name+".key"), "-pubout", "-out", pub)
		if o := enginetest.Run(t, nil, "dgst", "-engine", "gost", c.md, "-verify", pub, "-signature", sig, msg); !strings.Contains(string(o), "Verified OK") {
			t.Fatalf("%s: %s", c.name, o)
		}
	}

	if o, err := pkcs11Tool(t, "--login", "--pin", "0000", "--list-objects"); err == nil || !strings.Contains(o, "CKR_PIN_INCORRECT") {
		t.Fatalf("wrong PIN: %v\n%s", err, o)
	}
	if env.PINFailures() != 1 {
		t.Fatalf("counter %d after one wrong PIN", env.PINFailures())
	}
	if o, _ := pkcs11Tool(t, "--list-token-slots"); !strings.Contains(o, "user PIN count low") {
		t.Fatalf("token does not report the wrong PIN:\n%s", o)
	}
}

// objectID finds the CKA_ID of the object labelled name in pkcs11-tool's
// listing.
func objectID(t *testing.T, listing, name string) string {
	t.Helper()
	re := regexp.MustCompile(`label:\s+` + regexp.QuoteMeta(name) + `\s*\n(?:.*\n)*?\s+ID:\s+([0-9a-f]+)`)
	m := re.FindStringSubmatch(listing)
	if m == nil {
		t.Fatalf("no object %s", name)
	}
	return m[1]
}
