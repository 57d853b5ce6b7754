package windows

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/podpis/podpis/internal/testwine"
)

// TestInstallRenewUnderWine runs podpis.exe install, install again,
// install --renew and uninstall under Wine, with crypt32's user Root store
// and the registry of the prefix: the CA goes in once (a second install
// finds it and changes nothing), renewal puts the new CA in and takes the
// old one out, doctor --json sees the CA trusted, and uninstall removes
// the CA and the native-messaging keys it recorded, leaving no records.
func TestInstallRenewUnderWine(t *testing.T) {
	p := testwine.Shared(t)
	exe := testwine.Build(t, t.TempDir(), "podpis.exe", "github.com/podpis/podpis/cmd/podpis")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dataWin := `C:\podpis-install-test`
	data := p.Path(dataWin)
	t.Setenv("PODPIS_DATA_DIR", dataWin)
	// The agent's own store only: no system configuration file.
	t.Setenv("PODPIS_SYSTEM_CONFIG", "")

	podpis := func(args ...string) string {
		t.Helper()
		out, err := p.Run(ctx, "wine", append([]string{exe}, args...)...)
		if err != nil {
			t.Fatalf("podpis %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	inRoot := func(thumb string) bool { return p.RegKeyExists(ctx, rootKey+thumb) }

	out := podpis("install", "--no-autostart")
	ca1 := thumbprint(t, filepath.Join(data, "localca.pem"))
	if !inRoot(ca1) {
		t.Fatalf("the CA is not in the Root store after install:\n%s", out)
	}
	if _, ok := p.RegValue(ctx, runKey, "podpis"); ok {
		t.Error("--no-autostart wrote the Run value")
	}
	for key := range hostKeys {
		if _, ok := p.RegValue(ctx, key, ""); !ok {
			t.Errorf("%s not written", key)
		}
	}
	if out := podpis("install", "--no-autostart"); !bytes.Contains([]byte(out), []byte("уже доверяет")) {
		t.Errorf("a second install did not find the CA in the store:\n%s", out)
	}
	if got := trusted(t, p, ctx, exe); got != 1 {
		t.Errorf("doctor --json: %d stores trust the CA, want the Root store", got)
	}

	podpis("install", "--renew", "--no-autostart")
	ca2 := thumbprint(t, filepath.Join(data, "localca.pem"))
	if ca2 == ca1 || !inRoot(ca2) {
		t.Errorf("renewal: new CA %s in the Root store: %v", ca2, inRoot(ca2))
	}
	if inRoot(ca1) {
		t.Errorf("renewal left the old CA %s in the Root store", ca1)
	}

	out = podpis("uninstall")
	if inRoot(ca2) {
		t.Errorf("uninstall left the CA %s in the Root store:\n%s", ca2, out)
	}
	for key := range hostKeys {
		if p.RegKeyExists(ctx, key) {
			t.Errorf("uninstall left %s", key)
		}
	}
	for _, f := range []string{"trust.json", "nativemsg.json", hostName + ".chrome.json", hostName + ".firefox.json"} {
		if _, err := os.Stat(filepath.Join(data, f)); !os.IsNotExist(err) {
			t.Errorf("uninstall left %s", f)
		}
	}
	if got := trusted(t, p, ctx, exe); got != 0 {
		t.Errorf("doctor --json after uninstall: %d stores trust the CA", got)
	}
}

// trusted is how many stores doctor --json says trust the CA.
func trusted(t *testing.T, p *testwine.Prefix, ctx context.Context, exe string) int {
	t.Helper()
	out, _ := p.Run(ctx, "wine", exe, "doctor", "--json") // exit 1: no agent runs
	var rep struct {
		TLSTrust []struct {
			Store   string `json:"store"`
			Trusted bool   `json:"trusted"`
		} `json:"tlsTrust"`
	}
	i := bytes.IndexByte(out, '{')
	if i < 0 {
		t.Fatalf("doctor --json printed no JSON:\n%s", out)
	}
	if err := json.Unmarshal(out[i:], &rep); err != nil || len(rep.TLSTrust) == 0 {
		t.Fatalf("doctor --json: %v\n%s", err, out)
	}
	n := 0
	for _, s := range rep.TLSTrust {
		if s.Trusted {
			n++
		}
	}
	return n
}
