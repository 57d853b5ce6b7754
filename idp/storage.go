package idp

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// storage is op.Storage on the provider's tables: op checks the protocol,
// storage keeps the records and makes the decisions about them.
type storage struct {
	db      *db
	keys    *keyRing
	cfg     *Config
	clients map[string]*Client
}

var _ op.Storage = (*storage)(nil)
var _ op.CanSetUserinfoFromRequest = (*storage)(nil)
var _ op.CanTerminateSessionFromRequest = (*storage)(nil)

// authRequest is one authorization request, and after Complete the login
// that answers it.
type authRequest struct {
	id, clientID, redirectURI, state, nonce string
	scopes                                  []string
	responseType, responseMode              string
	codeChallenge, codeMethod               string
	acrValues, prompt                       []string
	maxAge                                  sql.NullInt64
	loginHint                               string
	expiresAt                               time.Time
	subject                                 sql.NullString
	sessionID                               string
	amr                                     []string
	acr                                     string
	authTime                                time.Time
	claims                                  Claims
	exchanged                               bool
}

func (a *authRequest) GetID() string         { return a.id }
func (a *authRequest) GetACR() string        { return a.acr }
func (a *authRequest) GetAMR() []string      { return a.amr }
func (a *authRequest) GetAudience() []string { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time {
	return a.authTime
}
func (a *authRequest) GetClientID() string { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.codeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.codeChallenge, Method: oidc.CodeChallengeMethod(a.codeMethod)}
}
func (a *authRequest) GetNonce() string                   { return a.nonce }
func (a *authRequest) GetRedirectURI() string             { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseType(a.responseType) }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return oidc.ResponseMode(a.responseMode) }
func (a *authRequest) GetScopes() []string                { return a.scopes }
func (a *authRequest) GetState() string                   { return a.state }
func (a *authRequest) GetSubject() string                 { return a.subject.String }
func (a *authRequest) Done() bool                         { return a.subject.Valid }

// certificateRequired: the client asked for a certificate login.
func (a *authRequest) certificateRequired() bool {
	return slices.Contains(a.acrValues, ACRCertificate)
}

// grant is one login of one person into one client; refresh token
// requests are grants.
type grant struct {
	id, subject, clientID, sessionID string
	scopes, amr                      []string
	acr                              string
	authTime                         time.Time
	claims                           Claims
	revoked                          bool
}

func (g *grant) GetAMR() []string            { return g.amr }
func (g *grant) GetAudience() []string       { return []string{g.clientID} }
func (g *grant) GetAuthTime() time.Time      { return g.authTime }
func (g *grant) GetClientID() string         { return g.clientID }
func (g *grant) GetScopes() []string         { return g.scopes }
func (g *grant) GetSubject() string          { return g.subject }
func (g *grant) SetCurrentScopes(s []string) { g.scopes = s }

func joinSpace(s []string) string { return strings.Join(s, " ") }
func splitSpace(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}

const authRequestColumns = `id, client_id, redirect_uri, scopes, state, nonce, response_type, response_mode,
	code_challenge, code_method, acr_values, max_age, prompt, login_hint, expires_at,
	subject, session_id, amr, acr, auth_time, claims, exchanged_at`

func (s *storage) scanAuthRequest(row *sql.Row) (*authRequest, error) {
	var a authRequest
	var scopes, acrValues, prompt, amr, claims string
	var expires, authTime int64
	var exchanged sql.NullInt64
	err := row.Scan(&a.id, &a.clientID, &a.redirectURI, &scopes, &a.state, &a.nonce, &a.responseType, &a.responseMode,
		&a.codeChallenge, &a.codeMethod, &acrValues, &a.maxAge, &prompt, &a.loginHint, &expires,
		&a.subject, &a.sessionID, &amr, &a.acr, &authTime, &claims, &exchanged)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoRequest
	}
	if err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	a.scopes, a.acrValues, a.prompt, a.amr = splitSpace(scopes), splitSpace(acrValues), splitSpace(prompt), splitSpace(amr)
	a.expiresAt = time.Unix(expires, 0)
	if authTime != 0 {
		a.authTime = time.Unix(authTime, 0)
	}
	a.exchanged = exchanged.Valid
	if err := json.Unmarshal([]byte(claims), &a.claims); err != nil {
		return nil, fmt.Errorf("idp: claims of request %s: %w", a.id, err)
	}
	return &a, nil
}

