// Package sqlstore is the account service's Store on SQLite
// (modernc.org/sqlite, no cgo: the default, one file, nothing to install)
// and PostgreSQL (jackc/pgx through database/sql: several instances on
// one database), with one set of SQL for both. The schema is versioned by
// goose migrations embedded here and applied by Open; on PostgreSQL under
// an advisory lock, so instances starting together migrate once.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // "pgx"
	"github.com/podpis/podpis/account"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is an account.Store on a SQL database.
type Store struct {
	db       *sql.DB
	postgres bool
}

// OpenSQLite opens (creating) the SQLite database at path and migrates it.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	// One connection: SQLite takes one writer at a time anyway, and
	// queueing for the connection in Go is fair and prompt where
	// SQLite's busy handler sleeps and retries (seconds under a burst).
	db.SetMaxOpenConns(1)
	return open(ctx, db, false)
}

// OpenPostgres connects to PostgreSQL (a pgx DSN or URL) and migrates it.
func OpenPostgres(ctx context.Context, dsn string) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	return open(ctx, db, true)
}

func open(ctx context.Context, db *sql.DB, postgres bool) (*Store, error) {
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	if err := migrate(ctx, db, postgres); err != nil {
		db.Close()
		return nil, err
	}
	return &Store{db: db, postgres: postgres}, nil
}

func migrate(ctx context.Context, db *sql.DB, postgres bool) error {
	dialect := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return fmt.Errorf("sqlstore: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, db, mustSub(), opts...)
	if err != nil {
		return fmt.Errorf("sqlstore: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	return nil
}

// Version is the schema version the database is at.
func (s *Store) Version(ctx context.Context) (int64, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, "SELECT MAX(version_id) FROM goose_db_version").Scan(&v)
	return v, err
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// q rewrites a query written with ? placeholders for PostgreSQL's $n.
func (s *Store) q(query string) string {
	if !s.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := s.db.ExecContext(ctx, s.q(query), args...)
	return res, classify(err)
}

// classify turns a unique violation into account.ErrDuplicate.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("%w: %s", account.ErrDuplicate, pe.ConstraintName)
	}
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == 19 && strings.Contains(se.Error(), "UNIQUE") {
		return fmt.Errorf("%w: %v", account.ErrDuplicate, se)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return account.ErrNoRecord
	}
	return fmt.Errorf("sqlstore: %w", err)
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func tm(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return classify(err)
	} else if n == 0 {
		return account.ErrNoRecord
	}
	return nil
}

// CreateAccount inserts a.
func (s *Store) CreateAccount(ctx context.Context, a account.AccountRecord) error {
	_, err := s.exec(ctx, `INSERT INTO accounts (id, phone, email, password_hash, created) VALUES (?, ?, ?, ?, ?)`,
		a.ID, null(a.Phone), null(a.Email), a.PasswordHash, ms(a.Created))
	return err
}

const accountCols = `id, COALESCE(phone, ''), COALESCE(email, ''), password_hash, created`

func (s *Store) account(ctx context.Context, where string, arg any) (account.AccountRecord, error) {
	var a account.AccountRecord
	var created int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT `+accountCols+` FROM accounts WHERE `+where+` = ?`), arg).
		Scan(&a.ID, &a.Phone, &a.Email, &a.PasswordHash, &created)
	a.Created = tm(created)
	return a, classify(err)
}

func (s *Store) AccountByID(ctx context.Context, id string) (account.AccountRecord, error) {
	return s.account(ctx, "id", id)
}

func (s *Store) AccountByPhone(ctx context.Context, e164 string) (account.AccountRecord, error) {
	return s.account(ctx, "phone", e164)
}

func (s *Store) AccountByEmail(ctx context.Context, email string) (account.AccountRecord, error) {
	return s.account(ctx, "email", email)
}

func (s *Store) SetPassword(ctx context.Context, accountID, hash string) error {
	return affected(s.exec(ctx, `UPDATE accounts SET password_hash = ? WHERE id = ?`, hash, accountID))
}

func (s *Store) AddCertificate(ctx context.Context, c account.CertificateRecord) error {
	_, err := s.exec(ctx, `INSERT INTO certificates (id, account_id, thumbprint, snils, identity, linked) VALUES (?, ?, ?, ?, ?, ?)`,
		c.ID, c.AccountID, c.Thumbprint, c.SNILS, string(c.Identity), ms(c.Linked))
	return err
}

func (s *Store) certificates(ctx context.Context, where string, arg any) ([]account.CertificateRecord, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, account_id, thumbprint, snils, identity, linked FROM certificates WHERE `+where+` = ? ORDER BY linked, id`), arg)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []account.CertificateRecord
	for rows.Next() {
		var c account.CertificateRecord
		var id string
		var linked int64
		if err := rows.Scan(&c.ID, &c.AccountID, &c.Thumbprint, &c.SNILS, &id, &linked); err != nil {
			return nil, classify(err)
		}
		c.Identity, c.Linked = []byte(id), tm(linked)
		out = append(out, c)
	}
	return out, classify(rows.Err())
}

