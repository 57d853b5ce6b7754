package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/podpis/podpis/account"
)

// TestSeedDemoAccount: make run's account (serve --seed-account) logs in
// with the printed password and has the soft token's valid certificates
// (Иванов, Петрова) linked; a second start keeps the account and takes the
// new password.
func TestSeedDemoAccount(t *testing.T) {
	dir := t.TempDir()
	if err := runInit([]string{"--dir", dir}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	var first string
	for i, password := range []string{"первый-пароль", "второй-пароль"} {
		f := accountFlags{seed: true, seedPassword: password, outbox: true}
		svc, closeDB, err := f.open(ctx, dir, "http://127.0.0.1:8080", nil, nil, log, nil)
		if err != nil {
			t.Fatal(err)
		}
		acc, _, err := svc.LoginPassword(ctx, account.Client{Address: "127.0.0.1"}, account.Contact{Phone: demoPhone}, password)
		if err != nil {
			t.Fatalf("start %d: %v", i+1, err)
		}
		var owners []string
		for _, c := range acc.Certificates {
			owners = append(owners, c.Owner)
		}
		slices.Sort(owners)
		if !slices.Equal(owners, []string{"Иванов Иван Иванович", "Петрова Мария Сергеевна"}) || acc.Email != demoEmail {
			t.Fatalf("start %d: %+v", i+1, acc)
		}
		if first == "" {
			first = acc.ID
		} else if acc.ID != first {
			t.Fatal("a second start made a second account")
		}
		closeDB()
	}
	// The key of codes and CSRF tokens was made once, for the owner only.
	if fi, err := os.Stat(filepath.Join(dir, "account.key")); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() < account.MinKey {
		t.Fatalf("account.key: %v %v", fi, err)
	}
}
