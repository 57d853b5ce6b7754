// Package account is the account service («Личный кабинет»): people
// register and log in by phone or e-mail with a password or a one-time
// code, reset the password by code, and log in by certificate once the
// certificate is linked to the account. Service is the Go API (for the
// demo site and an OpenID Connect provider on top); Handler serves the
// JSON API of docs/account.md.
//
// What it defends, and how: passwords are argon2id hashes
// (account/argon2id, parameters in each hash); codes are six digits from
// crypto/rand, stored as HMACs, single use, ten minutes, five tries,
// resent no sooner than a minute; guessing and flooding stop at the rate
// limits of limits.go (account/ratelimit, shared through Redis); the same
// answer, after the same work, for an account that exists and one that
// does not; sessions are random cookies (HttpOnly, Secure, SameSite)
// stored only as hashes, replaced on every login; every POST carries a
// CSRF token bound to the cookie; a certificate challenge is issued for
// one purpose (link, or login) and refused for the other.
package account

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/podpis/podpis/account/argon2id"
	"github.com/podpis/podpis/account/deliver"
	"github.com/podpis/podpis/account/ratelimit"
	"github.com/podpis/podpis/sso/ssoweb"
	"github.com/podpis/podpis/verify"
)

// Config configures a Service.
type Config struct {
	// Store keeps the accounts (account/sqlstore). Required.
	Store Store
	// Origin is the site's origin (scheme://host[:port]): certificate
	// challenges are issued for it and cookies are Secure when it is
	// https. Required.
	Origin string
	// Verifier checks certificate logins and links; its Config.Origins
	// must hold Origin. Nil turns certificate calls off.
	Verifier *verify.Verifier
	// Key (at least 32 bytes) keys the HMACs of codes and CSRF tokens.
	// Instances sharing a Store must share it. Nil means a random key:
	// one instance, codes and tokens die with it.
	Key []byte
	// Sender delivers codes. Required.
	Sender deliver.Sender
	// Limiter counts attempts for the rate limits; nil means in memory
	// (one instance). Instances share one (ratelimit.Redis).
	Limiter ratelimit.Limiter
	// Password is the argon2id cost of new hashes; zero means
	// argon2id.Default.
	Password argon2id.Params
	// Renewal lets a certificate not linked but carrying the SNILS of a
	// certificate linked to exactly one account log into it once the
	// person confirms (CERT_RENEWED), which links it.
	Renewal bool
	// SSORegister lets a Госуслуги or Telegram login of an identity linked
	// to no account make a new account, linked to it; off, such a login
	// is told how to link the identity (SSO_NOT_LINKED).
	SSORegister bool
	// Outbox, when set, is shown at GET /outbox and
	// /api/account/outbox: the messages that would have been sent (a
	// demo on one machine; never in production).
	Outbox *deliver.Outbox
	// ClientAddress says which client a request comes from, for the
	// per-address limits and the list of sessions; nil means the host of
	// RemoteAddr. Behind a balancer, read the header it sets (and only
	// that balancer's).
	ClientAddress func(r *http.Request) string
	// SessionsEnded, when set, hears of every session a person ends —
	// logging out (sessionID that session's public id), ending one
	// session from the list, or all of them (sessionID "") — so that a
	// single sign-on provider ends the tokens it gave for them.
	SessionsEnded func(ctx context.Context, accountID, sessionID string)
	// Log receives what was refused and why; nil means slog.Default.
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service is the account service.
type Service struct {
	cfg     Config
	key     []byte
	dummy   string // an argon2id hash nobody knows the password of
	secure  bool
	limiter ratelimit.Limiter
	log     *slog.Logger
	// hashing admits one argon2id per core: each takes its memory cost
	// (19 MiB by default), so a burst of logins queues for the cores
	// instead of taking gigabytes, and the pages keep answering.
	hashing chan struct{}

	// sso is the Госуслуги/Telegram handler made by SSO, and its
	// configuration; nil without outside logins.
	sso    *ssoweb.Handler
	ssoCfg ssoweb.Config

	sweepMu   sync.Mutex
	lastSweep time.Time
}

// MinKey is the shortest Config.Key New accepts.
const MinKey = 32

// New checks cfg and returns the service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Sender == nil {
		return nil, errors.New("account: Config.Store and Config.Sender are required")
	}
	origin, err := normalizeOrigin(cfg.Origin)
	if err != nil {
		return nil, err
	}
	cfg.Origin = origin
	s := &Service{cfg: cfg, key: cfg.Key, limiter: cfg.Limiter, log: cfg.Log}
	if s.key == nil {
		s.key = make([]byte, MinKey)
		rand.Read(s.key)
	} else if len(s.key) < MinKey {
		return nil, fmt.Errorf("account: Config.Key has %d bytes, want %d or more", len(s.key), MinKey)
	}
	if s.cfg.Password == (argon2id.Params{}) {
		s.cfg.Password = argon2id.Default
	}
	if s.dummy, err = argon2id.Hash(randomID(), s.cfg.Password); err != nil {
		return nil, fmt.Errorf("account: %w", err)
	}
	s.hashing = make(chan struct{}, runtime.GOMAXPROCS(0))
	if s.limiter == nil {
		s.limiter = &ratelimit.Memory{Now: cfg.Now}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.secure = origin[:len("https:")] == "https:"
	return s, nil
}

