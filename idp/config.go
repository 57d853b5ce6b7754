package idp

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/podpis/podpis/login"
)

// How a person logged in: the values of the amr claim, as the account
// service records them in its sessions.
const (
	AMRPassword = "pwd" // RFC 8176
	AMROTP      = "otp" // RFC 8176: a one-time code, with AMRSMS or AMREmail
	AMRSMS      = "sms" // RFC 8176: the code came by SMS
	AMREmail    = "email"
	// AMRCertificate is a certificate login: a CMS signature over a login
	// challenge made with a key in a PKCS#11 token — RFC 8176's hwk,
	// proof of possession of a hardware-secured key.
	AMRCertificate = "hwk"
	AMRESIA        = "esia"     // ours: Госуслуги
	AMRTelegram    = "telegram" // ours: Telegram Login Widget
)

// The acr values: ACRCertificate when the login used a certificate.
const (
	ACRBasic       = "urn:podpis:acr:basic"
	ACRCertificate = "urn:podpis:acr:certificate"
)

// ScopeCertificate asks for the certificate claims.
const ScopeCertificate = "certificate"

// Dialects of [Config.Dialect].
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Client authentication methods of [Client.Auth].
const (
	AuthSecretBasic   = "client_secret_basic"
	AuthSecretPost    = "client_secret_post"
	AuthPrivateKeyJWT = "private_key_jwt"
	AuthNone          = "none" // a public client: S256 PKCE is required
)

// Client is a relying party registered by configuration (the JSON names
// are those of a clients file).
type Client struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Auth is one of AuthSecretBasic (the default), AuthSecretPost,
	// AuthPrivateKeyJWT or AuthNone.
	Auth string `json:"auth,omitempty"`
	// Secret for AuthSecretBasic and AuthSecretPost.
	Secret string `json:"secret,omitempty"`
	// Keys are the client's public keys for AuthPrivateKeyJWT.
	Keys []jose.JSONWebKey `json:"keys,omitempty"`
	// RedirectURIs are compared exactly (OpenID Connect Core §3.1.2.1).
	RedirectURIs []string `json:"redirect_uris"`
	// PostLogoutRedirectURIs are where end_session may send the browser.
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
}

// Subject is the person the account service logged in, given to
// [Provider.Complete].
type Subject struct {
	// ID is the stable account id: the sub claim.
	ID string
	// SessionID is the account service's login session: RP-initiated
	// logout ends it through [Sessions.End]. It is the sid claim.
	SessionID string
	// AMR lists how the person logged in (AMRPassword, …).
	AMR []string
	// AuthTime is when the person last actually logged in.
	AuthTime time.Time
	Claims   Claims
}

// Claims are the person's claims released by scope.
type Claims struct {
	Name          string
	Email         string
	EmailVerified bool
	Phone         string // E.164, +7…
	PhoneVerified bool
	// Certificate is set after a certificate login.
	Certificate *Certificate `json:",omitempty"`
}

// Certificate is what the login certificate says about its holder.
type Certificate struct {
	SNILS, INN, INNLE, OGRN, Organization, Title, Thumbprint string
}

// Sessions is what the provider needs of the account service's sessions.
type Sessions interface {
	// End ends one login session of the person (RP-initiated logout).
	End(ctx context.Context, subject, sessionID string) error
	// EndAll ends every session of the person («выйти везде»).
	EndAll(ctx context.Context, subject string) error
}