func (s *Store) Certificates(ctx context.Context, accountID string) ([]account.CertificateRecord, error) {
	return s.certificates(ctx, "account_id", accountID)
}

func (s *Store) CertificateByThumbprint(ctx context.Context, thumbprint string) (account.CertificateRecord, error) {
	cs, err := s.certificates(ctx, "thumbprint", thumbprint)
	if err != nil {
		return account.CertificateRecord{}, err
	}
	if len(cs) == 0 {
		return account.CertificateRecord{}, account.ErrNoRecord
	}
	return cs[0], nil
}

func (s *Store) CertificatesBySNILS(ctx context.Context, snils string) ([]account.CertificateRecord, error) {
	return s.certificates(ctx, "snils", snils)
}

func (s *Store) DeleteCertificate(ctx context.Context, accountID, id string) error {
	return affected(s.exec(ctx, `DELETE FROM certificates WHERE id = ? AND account_id = ?`, id, accountID))
}

func (s *Store) AddLink(ctx context.Context, l account.LinkRecord) error {
	_, err := s.exec(ctx, `INSERT INTO links (provider, subject, account_id, name, linked) VALUES (?, ?, ?, ?, ?)`,
		l.Provider, l.Subject, l.AccountID, l.Name, ms(l.Linked))
	return err
}

func (s *Store) links(ctx context.Context, where string, args ...any) ([]account.LinkRecord, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT provider, subject, account_id, name, linked FROM links WHERE `+where+` ORDER BY linked, provider`), args...)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []account.LinkRecord
	for rows.Next() {
		var l account.LinkRecord
		var linked int64
		if err := rows.Scan(&l.Provider, &l.Subject, &l.AccountID, &l.Name, &linked); err != nil {
			return nil, classify(err)
		}
		l.Linked = tm(linked)
		out = append(out, l)
	}
	return out, classify(rows.Err())
}

func (s *Store) LinkByIdentity(ctx context.Context, provider, subject string) (account.LinkRecord, error) {
	ls, err := s.links(ctx, "provider = ? AND subject = ?", provider, subject)
	if err != nil {
		return account.LinkRecord{}, err
	}
	if len(ls) == 0 {
		return account.LinkRecord{}, account.ErrNoRecord
	}
	return ls[0], nil
}

func (s *Store) Links(ctx context.Context, accountID string) ([]account.LinkRecord, error) {
	return s.links(ctx, "account_id = ?", accountID)
}

func (s *Store) DeleteLink(ctx context.Context, accountID, provider string) error {
	return affected(s.exec(ctx, `DELETE FROM links WHERE account_id = ? AND provider = ?`, accountID, provider))
}

func (s *Store) CreateSession(ctx context.Context, r account.SessionRecord) error {
	amr, _ := json.Marshal(r.AMR)
	_, err := s.exec(ctx, `INSERT INTO sessions (hash, id, account_id, amr, created, last_seen, user_agent, address, thumbprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Hash, r.ID, r.AccountID, string(amr), ms(r.Created), ms(r.LastSeen), r.UserAgent, r.Address, r.Thumbprint)
	return err
}

const sessionCols = `hash, id, account_id, amr, created, last_seen, user_agent, address, thumbprint`

func scanSession(sc interface{ Scan(...any) error }) (account.SessionRecord, error) {
	var r account.SessionRecord
	var amr string
	var created, seen int64
	if err := sc.Scan(&r.Hash, &r.ID, &r.AccountID, &amr, &created, &seen, &r.UserAgent, &r.Address, &r.Thumbprint); err != nil {
		return r, classify(err)
	}
	json.Unmarshal([]byte(amr), &r.AMR)
	r.Created, r.LastSeen = tm(created), tm(seen)
	return r, nil
}

func (s *Store) SessionByHash(ctx context.Context, hash string) (account.SessionRecord, error) {
	return scanSession(s.db.QueryRowContext(ctx, s.q(`SELECT `+sessionCols+` FROM sessions WHERE hash = ?`), hash))
}

func (s *Store) TouchSession(ctx context.Context, hash string, at time.Time) error {
	_, err := s.exec(ctx, `UPDATE sessions SET last_seen = ? WHERE hash = ?`, ms(at), hash)
	return err
}

func (s *Store) Sessions(ctx context.Context, accountID string) ([]account.SessionRecord, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+sessionCols+` FROM sessions WHERE account_id = ? ORDER BY last_seen DESC, id`), accountID)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []account.SessionRecord
	for rows.Next() {
		r, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, classify(rows.Err())
}

