package idp

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Provider is the OpenID Connect provider.
type Provider struct {
	cfg     Config
	storage *storage
	op      *op.Provider
	path    string // the issuer's path, stripped by Handler
	flowKey []byte // MACs the cookies that bind a request to its browser
}

// New checks cfg, migrates the provider's tables and makes the provider.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, c.DB, c.Dialect); err != nil {
		return nil, err
	}
	p := &Provider{cfg: c}
	d := &db{sql: c.DB}
	keys, err := newKeyRing(d, &p.cfg)
	if err != nil {
		return nil, err
	}
	p.storage = &storage{db: d, keys: keys, cfg: &p.cfg, clients: map[string]*Client{}}
	for i := range p.cfg.Clients {
		p.storage.clients[p.cfg.Clients[i].ID] = &p.cfg.Clients[i]
	}
	// A wrong key encryption key is found now, not at the first login.
	if _, err := keys.current(ctx); err != nil {
		return nil, err
	}
	// op encrypts codes and access tokens with its own key: derived from
	// ours, so that every instance on one database reads the others'.
	opKey, err := hkdf.Key(sha256.New, c.KeyEncryptionKey, nil, "podpis idp op crypto", 32)
	if err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	opCfg := &op.Config{
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		AuthMethodPrivateKeyJWT:  true,
		GrantTypeRefreshToken:    true,
		DefaultLogoutRedirectURI: c.LoginURL,
		SupportedScopes: []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopePhone,
			oidc.ScopeOfflineAccess, ScopeCertificate},
		SupportedClaims: []string{"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "acr", "amr", "azp", "sid",
			"name", "email", "email_verified", "phone_number", "phone_number_verified",
			"snils", "inn", "inn_le", "ogrn", "organization", "title", "cert_thumbprint"},
	}
	copy(opCfg.CryptoKey[:], opKey)
	if p.flowKey, err = hkdf.Key(sha256.New, c.KeyEncryptionKey, nil, "podpis idp flow cookie", 32); err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	var opts []op.Option
	if c.AllowInsecure {
		opts = append(opts, op.WithAllowInsecure())
	}
	p.op, err = op.NewProvider(opCfg, p.storage, op.StaticIssuer(c.Issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	u, _ := url.Parse(c.Issuer)
	p.path = u.Path
	return p, nil
}

// Issuer is the provider's issuer URL.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

// Handler serves the provider's endpoints at the issuer's path: mount it
// at that path ("/oidc/" for an issuer https://site/oidc).
func (p *Provider) Handler() http.Handler {
	h := p.bindFlow(withDiscoveryExtras(p.op))
	if p.path == "" {
		return h
	}
	return http.StripPrefix(p.path, h)
}

// withDiscoveryExtras adds to discovery what op does not say:
// acr_values_supported (Discovery §3), so that a client sees it can ask
// for a certificate login.
func withDiscoveryExtras(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != oidc.DiscoveryEndpoint {
			h.ServeHTTP(w, r)
			return
		}
		rec := &bufferedWriter{header: http.Header{}, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		var doc map[string]any
		if rec.code == http.StatusOK && json.Unmarshal(rec.body.Bytes(), &doc) == nil {
			doc["acr_values_supported"] = []string{ACRBasic, ACRCertificate}
			if b, err := json.Marshal(doc); err == nil {
				rec.body.Reset()
				rec.body.Write(b)
				rec.header.Del("Content-Length")
			}
		}
		maps.Copy(w.Header(), rec.header)
		w.WriteHeader(rec.code)
		w.Write(rec.body.Bytes())
	})
}

type bufferedWriter struct {
	header http.Header
	body   bytes.Buffer
	code   int
}

func (b *bufferedWriter) Header() http.Header         { return b.header }
func (b *bufferedWriter) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedWriter) WriteHeader(code int)        { b.code = code }

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("idp: %w", err)
	}
	return string(b), nil
}

// LoginRequest is what the login page needs to know about a request.
type LoginRequest struct {
	ID       string
	ClientID string
	// ClientName is the client's configured name, to show «Вход в …».
	ClientName string
	// Certificate: the client requires a certificate login (acr_values
	// has ACRCertificate); a password session is not enough — step up.
	Certificate bool
	// Prompt is the prompt parameter (login, consent, none, …).
	Prompt []string
	// MaxAge, when set, is how old the login may be.
	MaxAge    *time.Duration
	LoginHint string
}

// Request tells the login page what the authorization request id asks.
func (p *Provider) Request(ctx context.Context, id string) (LoginRequest, error) {
	a, err := p.storage.authRequestByID(ctx, id)
	if err != nil {
		return LoginRequest{}, err
	}
	if a.Done() {
		return LoginRequest{}, ErrRequestDone
	}
	lr := LoginRequest{ID: a.id, ClientID: a.clientID, Certificate: a.certificateRequired(),
		Prompt: a.prompt, LoginHint: a.loginHint}
	if cl, ok := p.storage.clients[a.clientID]; ok {
		lr.ClientName = cl.Name
	}
	if a.maxAge.Valid {
		d := time.Duration(a.maxAge.Int64) * time.Second
		lr.MaxAge = &d
	}
	return lr, nil
}