func (s *storage) CreateAuthRequest(ctx context.Context, r *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	cl, ok := s.clients[r.ClientID]
	if !ok {
		return nil, ErrUnknownClient
	}
	// op takes plain PKCE and lets public clients go without; we take
	// S256 only (RFC 7636 §4.2: plain is for clients that cannot hash),
	// and a public client's code is useless to whoever intercepts it only
	// with a verifier.
	if r.CodeChallenge != "" && r.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256").WithParent(ErrUnsupportedPKCE)
	}
	if cl.Auth == AuthNone && r.CodeChallenge == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with S256 is required").WithParent(ErrPKCERequired)
	}
	now := s.cfg.Now()
	a := &authRequest{
		id: randomID(), clientID: r.ClientID, redirectURI: r.RedirectURI, state: r.State, nonce: r.Nonce,
		scopes: r.Scopes, responseType: string(r.ResponseType), responseMode: string(r.ResponseMode),
		codeChallenge: r.CodeChallenge, codeMethod: string(r.CodeChallengeMethod),
		acrValues: r.ACRValues, prompt: r.Prompt, loginHint: r.LoginHint,
		expiresAt: now.Add(s.cfg.AuthRequestTTL),
	}
	if r.MaxAge != nil {
		a.maxAge = sql.NullInt64{Int64: int64(*r.MaxAge), Valid: true}
	}
	_, err := s.db.exec(ctx, nil, `INSERT INTO idp_auth_requests (id, client_id, redirect_uri, scopes, state, nonce,
		response_type, response_mode, code_challenge, code_method, acr_values, max_age, prompt, login_hint, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		a.id, a.clientID, a.redirectURI, joinSpace(a.scopes), a.state, a.nonce, a.responseType, a.responseMode,
		a.codeChallenge, a.codeMethod, joinSpace(a.acrValues), a.maxAge, joinSpace(a.prompt), a.loginHint, now.Unix(), a.expiresAt.Unix())
	if err != nil {
		return nil, err
	}
	return a, nil
}

func (s *storage) authRequestByID(ctx context.Context, id string) (*authRequest, error) {
	a, err := s.scanAuthRequest(s.db.queryRow(ctx, `SELECT `+authRequestColumns+` FROM idp_auth_requests WHERE id = $1`, id))
	if err != nil {
		return nil, err
	}
	if !s.cfg.Now().Before(a.expiresAt) {
		return nil, ErrRequestExpired
	}
	return a, nil
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	a, err := s.authRequestByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.exchanged {
		return nil, ErrRequestDone
	}
	return a, nil
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	a, err := s.scanAuthRequest(s.db.queryRow(ctx, `SELECT `+authRequestColumns+` FROM idp_auth_requests WHERE code_hash = $1`, tokenHash(code)))
	if err != nil {
		return nil, err
	}
	if a.exchanged {
		// RFC 6749 §4.1.2: a code used twice revokes what it gave.
		if err := s.revokeGrant(ctx, a.id, "code replay"); err != nil {
			return nil, err
		}
		return nil, ErrCodeReplay
	}
	if !s.cfg.Now().Before(a.expiresAt) {
		return nil, ErrRequestExpired
	}
	if !a.Done() {
		return nil, ErrNoRequest
	}
	return a, nil
}

func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	// One code per request: a second callback for the same request does
	// not mint a second valid code.
	res, err := s.db.exec(ctx, nil, `UPDATE idp_auth_requests SET code_hash = $1 WHERE id = $2 AND code_hash IS NULL AND subject IS NOT NULL`, tokenHash(code), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrRequestDone
	}
	return nil
}

// DeleteAuthRequest is called by op once the code is exchanged; the row
// stays (exchanged_at, set in consume) so that a replay is recognised.
func (s *storage) DeleteAuthRequest(ctx context.Context, id string) error { return nil }

// consume marks a request's code exchanged and makes its grant, in one
// transaction: of two concurrent exchanges of one code only one wins.
func (s *storage) consume(ctx context.Context, tx *sql.Tx, a *authRequest) (*grant, error) {
	now := s.cfg.Now().Unix()
	res, err := s.db.exec(ctx, tx, `UPDATE idp_auth_requests SET exchanged_at = $1 WHERE id = $2 AND exchanged_at IS NULL`, now, a.id)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, ErrCodeReplay
	}
	claims, _ := json.Marshal(a.claims)
	g := &grant{id: a.id, subject: a.subject.String, clientID: a.clientID, sessionID: a.sessionID,
		scopes: a.scopes, amr: a.amr, acr: a.acr, authTime: a.authTime, claims: a.claims}
	_, err = s.db.exec(ctx, tx, `INSERT INTO idp_grants (id, subject, client_id, session_id, scopes, amr, acr, auth_time, claims, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		g.id, g.subject, g.clientID, g.sessionID, joinSpace(g.scopes), joinSpace(g.amr), g.acr, g.authTime.Unix(), string(claims), now)
	return g, err
}

