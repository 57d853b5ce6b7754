package config

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzConfig: any file content either loads into rules that are all valid
// origins, or is reported and left alone; a loaded file saves and loads
// back the same.
func FuzzConfig(f *testing.F) {
	f.Add([]byte(`{"trustedOrigins":["https://*.gosuslugi.ru"],"allowedOrigins":["https://lk.example.ru"],"modules":["/opt/x.so"]}`))
	f.Add([]byte(`{"trustedOrigins":["http://127.0.0.1:8080"]}`))
	f.Add([]byte(`{"allowedOrigins":["javascript:alert(1)"]}`))
	f.Add([]byte("{\n\"trustedOrigins\": [\n"))
	f.Add([]byte(`{"unknown":1}`))
	f.Fuzz(func(t *testing.T, content []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "config.json")
		os.WriteFile(path, content, 0o600)
		c, err := Load(path, "")
		if err != nil {
			// Reported, the file untouched, and changes refused rather
			// than written over it.
			if b, _ := os.ReadFile(path); string(b) != string(content) {
				t.Fatal("a damaged file was changed")
			}
			if c.Allow("https://new.example") != ErrNotSaved {
				t.Fatal("a change was saved over a damaged file")
			}
			return
		}
		for _, o := range append(slices.Clone(c.Allowances()), func() (s []string) {
			for _, r := range c.Trusted() {
				s = append(s, string(r))
			}
			return
		}()...) {
			if ValidRule(o) != nil {
				t.Fatalf("loaded an invalid rule %q", o)
			}
		}
		if err := c.Allow("https://new.example"); err != nil {
			t.Fatal(err)
		}
		c2, err := Load(path, "")
		if err != nil || !slices.Equal(c2.Allowances(), c.Allowances()) || !slices.Equal(c2.Trusted(), c.Trusted()) || !slices.Equal(c2.Modules(), c.Modules()) {
			t.Fatalf("saved and loaded differ: %v", err)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Fatalf("saved with mode %v", fi.Mode().Perm())
		}
	})
}
