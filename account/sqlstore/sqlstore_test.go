package sqlstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/podpis/podpis/account"
	"github.com/podpis/podpis/account/sqlstore"
	"github.com/podpis/podpis/internal/testpg"
)

// TestMigrations: a database is migrated to the latest version once;
// opening it again finds it there and keeps its data; and the unique
// rules hold (one account per phone, one link per certificate).
func TestMigrations(t *testing.T) {
	ctx := context.Background()
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			var open func() (*sqlstore.Store, error)
			switch kind {
			case "sqlite":
				path := filepath.Join(t.TempDir(), "a.db")
				open = func() (*sqlstore.Store, error) { return sqlstore.OpenSQLite(ctx, path) }
			case "postgres":
				dsn := testpg.Start(t).NewDatabase(t)
				open = func() (*sqlstore.Store, error) { return sqlstore.OpenPostgres(ctx, dsn) }
			}
			s, err := open()
			if err != nil {
				t.Fatal(err)
			}
			if v, err := s.Version(ctx); err != nil || v != 3 {
				t.Fatalf("version %d, %v", v, err)
			}
			now := time.Now()
			a := account.AccountRecord{ID: "a1", Phone: "+79161234567", PasswordHash: "h", Created: now}
			if err := s.CreateAccount(ctx, a); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateAccount(ctx, account.AccountRecord{ID: "a2", Phone: "+79161234567", PasswordHash: "h", Created: now}); !errors.Is(err, account.ErrDuplicate) {
				t.Fatalf("a second account on one phone: %v", err)
			}
			// Two accounts without e-mail: NULLs are not duplicates.
			if err := s.CreateAccount(ctx, account.AccountRecord{ID: "a3", Phone: "+79161234568", PasswordHash: "h", Created: now}); err != nil {
				t.Fatal(err)
			}
			c := account.CertificateRecord{ID: "c1", AccountID: "a1", Thumbprint: "ab", Identity: []byte("{}"), Linked: now}
			if err := s.AddCertificate(ctx, c); err != nil {
				t.Fatal(err)
			}
			c.ID, c.AccountID = "c2", "a3"
			if err := s.AddCertificate(ctx, c); !errors.Is(err, account.ErrDuplicate) {
				t.Fatalf("one certificate linked twice: %v", err)
			}
			if _, err := s.TakeChallenge(ctx, "none"); !errors.Is(err, account.ErrNoRecord) {
				t.Fatalf("TakeChallenge of nothing: %v", err)
			}
			// Links: one account per outside identity, one identity per
			// provider per account; the same subject at another provider is
			// another identity.
			for _, tc := range []struct {
				name string
				l    account.LinkRecord
				dup  bool
			}{
				{"first", account.LinkRecord{Provider: "esia", Subject: "1000", AccountID: "a1", Name: "Иванов"}, false},
				{"identity taken by another account", account.LinkRecord{Provider: "esia", Subject: "1000", AccountID: "a3"}, true},
				{"second identity of the provider", account.LinkRecord{Provider: "esia", Subject: "2000", AccountID: "a1"}, true},
				{"same subject, other provider", account.LinkRecord{Provider: "telegram", Subject: "1000", AccountID: "a3"}, false},
			} {
				tc.l.Linked = now
				if err := s.AddLink(ctx, tc.l); errors.Is(err, account.ErrDuplicate) != tc.dup || (!tc.dup && err != nil) {
					t.Fatalf("%s: AddLink: %v", tc.name, err)
				}
			}
			if l, err := s.LinkByIdentity(ctx, "esia", "1000"); err != nil || l.AccountID != "a1" || l.Name != "Иванов" {
				t.Fatalf("LinkByIdentity: %+v %v", l, err)
			}
			if err := s.DeleteLink(ctx, "a3", "esia"); !errors.Is(err, account.ErrNoRecord) {
				t.Fatalf("unlink of a provider the account has no link of: %v", err)
			}
			if err := s.DeleteLink(ctx, "a1", "esia"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.LinkByIdentity(ctx, "esia", "1000"); !errors.Is(err, account.ErrNoRecord) {
				t.Fatalf("after unlink: %v", err)
			}
			if ls, err := s.Links(ctx, "a3"); err != nil || len(ls) != 1 || ls[0].Provider != "telegram" {
				t.Fatalf("Links: %+v %v", ls, err)
			}
			// DeleteExpired forgets what ended and keeps what lives.
			day := 24 * time.Hour
			for _, ss := range []account.SessionRecord{
				{Hash: "live", ID: "s1", AccountID: "a1", Created: now, LastSeen: now, AMR: []string{"hwk"}, Thumbprint: "ab"},
				{Hash: "idle", ID: "s2", AccountID: "a1", Created: now.Add(-40 * day), LastSeen: now.Add(-31 * day)},
			} {
				if err := s.CreateSession(ctx, ss); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.PutChallenge(ctx, account.ChallengeRecord{Hash: "old", Purpose: account.PurposeLogin, Expires: now.Add(-time.Minute)}); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteExpired(ctx, now, 30*day, 365*day); err != nil {
				t.Fatal(err)
			}
			if _, err := s.SessionByHash(ctx, "idle"); !errors.Is(err, account.ErrNoRecord) {
				t.Fatalf("an idle session survived: %v", err)
			}
			if live, err := s.SessionByHash(ctx, "live"); err != nil || live.Thumbprint != "ab" {
				t.Fatalf("a live session was swept, or lost its certificate: %+v %v", live, err)
			}
			if _, err := s.TakeChallenge(ctx, "old"); !errors.Is(err, account.ErrNoRecord) {
				t.Fatalf("an expired challenge survived: %v", err)
			}
			s.Close()
			s, err = open()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got, err := s.AccountByPhone(ctx, "+79161234567")
			if err != nil || got.ID != "a1" || got.Email != "" || !got.Created.Equal(time.UnixMilli(now.UnixMilli()).UTC()) {
				t.Fatalf("after reopening: %+v %v", got, err)
			}
		})
	}
}
