package testpg

import (
	"database/sql"
	"testing"
)

// TestStart: two databases of one server are apart.
func TestStart(t *testing.T) {
	s := Start(t)
	a, b := s.NewDatabase(t), s.NewDatabase(t)
	if a == b {
		t.Fatal("two databases have one DSN")
	}
	for i, dsn := range []string{a, b} {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if i == 0 {
			if _, err := db.Exec("CREATE TABLE x (n int)"); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := db.Exec("SELECT * FROM x"); err == nil {
			t.Fatal("the second database sees the first's table")
		}
	}
}