func (s *storage) insertAccessToken(ctx context.Context, tx *sql.Tx, g *grant) (string, time.Time, error) {
	id := randomID()
	exp := s.cfg.Now().Add(s.cfg.AccessTokenTTL)
	_, err := s.db.exec(ctx, tx, `INSERT INTO idp_access_tokens (id, grant_id, subject, client_id, scopes, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		id, g.id, g.subject, g.clientID, joinSpace(g.scopes), exp.Unix())
	return id, exp, err
}

func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (id string, exp time.Time, err error) {
	a, ok := req.(*authRequest)
	if !ok {
		return "", time.Time{}, fmt.Errorf("idp: token request %T not supported", req)
	}
	err = s.db.tx(ctx, func(tx *sql.Tx) error {
		g, err := s.consume(ctx, tx, a)
		if err != nil {
			return err
		}
		id, exp, err = s.insertAccessToken(ctx, tx, g)
		return err
	})
	return id, exp, err
}

func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (id, refresh string, exp time.Time, err error) {
	now := s.cfg.Now()
	err = s.db.tx(ctx, func(tx *sql.Tx) error {
		var g *grant
		switch r := req.(type) {
		case *authRequest:
			if g, err = s.consume(ctx, tx, r); err != nil {
				return err
			}
		case *grant:
			g = r
			// Rotation: the presented token is spent here, atomically; a
			// concurrent second use finds it spent.
			res, err := s.db.exec(ctx, tx, `UPDATE idp_refresh_tokens SET used_at = $1 WHERE hash = $2 AND grant_id = $3 AND used_at IS NULL`,
				now.Unix(), tokenHash(current), g.id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return ErrRefreshReuse
			}
		default:
			return fmt.Errorf("idp: token request %T not supported", req)
		}
		refresh = randomToken(32)
		if _, err := s.db.exec(ctx, tx, `INSERT INTO idp_refresh_tokens (hash, grant_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			tokenHash(refresh), g.id, now.Unix(), now.Add(s.cfg.RefreshTokenTTL).Unix()); err != nil {
			return err
		}
		id, exp, err = s.insertAccessToken(ctx, tx, g)
		return err
	})
	if errors.Is(err, ErrRefreshReuse) {
		if g, ok := req.(*grant); ok {
			s.revokeGrant(ctx, g.id, "refresh token reuse")
		}
	}
	return id, refresh, exp, err
}

