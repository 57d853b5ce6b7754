package idp

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

//go:embed migrations/*.sql
var migrations embed.FS

// versionTable is the provider's own goose table, apart from the account
// service's, so that each migrates its tables on its own.
const versionTable = "idp_goose_db_version"

// db is the provider's tables on SQLite or PostgreSQL. The SQL is one
// text for both: $n placeholders (SQLite takes them too), Unix seconds.
type db struct {
	sql *sql.DB
}

// migrate brings the provider's tables to the newest version.
func migrate(ctx context.Context, d *sql.DB, dialect string) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	gd := goose.DialectSQLite3
	if dialect == Postgres {
		gd = goose.DialectPostgres
	}
	p, err := goose.NewProvider(gd, d, sub, goose.WithTableName(versionTable), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("idp: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("idp: migrations: %w", err)
	}
	return nil
}

type execer interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}

func (d *db) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	var e execer = d.sql
	if tx != nil {
		e = tx
	}
	res, err := e.ExecContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	return res, nil
}

func (d *db) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return d.sql.QueryRowContext(ctx, q, args...)
}

func (d *db) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return d.sql.QueryContext(ctx, q, args...)
}

func (d *db) tx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("idp: %w", err)
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("idp: %w", err)
	}
	return nil
}

// randomID is 128 random bits, URL-safe: ids of requests, grants, keys.
func randomID() string { return randomToken(16) }

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenHash is what the tables keep of a bearer secret (code, refresh
// token): a copy of the database does not give working tokens.
func tokenHash(t string) string {
	h := sha256.Sum256([]byte(t))
	return base64.RawURLEncoding.EncodeToString(h[:])
}