func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	_, err := s.exec(ctx, `DELETE FROM sessions WHERE hash = ?`, hash)
	return err
}

func (s *Store) DeleteSessionByID(ctx context.Context, accountID, id string) error {
	return affected(s.exec(ctx, `DELETE FROM sessions WHERE id = ? AND account_id = ?`, id, accountID))
}

func (s *Store) DeleteSessions(ctx context.Context, accountID string) error {
	_, err := s.exec(ctx, `DELETE FROM sessions WHERE account_id = ?`, accountID)
	return err
}

func (s *Store) CreatePending(ctx context.Context, p account.PendingRecord) error {
	_, err := s.exec(ctx, `INSERT INTO pending (hash, purpose, channel, address, account_id, password_hash, data, browser, code_hash, created, expires, sent, tries, done)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)`,
		p.Hash, string(p.Purpose), p.Channel, p.Address, p.AccountID, p.PasswordHash, string(p.Data), p.Browser, p.CodeHash,
		ms(p.Created), ms(p.Expires), ms(p.Sent))
	return err
}

const pendingCols = `hash, purpose, channel, address, account_id, password_hash, data, browser, code_hash, created, expires, sent, tries, done`

func scanPending(sc interface{ Scan(...any) error }) (account.PendingRecord, error) {
	var p account.PendingRecord
	var purpose, data string
	var created, expires, sent int64
	var done int
	if err := sc.Scan(&p.Hash, &purpose, &p.Channel, &p.Address, &p.AccountID, &p.PasswordHash, &data, &p.Browser, &p.CodeHash,
		&created, &expires, &sent, &p.Tries, &done); err != nil {
		return p, classify(err)
	}
	p.Purpose, p.Data, p.Done = account.Purpose(purpose), []byte(data), done != 0
	p.Created, p.Expires, p.Sent = tm(created), tm(expires), tm(sent)
	return p, nil
}

func (s *Store) Pending(ctx context.Context, hash string) (account.PendingRecord, error) {
	return scanPending(s.db.QueryRowContext(ctx, s.q(`SELECT `+pendingCols+` FROM pending WHERE hash = ?`), hash))
}

// TryPending counts the try in the same statement that checks the code
// may be tried, so concurrent guesses never exceed maxTries.
func (s *Store) TryPending(ctx context.Context, hash string, now time.Time, maxTries int) (account.PendingRecord, error) {
	return scanPending(s.db.QueryRowContext(ctx, s.q(`UPDATE pending SET tries = tries + 1
		WHERE hash = ? AND done = 0 AND expires > ? AND tries < ? RETURNING `+pendingCols), hash, ms(now), maxTries))
}

func (s *Store) FinishPending(ctx context.Context, hash string) error {
	return affected(s.exec(ctx, `UPDATE pending SET done = 1 WHERE hash = ? AND done = 0`, hash))
}

func (s *Store) RenewPending(ctx context.Context, hash, codeHash string, sent, expires time.Time) error {
	return affected(s.exec(ctx, `UPDATE pending SET code_hash = ?, sent = ?, expires = ?, tries = 0 WHERE hash = ? AND done = 0`,
		codeHash, ms(sent), ms(expires), hash))
}

func (s *Store) PutChallenge(ctx context.Context, c account.ChallengeRecord) error {
	_, err := s.exec(ctx, `INSERT INTO challenges (hash, purpose, session, expires) VALUES (?, ?, ?, ?)`,
		c.Hash, string(c.Purpose), c.Session, ms(c.Expires))
	return err
}

func (s *Store) TakeChallenge(ctx context.Context, hash string) (account.ChallengeRecord, error) {
	var c account.ChallengeRecord
	var purpose string
	var expires int64
	err := s.db.QueryRowContext(ctx, s.q(`DELETE FROM challenges WHERE hash = ? RETURNING hash, purpose, session, expires`), hash).
		Scan(&c.Hash, &purpose, &c.Session, &expires)
	c.Purpose, c.Expires = account.Purpose(purpose), tm(expires)
	return c, classify(err)
}

func (s *Store) DeleteExpired(ctx context.Context, now time.Time, idle, maxAge time.Duration) error {
	for _, q := range []struct {
		sql string
		arg int64
	}{
		{`DELETE FROM pending WHERE expires < ?`, ms(now.Add(-time.Hour))},
		{`DELETE FROM challenges WHERE expires < ?`, ms(now)},
		{`DELETE FROM sessions WHERE last_seen < ?`, ms(now.Add(-idle))},
		{`DELETE FROM sessions WHERE created < ?`, ms(now.Add(-maxAge))},
	} {
		if _, err := s.exec(ctx, q.sql, q.arg); err != nil {
			return err
		}
	}
	return nil
}