func (s *storage) grantByID(ctx context.Context, id string) (*grant, error) {
	var g grant
	var scopes, amr, claims string
	var authTime int64
	var revoked sql.NullInt64
	err := s.db.queryRow(ctx, `SELECT id, subject, client_id, session_id, scopes, amr, acr, auth_time, claims, revoked_at FROM idp_grants WHERE id = $1`, id).
		Scan(&g.id, &g.subject, &g.clientID, &g.sessionID, &scopes, &amr, &g.acr, &authTime, &claims, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrUnknownToken
	}
	if err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	g.scopes, g.amr, g.authTime, g.revoked = splitSpace(scopes), splitSpace(amr), time.Unix(authTime, 0), revoked.Valid
	if err := json.Unmarshal([]byte(claims), &g.claims); err != nil {
		return nil, fmt.Errorf("idp: claims of grant %s: %w", id, err)
	}
	return &g, nil
}

func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	var grantID string
	var expires int64
	var used sql.NullInt64
	err := s.db.queryRow(ctx, `SELECT grant_id, expires_at, used_at FROM idp_refresh_tokens WHERE hash = $1`, tokenHash(token)).Scan(&grantID, &expires, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrUnknownToken
	}
	if err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	if used.Valid {
		// A rotated-away token came back: one of its two holders is a
		// thief, and we cannot tell which, so the login ends for both.
		if err := s.revokeGrant(ctx, grantID, "refresh token reuse"); err != nil {
			return nil, err
		}
		return nil, ErrRefreshReuse
	}
	g, err := s.grantByID(ctx, grantID)
	if err != nil {
		return nil, err
	}
	if g.revoked {
		return nil, ErrRevoked
	}
	if !s.cfg.Now().Before(time.Unix(expires, 0)) {
		return nil, ErrExpired
	}
	return g, nil
}

// revokeGrant ends one login: its refresh tokens stop refreshing (the
// grant is checked) and its access tokens stop being accepted.
func (s *storage) revokeGrant(ctx context.Context, id, why string) error {
	now := s.cfg.Now().Unix()
	return s.db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.db.exec(ctx, tx, `UPDATE idp_grants SET revoked_at = $1, revoke_why = $2 WHERE id = $3 AND revoked_at IS NULL`, now, why, id); err != nil {
			return err
		}
		_, err := s.db.exec(ctx, tx, `UPDATE idp_access_tokens SET revoked_at = $1 WHERE grant_id = $2 AND revoked_at IS NULL`, now, id)
		return err
	})
}

// revokeGrantsWhere revokes the grants of a person, or of one session.
func (s *storage) revokeGrants(ctx context.Context, subject, sessionID, why string) error {
	q := `SELECT id FROM idp_grants WHERE subject = $1 AND revoked_at IS NULL`
	args := []any{subject}
	if sessionID != "" {
		q += ` AND session_id = $2`
		args = append(args, sessionID)
	}
	rows, err := s.db.query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("idp: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("idp: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		if err := s.revokeGrant(ctx, id, why); err != nil {
			return err
		}
	}
	return nil
}

func (s *storage) TerminateSession(ctx context.Context, userID, clientID string) error {
	return errors.New("idp: TerminateSession is replaced by TerminateSessionFromRequest")
}

// TerminateSessionFromRequest is RP-initiated logout: the login session
// named by the id_token_hint's sid ends here and in the account service.
// Without a hint nobody is logged out: the provider has no session cookie
// of its own to tell whose session it would be.
func (s *storage) TerminateSessionFromRequest(ctx context.Context, r *op.EndSessionRequest) (string, error) {
	if r.IDTokenHintClaims == nil || r.UserID == "" {
		return "", oidc.ErrInvalidRequest().WithDescription("id_token_hint is required")
	}
	sid := r.IDTokenHintClaims.SessionID
	if sid == "" {
		return "", oidc.ErrInvalidRequest().WithDescription("id_token_hint has no sid")
	}
	if err := s.revokeGrants(ctx, r.UserID, sid, "logout"); err != nil {
		return "", err
	}
	if err := s.cfg.Sessions.End(ctx, r.UserID, sid); err != nil {
		return "", fmt.Errorf("idp: ending session: %w", err)
	}
	return r.RedirectURI, nil
}

