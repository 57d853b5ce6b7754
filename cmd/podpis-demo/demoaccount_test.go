package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// The demo account's password is made per folder, at random: not a string
// anyone could read in the source and try on someone's demo.
func TestDemoAccountPasswordPerFolder(t *testing.T) {
	format := regexp.MustCompile(`^[` + passwordAlphabet + `]{4}-[` + passwordAlphabet + `]{4}-[` + passwordAlphabet + `]{4}$`)
	seen := map[string]bool{}
	for range 20 {
		dir := t.TempDir()
		a, err := ensureDemoAccount(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !format.MatchString(a.Password) {
			t.Fatalf("password %q", a.Password)
		}
		if seen[a.Password] {
			t.Fatalf("password %q made twice", a.Password)
		}
		seen[a.Password] = true
		fi, err := os.Stat(filepath.Join(dir, demoAccountFile))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s is %v, readable by others", demoAccountFile, fi.Mode().Perm())
		}
		// Made once: a second init keeps it.
		again, err := ensureDemoAccount(dir)
		if err != nil || again.Password != a.Password {
			t.Fatalf("second ensureDemoAccount: %v, %q want %q", err, again.Password, a.Password)
		}
		if len(a.Certificates) != 2 {
			t.Errorf("linked certificates %v, want the two valid ones", a.Certificates)
		}
	}
}

// A broken or emptied file is an error, not an account seeded without a
// password.
func TestDemoAccountBadFile(t *testing.T) {
	for name, content := range map[string]string{
		"not json":    "{",
		"no password": `{"phone":"+7 (900) 000-00-01","email":"demo@podpis.example","password":""}`,
		"no login":    `{"password":"abcd-efgh-ijkm"}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, demoAccountFile), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if a, err := ensureDemoAccount(dir); err == nil {
				t.Fatalf("accepted %s: %+v", name, a)
			}
		})
	}
}