// Complete answers the authorization request id with the person the
// account service logged in, and returns where to send the browser: the
// provider's callback, which sends the code to the client. It refuses a
// login that does not satisfy the request: ErrStepUp when the client
// requires a certificate and AMR has none, ErrReauthenticate when the
// login is older than max_age (or prompt=login and the login is older
// than the request).
func (p *Provider) Complete(ctx context.Context, id string, s Subject) (string, error) {
	if s.ID == "" || s.SessionID == "" || len(s.AMR) == 0 || s.AuthTime.IsZero() {
		return "", fmt.Errorf("%w: Subject needs ID, SessionID, AMR and AuthTime", ErrConfig)
	}
	a, err := p.storage.authRequestByID(ctx, id)
	if err != nil {
		return "", err
	}
	if a.Done() {
		return "", ErrRequestDone
	}
	cert := slices.Contains(s.AMR, AMRCertificate)
	if a.certificateRequired() && !cert {
		return "", ErrStepUp
	}
	if a.maxAge.Valid && p.cfg.Now().Sub(s.AuthTime) > time.Duration(a.maxAge.Int64)*time.Second+time.Second {
		return "", ErrReauthenticate
	}
	if slices.Contains(a.prompt, oidc.PromptLogin) && s.AuthTime.Before(a.expiresAt.Add(-p.cfg.AuthRequestTTL)) {
		return "", ErrReauthenticate
	}
	acr := ACRBasic
	if cert {
		acr = ACRCertificate
	} else {
		// Certificate claims come from a certificate login, not from an
		// older one remembered by the account.
		s.Claims.Certificate = nil
	}
	claims, err := jsonString(s.Claims)
	if err != nil {
		return "", err
	}
	res, err := p.storage.db.exec(ctx, nil, `UPDATE idp_auth_requests SET subject = $1, session_id = $2, amr = $3, acr = $4, auth_time = $5, claims = $6
		WHERE id = $7 AND subject IS NULL`, s.ID, s.SessionID, joinSpace(s.AMR), acr, s.AuthTime.Unix(), claims, id)
	if err != nil {
		return "", err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return "", ErrRequestDone
	}
	return p.cfg.Issuer + "/authorize/callback?id=" + url.QueryEscape(id), nil
}

// EndEverywhere ends every session of the person: the provider's grants
// (refresh and access tokens of every client) and, through
// Sessions.EndAll, the account service's logins.
func (p *Provider) EndEverywhere(ctx context.Context, subject string) error {
	if subject == "" {
		return fmt.Errorf("%w: no subject", ErrConfig)
	}
	if err := p.storage.revokeGrants(ctx, subject, "", "end everywhere"); err != nil {
		return err
	}
	if err := p.cfg.Sessions.EndAll(ctx, subject); err != nil {
		return fmt.Errorf("idp: ending sessions: %w", err)
	}
	return nil
}

// EndSession ends one login session's grants (every session's, when
// sessionID is ""), for an account service whose own logout ends a
// session (the counterpart of end_session). It ends no account session:
// the account service calls it when it has ended them itself.
func (p *Provider) EndSession(ctx context.Context, subject, sessionID string) error {
	if subject == "" {
		return fmt.Errorf("%w: no subject", ErrConfig)
	}
	return p.storage.revokeGrants(ctx, subject, sessionID, "logout")
}

// RotateKey makes a new signing key now. The old key stays in JWKS for
// one ID token lifetime, so tokens it signed still verify until they
// expire.
func (p *Provider) RotateKey(ctx context.Context) error {
	_, err := p.storage.keys.rotate(ctx)
	return err
}

// Prune deletes what can no longer be used: authorization requests past
// their lifetime (a code replayed after that is refused as unknown),
// expired access and refresh tokens, grants left without tokens, and
// signing keys out of JWKS. The caller runs it now and then.
func (p *Provider) Prune(ctx context.Context) error {
	now := p.cfg.Now().Unix()
	return p.storage.db.tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM idp_auth_requests WHERE expires_at <= $1`,
			`DELETE FROM idp_access_tokens WHERE expires_at <= $1`,
			`DELETE FROM idp_refresh_tokens WHERE expires_at <= $1`,
			`DELETE FROM idp_grants WHERE created_at <= $1 AND NOT EXISTS (SELECT 1 FROM idp_refresh_tokens r WHERE r.grant_id = idp_grants.id)
				AND NOT EXISTS (SELECT 1 FROM idp_access_tokens a WHERE a.grant_id = idp_grants.id)`,
			`DELETE FROM idp_signing_keys WHERE publish_until IS NOT NULL AND publish_until <= $1`,
		} {
			if _, err := p.storage.db.exec(ctx, tx, q, now); err != nil {
				return err
			}
		}
		return nil
	})
}