// refreshRef is what GetRefreshTokenInfo names a refresh token by, for
// RevokeToken to tell it from an access token's id.
const refreshRef = "rt:"

func (s *storage) RevokeToken(ctx context.Context, token, userID, clientID string) *oidc.Error {
	hash, isRefresh := strings.CutPrefix(token, refreshRef)
	if !isRefresh && userID != "" { // an access token's id
		var grantID string
		err := s.db.queryRow(ctx, `SELECT grant_id FROM idp_access_tokens WHERE id = $1 AND client_id = $2`, token, clientID).Scan(&grantID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // RFC 7009 §2.2: an unknown token is not an error
		}
		if err != nil {
			return oidc.ErrServerError().WithParent(err)
		}
		if _, err := s.db.exec(ctx, nil, `UPDATE idp_access_tokens SET revoked_at = $1 WHERE id = $2`, s.cfg.Now().Unix(), token); err != nil {
			return oidc.ErrServerError().WithParent(err)
		}
		return nil
	}
	var grantID, owner string
	if !isRefresh {
		hash = tokenHash(token)
	}
	err := s.db.queryRow(ctx, `SELECT g.id, g.client_id FROM idp_refresh_tokens r JOIN idp_grants g ON g.id = r.grant_id WHERE r.hash = $1`, hash).Scan(&grantID, &owner)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if owner != clientID {
		return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
	}
	// RFC 7009 §2.1: revoking a refresh token revokes its access tokens.
	if err := s.revokeGrant(ctx, grantID, "revoked by client"); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	var subject, owner string
	err := s.db.queryRow(ctx, `SELECT g.subject, g.client_id FROM idp_refresh_tokens r JOIN idp_grants g ON g.id = r.grant_id WHERE r.hash = $1`, tokenHash(token)).Scan(&subject, &owner)
	if err != nil || owner != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return subject, refreshRef + tokenHash(token), nil
}

func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	return s.keys.current(ctx)
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	if _, err := s.keys.current(ctx); err != nil { // the first key, or a due rotation
		return nil, err
	}
	return s.keys.published(ctx)
}

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	cl, ok := s.clients[id]
	if !ok {
		return nil, ErrUnknownClient
	}
	return &opClient{c: cl, cfg: s.cfg}, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	cl, ok := s.clients[id]
	if !ok {
		return ErrUnknownClient
	}
	if (cl.Auth != AuthSecretBasic && cl.Auth != AuthSecretPost) || !cl.secretMatches(secret) {
		return ErrClientSecret
	}
	return nil
}

func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// setClaims fills userinfo with what the scopes release.
func setClaims(u *oidc.UserInfo, subject string, c Claims, scopes []string) {
	u.Subject = subject
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeProfile:
			u.Name = c.Name
		case oidc.ScopeEmail:
			if c.Email != "" {
				u.Email, u.EmailVerified = c.Email, oidc.Bool(c.EmailVerified)
			}
		case oidc.ScopePhone:
			if c.Phone != "" {
				u.PhoneNumber, u.PhoneNumberVerified = c.Phone, oidc.Bool(c.PhoneVerified)
			}
		case ScopeCertificate:
			if crt := c.Certificate; crt != nil {
				for _, kv := range [][2]string{
					{"snils", crt.SNILS}, {"inn", crt.INN}, {"inn_le", crt.INNLE}, {"ogrn", crt.OGRN},
					{"organization", crt.Organization}, {"title", crt.Title}, {"cert_thumbprint", crt.Thumbprint},
				} {
					if kv[1] != "" {
						u.AppendClaims(kv[0], kv[1])
					}
				}
			}
		}
	}
}

func (s *storage) SetUserinfoFromRequest(ctx context.Context, u *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	switch r := req.(type) {
	case *authRequest:
		setClaims(u, r.subject.String, r.claims, scopes)
		u.AppendClaims("sid", r.sessionID)
	case *grant:
		setClaims(u, r.subject, r.claims, scopes)
		u.AppendClaims("sid", r.sessionID)
		// op puts acr in ID tokens from authorization requests only; a
		// refreshed ID token says the same as the first one.
		u.AppendClaims("acr", r.acr)
	}
	return nil
}