func (s *Service) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now().UTC()
	}
	return time.Now().UTC()
}

// PasswordParams are the argon2id parameters of new hashes.
func (s *Service) PasswordParams() argon2id.Params { return s.cfg.Password }

// hash runs argon2id's Hash under the hashing limit.
func (s *Service) hashPassword(ctx context.Context, password string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer s.release()
	return argon2id.Hash(password, s.cfg.Password)
}

// verifyPassword runs argon2id's Verify under the hashing limit.
func (s *Service) verifyPassword(ctx context.Context, password, hash string) error {
	if err := s.acquire(ctx); err != nil {
		return err
	}
	defer s.release()
	return argon2id.Verify(password, hash)
}

func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (s *Service) release() { <-s.hashing }

// Account is a person's account.
type Account struct {
	ID           string
	Phone        string // E.164, or ""
	Email        string // case-folded, or ""
	Created      time.Time
	Certificates []Certificate
	Links        []Link // Госуслуги, Telegram
}

// Certificate is a certificate linked to an account: who it names.
type Certificate struct {
	ID           string
	Owner        string
	SNILS        string // digits
	INN          string
	INNLE        string
	OGRN         string // or OGRNIP
	Organization string
	Title        string // the person's title in the organisation
	Issuer       string
	NotBefore    time.Time
	NotAfter     time.Time
	Thumbprint   string
	Linked       time.Time
}

// Session is a logged-in browser.
type Session struct {
	ID        string
	AccountID string
	// AMR says how the person logged in (RFC 8176): "pwd"; "otp" and
	// "sms" or "email"; "hwk" for a certificate.
	AMR       []string
	Created   time.Time
	LastSeen  time.Time
	UserAgent string
	Address   string
	Current   bool
	// Thumbprint is the linked certificate that logged in (a certificate
	// login or step-up), "" for other logins: with several certificates
	// linked, whose name and organisation the session speaks for.
	Thumbprint string
}

// Account returns the account with id, its certificates included.
func (s *Service) Account(ctx context.Context, id string) (*Account, error) {
	rec, err := s.cfg.Store.AccountByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.load(ctx, rec)
}

func (s *Service) load(ctx context.Context, rec AccountRecord) (*Account, error) {
	certs, err := s.cfg.Store.Certificates(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	a := &Account{ID: rec.ID, Phone: rec.Phone, Email: rec.Email, Created: rec.Created}
	for _, c := range certs {
		a.Certificates = append(a.Certificates, certificateOf(c))
	}
	links, err := s.cfg.Store.Links(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		a.Links = append(a.Links, linkOf(l))
	}
	return a, nil
}

// randomID is 128 random bits in hex: account, certificate and session
// ids.
func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// secret is 256 random bits in hex: cookies and pending ids, stored only
// as their hash.
func secret() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func hash(v string) string {
	h := sha256.Sum256([]byte(v))
	return hex.EncodeToString(h[:])
}

// mac is HMAC-SHA-256 under the service key, with a domain label.
func (s *Service) mac(domain string, parts ...string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(domain))
	for _, p := range parts {
		m.Write([]byte{0})
		m.Write([]byte(p))
	}
	return hex.EncodeToString(m.Sum(nil))
}

// sweep deletes expired records at most every ten minutes, in the
// background of a request.
func (s *Service) sweep() {
	s.sweepMu.Lock()
	now := s.now()
	if now.Sub(s.lastSweep) < 10*time.Minute {
		s.sweepMu.Unlock()
		return
	}
	s.lastSweep = now
	s.sweepMu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.cfg.Store.DeleteExpired(ctx, now, sessionIdle, sessionMax); err != nil {
			s.log.Warn("account: sweep", "err", err)
		}
	}()
}