// Config configures a [Provider].
type Config struct {
	// Issuer is the provider's URL, e.g. https://id.example.ru/oidc: the
	// handler serves its paths below it (mount it with http.StripPrefix).
	Issuer string
	// LoginURL is the account service's login page; the request id is
	// added as the query parameter "request".
	LoginURL string
	// DB and Dialect (SQLite or Postgres) hold the provider's tables;
	// New migrates them.
	DB      *sql.DB
	Dialect string
	// KeyEncryptionKey (32 bytes) seals the signing keys at rest and keys
	// op's own encryption of codes and access tokens: the same for every
	// instance sharing DB.
	KeyEncryptionKey []byte
	Clients          []Client
	Sessions         Sessions
	// AllowInsecure lets the issuer be plain http (tests, the local demo).
	AllowInsecure bool

	// Lifetimes; zero means the default.
	AuthRequestTTL  time.Duration // 10 minutes
	AccessTokenTTL  time.Duration // 10 minutes
	IDTokenTTL      time.Duration // 10 minutes
	RefreshTokenTTL time.Duration // 30 days
	// KeyRotation is how long a signing key signs before a new one takes
	// over (default 30 days); [Provider.RotateKey] rotates at once.
	KeyRotation time.Duration

	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Errors of the provider; the account service maps them to its pages.
var (
	ErrConfig          = errors.New("idp: bad configuration")
	ErrNoRequest       = errors.New("idp: no such authorization request")
	ErrRequestExpired  = errors.New("idp: authorization request expired")
	ErrRequestDone     = errors.New("idp: authorization request already completed")
	ErrStepUp          = errors.New("idp: the client requires a certificate login")
	ErrReauthenticate  = errors.New("idp: the client requires a fresh login (max_age)")
	ErrKeyDecrypt      = errors.New("idp: signing key does not decrypt (wrong key encryption key?)")
	ErrRefreshReuse    = errors.New("idp: refresh token reused: grant revoked")
	ErrCodeReplay      = errors.New("idp: authorization code replayed: its tokens revoked")
	ErrRevoked         = errors.New("idp: grant revoked")
	ErrExpired         = errors.New("idp: token expired")
	ErrUnknownToken    = errors.New("idp: unknown token")
	ErrPKCERequired    = errors.New("idp: public clients must use PKCE with S256")
	ErrUnknownClient   = errors.New("idp: unknown client")
	ErrClientSecret    = errors.New("idp: wrong client secret")
	ErrUnsupportedPKCE = errors.New("idp: code_challenge_method must be S256")
)

func (c *Config) withDefaults() (Config, error) {
	cfg := *c
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.AuthRequestTTL, 10*time.Minute)
	def(&cfg.AccessTokenTTL, 10*time.Minute)
	def(&cfg.IDTokenTTL, 10*time.Minute)
	def(&cfg.RefreshTokenTTL, 30*24*time.Hour)
	def(&cfg.KeyRotation, 30*24*time.Hour)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	u, err := url.Parse(cfg.Issuer)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(u.Path, "/") {
		return cfg, fmt.Errorf("%w: issuer %q is not an https URL without query, fragment or trailing slash", ErrConfig, cfg.Issuer)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && cfg.AllowInsecure) {
		return cfg, fmt.Errorf("%w: issuer %q must be https", ErrConfig, cfg.Issuer)
	}
	if cfg.LoginURL == "" {
		return cfg, fmt.Errorf("%w: no LoginURL", ErrConfig)
	}
	if cfg.DB == nil || (cfg.Dialect != SQLite && cfg.Dialect != Postgres) {
		return cfg, fmt.Errorf("%w: DB and Dialect (%q or %q) are required", ErrConfig, SQLite, Postgres)
	}
	if len(cfg.KeyEncryptionKey) != 32 {
		return cfg, fmt.Errorf("%w: KeyEncryptionKey must be 32 bytes", ErrConfig)
	}
	if cfg.Sessions == nil {
		return cfg, fmt.Errorf("%w: no Sessions", ErrConfig)
	}
	seen := map[string]bool{}
	cfg.Clients = slices.Clone(cfg.Clients)
	for i := range cfg.Clients {
		cl := &cfg.Clients[i]
		if cl.ID == "" || seen[cl.ID] {
			return cfg, fmt.Errorf("%w: client id %q empty or repeated", ErrConfig, cl.ID)
		}
		seen[cl.ID] = true
		if cl.Auth == "" {
			cl.Auth = AuthSecretBasic
		}
		switch cl.Auth {
		case AuthSecretBasic, AuthSecretPost:
			if len(cl.Secret) < 16 {
				return cfg, fmt.Errorf("%w: client %q: a secret of 16 characters or more is required", ErrConfig, cl.ID)
			}
		case AuthPrivateKeyJWT:
			if len(cl.Keys) == 0 {
				return cfg, fmt.Errorf("%w: client %q: private_key_jwt without keys", ErrConfig, cl.ID)
			}
		case AuthNone:
		default:
			return cfg, fmt.Errorf("%w: client %q: unknown auth %q", ErrConfig, cl.ID, cl.Auth)
		}
		if len(cl.RedirectURIs) == 0 {
			return cfg, fmt.Errorf("%w: client %q has no redirect URIs", ErrConfig, cl.ID)
		}
		for _, r := range append(slices.Clone(cl.RedirectURIs), cl.PostLogoutRedirectURIs...) {
			if u, err := url.Parse(r); err != nil || !u.IsAbs() || u.Fragment != "" {
				return cfg, fmt.Errorf("%w: client %q: redirect URI %q must be absolute, without fragment", ErrConfig, cl.ID, r)
			}
		}
	}
	return cfg, nil
}

func (c *Client) secretMatches(secret string) bool {
	return subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) == 1
}

// CertificateOf is what a login certificate says about its holder, as
// verify reports it after a certificate login.
func CertificateOf(id login.Identity) *Certificate {
	ogrn := id.OGRN
	if ogrn == "" {
		ogrn = id.OGRNIP
	}
	return &Certificate{SNILS: id.SNILS, INN: id.INN, INNLE: id.INNLE, OGRN: ogrn,
		Organization: id.Organization, Title: id.Title, Thumbprint: id.Thumbprint}
}
