package main

import (
	"context"
	"io"
	"log/slog"
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

// Codes shown at /outbox are for a demo on one machine: a site others can
// reach does not start without a real way to send them.
func TestOutboxOnlyOnLoopback(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		origin string
		flags  accountFlags
		ok     bool
	}{
		{"http://127.0.0.1:8080", accountFlags{}, true},
		{"http://[::1]:8080", accountFlags{}, true},
		{"https://lk.example.ru", accountFlags{}, false},
		{"https://127.0.0.1.example.ru", accountFlags{}, false},
		{"https://lk.example.ru", accountFlags{smtp: "127.0.0.1:25"}, true},
		{"https://lk.example.ru", accountFlags{smsGateway: "https://sms.example.ru/send"}, true},
	} {
		t.Run(tc.origin, func(t *testing.T) {
			dir := t.TempDir()
			f := tc.flags
			_, closeStore, err := f.open(context.Background(), dir, tc.origin, nil, nil, log, nil)
			if (err == nil) != tc.ok {
				t.Fatalf("openAccounts(%s, %+v): %v", tc.origin, tc.flags, err)
			}
			if err == nil {
				closeStore()
				if wantOutbox := tc.flags.smtp == "" && tc.flags.smsGateway == ""; f.outbox != wantOutbox {
					t.Errorf("outbox %v, want %v", f.outbox, wantOutbox)
				}
			}
		})
	}
}
