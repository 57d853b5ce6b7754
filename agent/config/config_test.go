package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	sys := filepath.Join(dir, "system.json")
	user := filepath.Join(dir, "user", "config.json")
	os.WriteFile(sys, []byte(`{"trustedOrigins":["https://*.gosuslugi.ru"],"modules":["/opt/x/lib.so"]}`), 0o644)
	c, err := Load(user, sys)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Trusted()) != 1 || len(c.Modules()) != 1 {
		t.Fatalf("%v %v", c.Trusted(), c.Modules())
	}
	if err := c.Allow("https://lk.example.ru"); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(user)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("user file: %v %v", err, st)
	}
	c2, _ := Load(user, sys)
	if !c2.Allowed("https://lk.example.ru") {
		t.Fatal("allowance not saved")
	}
	c2.Revoke("https://lk.example.ru")
	if c3, _ := Load(user, sys); c3.Allowed("https://lk.example.ru") || len(c3.Allowances()) != 0 {
		t.Fatal("revocation not saved")
	}
}

// TestCorrupt: a damaged file is reported with its line, the rest is
// used, and the damaged file is never overwritten.
func TestCorrupt(t *testing.T) {
	dir := t.TempDir()
	user := filepath.Join(dir, "config.json")
	damaged := "{\n  \"allowedOrigins\": [\"https://a.example\",\n}\n"
	os.WriteFile(user, []byte(damaged), 0o600)
	c, err := Load(user, "")
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("error %v", err)
	}
	if err := c.Allow("https://b.example"); !errors.Is(err, ErrNotSaved) || !c.Allowed("https://b.example") {
		t.Fatalf("allow on a damaged file: %v", err)
	}
	if b, _ := os.ReadFile(user); string(b) != damaged {
		t.Fatal("the damaged file was overwritten")
	}
	for _, bad := range []string{`{"trustedOrigins":["http://evil.example"]}`, `{"unknown":1}`, `[]`} {
		os.WriteFile(user, []byte(bad), 0o600)
		if _, err := Load(user, ""); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// TestUnsavable: when the file cannot be written (disk full, a folder
// that cannot be made) the decision is reported unsaved but holds for the
// run.
func TestUnsavable(t *testing.T) {
	c, err := Load("/proc/self/podpis-cannot-exist/config.json", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Allow("https://lk.example.ru"); err == nil {
		t.Fatal("saving into /proc succeeded")
	}
	if !c.Allowed("https://lk.example.ru") {
		t.Error("the decision was lost with the failed save")
	}
}

// TestSystemPathOverride: PODPIS_SYSTEM_CONFIG replaces the administrators'
// file (tests must not read the machine's); set empty, there is none.
func TestSystemPathOverride(t *testing.T) {
	sys := filepath.Join(t.TempDir(), "system.json")
	os.WriteFile(sys, []byte(`{"trustedOrigins":["https://lk.example.ru"]}`), 0o644)
	t.Setenv("PODPIS_SYSTEM_CONFIG", sys)
	if p := SystemPath(); p != sys {
		t.Fatalf("SystemPath() = %q, want %q", p, sys)
	}
	c, err := Load("", SystemPath())
	if err != nil || len(c.Trusted()) != 1 {
		t.Fatalf("%v %v", c.Trusted(), err)
	}
	t.Setenv("PODPIS_SYSTEM_CONFIG", "")
	if c, err := Load("", SystemPath()); err != nil || len(c.Trusted()) != 0 {
		t.Fatalf("empty PODPIS_SYSTEM_CONFIG: %v %v", c.Trusted(), err)
	}
}
