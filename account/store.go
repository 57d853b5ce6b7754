package account

import (
	"context"
	"errors"
	"time"
)

// Store keeps the service's state: accounts, linked certificates,
// sessions, pending codes and the purposes of issued certificate
// challenges. account/sqlstore implements it on SQLite and PostgreSQL.
// Every method is one atomic step, so that several service instances on
// one database agree.
type Store interface {
	CreateAccount(ctx context.Context, a AccountRecord) error // ErrDuplicate on a taken phone or e-mail
	AccountByID(ctx context.Context, id string) (AccountRecord, error)
	AccountByPhone(ctx context.Context, e164 string) (AccountRecord, error)
	AccountByEmail(ctx context.Context, email string) (AccountRecord, error)
	SetPassword(ctx context.Context, accountID, hash string) error

	AddCertificate(ctx context.Context, c CertificateRecord) error // ErrDuplicate on a linked thumbprint
	Certificates(ctx context.Context, accountID string) ([]CertificateRecord, error)
	CertificateByThumbprint(ctx context.Context, thumbprint string) (CertificateRecord, error)
	CertificatesBySNILS(ctx context.Context, snils string) ([]CertificateRecord, error)
	DeleteCertificate(ctx context.Context, accountID, id string) error // ErrNoRecord unless the account's

	// AddLink links an outside identity; ErrDuplicate when the identity
	// is linked (to any account) or the account has one of the provider.
	AddLink(ctx context.Context, l LinkRecord) error
	LinkByIdentity(ctx context.Context, provider, subject string) (LinkRecord, error)
	Links(ctx context.Context, accountID string) ([]LinkRecord, error)
	DeleteLink(ctx context.Context, accountID, provider string) error // ErrNoRecord unless the account has one

	CreateSession(ctx context.Context, s SessionRecord) error
	SessionByHash(ctx context.Context, hash string) (SessionRecord, error)
	TouchSession(ctx context.Context, hash string, at time.Time) error
	Sessions(ctx context.Context, accountID string) ([]SessionRecord, error)
	DeleteSession(ctx context.Context, hash string) error
	// DeleteSessionByID ends one of the account's sessions by its public
	// id; ErrNoRecord unless it is the account's.
	DeleteSessionByID(ctx context.Context, accountID, id string) error
	DeleteSessions(ctx context.Context, accountID string) error

	CreatePending(ctx context.Context, p PendingRecord) error
	Pending(ctx context.Context, hash string) (PendingRecord, error)
	// TryPending counts one try of a live (not done, not expired at now)
	// pending code that has fewer than maxTries, and returns it with the
	// count; ErrNoRecord when there is no such code, whatever the reason.
	TryPending(ctx context.Context, hash string, now time.Time, maxTries int) (PendingRecord, error)
	// FinishPending marks the code used; ErrNoRecord if it already was,
	// so of two concurrent right answers one wins.
	FinishPending(ctx context.Context, hash string) error
	// RenewPending replaces the code of a live pending entry: a resend.
	RenewPending(ctx context.Context, hash, codeHash string, sent, expires time.Time) error

	PutChallenge(ctx context.Context, c ChallengeRecord) error
	// TakeChallenge returns and deletes the challenge; ErrNoRecord if it
	// is not there (never issued here, or taken).
	TakeChallenge(ctx context.Context, hash string) (ChallengeRecord, error)

	// DeleteExpired forgets pending codes, challenges and sessions that
	// ended before now.
	DeleteExpired(ctx context.Context, now time.Time, sessionIdle, sessionMax time.Duration) error
}

var (
	// ErrNoRecord: no such record.
	ErrNoRecord = errors.New("account: no such record")
	// ErrDuplicate: a record with this unique value exists.
	ErrDuplicate = errors.New("account: duplicate record")
)

// AccountRecord is an account as stored.
type AccountRecord struct {
	ID           string
	Phone        string // E.164 or ""
	Email        string // case-folded or ""
	PasswordHash string // argon2id PHC string
	Created      time.Time
}

// CertificateRecord is a linked certificate as stored: its identity
// (login.Identity) as JSON.
type CertificateRecord struct {
	ID         string
	AccountID  string
	Thumbprint string
	SNILS      string // digits only, "" when the certificate has none
	Identity   []byte // JSON of login.Identity
	Linked     time.Time
}

// LinkRecord is an outside identity (sso.Identity's Provider and
// Subject) linked to an account, with the name to show.
type LinkRecord struct {
	Provider  string
	Subject   string
	AccountID string
	Name      string
	Linked    time.Time
}

// SessionRecord is a session as stored: the SHA-256 of its cookie, never
// the cookie.
type SessionRecord struct {
	Hash      string
	ID        string // public id, shown in the list of sessions
	AccountID string
	AMR       []string
	Created   time.Time
	LastSeen  time.Time
	UserAgent string
	Address   string
	// Thumbprint is the certificate of a certificate login (or step-up),
	// "" otherwise.
	Thumbprint string
}

// Purpose is what a pending code or a challenge is for.
type Purpose string

const (
	PurposeRegister Purpose = "register"
	PurposeLogin    Purpose = "login" // a one-time code login; a certificate login challenge
	PurposeReset    Purpose = "reset"
	PurposeRenew    Purpose = "renew" // confirmation of a renewed certificate
	PurposeLink     Purpose = "link"  // a certificate link challenge
)

// PendingRecord is a code sent and not yet used, or a renewed
// certificate awaiting confirmation.
type PendingRecord struct {
	Hash         string // SHA-256 of the opaque id
	Purpose      Purpose
	Channel      string // "sms", "email"; "" for renew
	Address      string // E.164 or e-mail
	AccountID    string // "" when no account has Address
	PasswordHash string // register: the password chosen
	Data         []byte // renew: the certificate's identity JSON
	Browser      string // renew: hash of the cookie of the browser that asked
	CodeHash     string // HMAC of the code
	Created      time.Time
	Expires      time.Time
	Sent         time.Time
	Tries        int
	Done         bool
}

// ChallengeRecord remembers what a certificate challenge was issued for.
type ChallengeRecord struct {
	Hash    string // SHA-256 of the challenge value
	Purpose Purpose
	Session string // link: hash of the session that asked
	Expires time.Time
}