// accessGrant is the live grant of an access token.
func (s *storage) accessGrant(ctx context.Context, tokenID, subject string) (*grant, int64, error) {
	var grantID, sub string
	var expires int64
	var revoked sql.NullInt64
	err := s.db.queryRow(ctx, `SELECT grant_id, subject, expires_at, revoked_at FROM idp_access_tokens WHERE id = $1`, tokenID).Scan(&grantID, &sub, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && sub != subject) {
		return nil, 0, ErrUnknownToken
	}
	if err != nil {
		return nil, 0, fmt.Errorf("idp: %w", err)
	}
	if revoked.Valid {
		return nil, 0, ErrRevoked
	}
	if s.cfg.Now().Unix() >= expires {
		return nil, 0, ErrExpired
	}
	g, err := s.grantByID(ctx, grantID)
	if err != nil {
		return nil, 0, err
	}
	if g.revoked {
		return nil, 0, ErrRevoked
	}
	return g, expires, nil
}

func (s *storage) SetUserinfoFromToken(ctx context.Context, u *oidc.UserInfo, tokenID, subject, _ string) error {
	g, _, err := s.accessGrant(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	setClaims(u, g.subject, g.claims, g.scopes)
	return nil
}

func (s *storage) SetIntrospectionFromToken(ctx context.Context, r *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	g, exp, err := s.accessGrant(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	var u oidc.UserInfo
	setClaims(&u, g.subject, g.claims, g.scopes)
	r.SetUserInfo(&u)
	r.Active, r.Scope, r.ClientID, r.Subject = true, g.scopes, g.clientID, g.subject
	r.Expiration, r.AuthTime = oidc.FromTime(time.Unix(exp, 0)), oidc.FromTime(g.authTime)
	r.AuthenticationMethodsReferences = g.amr
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(_ context.Context, keyID, clientID string) (*jose.JSONWebKey, error) {
	cl, ok := s.clients[clientID]
	if !ok || cl.Auth != AuthPrivateKeyJWT {
		return nil, ErrUnknownClient
	}
	for i := range cl.Keys {
		if cl.Keys[i].KeyID == keyID {
			return &cl.Keys[i], nil
		}
	}
	return nil, fmt.Errorf("idp: client %s has no key %q", clientID, keyID)
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("idp: the JWT profile grant is not supported")
}

func (s *storage) Health(ctx context.Context) error { return s.db.sql.PingContext(ctx) }

// opClient is a configured client as op sees it.
type opClient struct {
	c   *Client
	cfg *Config
}

func (c *opClient) GetID() string                    { return c.c.ID }
func (c *opClient) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c *opClient) PostLogoutRedirectURIs() []string { return c.c.PostLogoutRedirectURIs }
func (c *opClient) ApplicationType() op.ApplicationType {
	if c.c.Auth == AuthNone {
		return op.ApplicationTypeUserAgent
	}
	return op.ApplicationTypeWeb
}
func (c *opClient) AuthMethod() oidc.AuthMethod { return oidc.AuthMethod(c.c.Auth) }
func (c *opClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *opClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}
func (c *opClient) LoginURL(id string) string {
	sep := "?"
	if strings.Contains(c.cfg.LoginURL, "?") {
		sep = "&"
	}
	return c.cfg.LoginURL + sep + "request=" + id
}
func (c *opClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *opClient) IDTokenLifetime() time.Duration      { return c.cfg.IDTokenTTL }

// DevMode lets public clients redirect to plain http: only with an
// insecure (test, local demo) issuer.
func (c *opClient) DevMode() bool { return c.cfg.AllowInsecure }
func (c *opClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *opClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *opClient) IsScopeAllowed(scope string) bool { return scope == ScopeCertificate }

// IDTokenUserinfoClaimsAssertion: the claims go in the ID token too, so a
// client needs no userinfo round trip.
func (c *opClient) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *opClient) ClockSkew() time.Duration             { return 0 }
