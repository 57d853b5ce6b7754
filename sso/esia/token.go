package esia

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/streebog"
)

// The JWT algorithms ESIA signs with.
const (
	algRS256    = "RS256"
	algGOST256  = "GOST3410_2012_256"
	maxResponse = 1 << 20
)

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
	State        string `json:"state"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
}

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// exchange trades code for tokens at the token endpoint, authenticating
// with a new state, timestamp and client_secret.
func (c *Client) exchange(ctx context.Context, code string) (*tokenResponse, error) {
	state, err := newState()
	if err != nil {
		return nil, err
	}
	now := c.now()
	secret, err := c.clientSecret(state, now)
	if err != nil {
		return nil, err
	}
	form := url.Values{
		"client_id":     {c.cfg.ClientID},
		"code":          {code},
		"grant_type":    {"authorization_code"},
		"client_secret": {secret},
		"state":         {state},
		"redirect_uri":  {c.cfg.RedirectURI},
		"scope":         {c.scope},
		"timestamp":     {now.Format(TimestampLayout)},
		"token_type":    {"Bearer"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.Endpoints.Token, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("esia: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	body, status, err := c.do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTokenCall, err)
	}
	if status != http.StatusOK {
		var e oauthError
		json.Unmarshal(body, &e)
		if e.Error == "" {
			e.Error = fmt.Sprintf("HTTP %d", status)
		}
		return nil, fmt.Errorf("%w: %s: %s", ErrTokenCall, e.Error, e.Description)
	}
	var tok tokenResponse
	if err := json.Unmarshal(body, &tok); err != nil {
		return nil, fmt.Errorf("%w: the answer is not JSON: %v", ErrTokenCall, err)
	}
	if tok.State != state {
		// ESIA returns the request's state: anything else is an answer to
		// another request.
		return nil, fmt.Errorf("%w: the answer's state is not the request's", ErrTokenCall)
	}
	if !strings.EqualFold(tok.TokenType, "Bearer") || tok.AccessToken == "" || tok.IDToken == "" {
		return nil, fmt.Errorf("%w: no Bearer access token and id_token in the answer", ErrTokenCall)
	}
	return &tok, nil
}

func (c *Client) do(req *http.Request) ([]byte, int, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, 0, err
	}
	if len(body) > maxResponse {
		return nil, 0, fmt.Errorf("answer over %d bytes", maxResponse)
	}
	return body, resp.StatusCode, nil
}

// checkTokens verifies the id_token and the access token and returns the
// identity they name.
func (c *Client) checkTokens(tok *tokenResponse, now time.Time) (*Identity, error) {
	id, err := c.verifyJWT(tok.IDToken, now)
	if err != nil {
		return nil, fmt.Errorf("%w: id_token: %v", ErrToken, err)
	}
	if !audienceIs(id["aud"], c.cfg.ClientID) {
		return nil, fmt.Errorf("%w: id_token: issued to %v, not to %s", ErrToken, id["aud"], c.cfg.ClientID)
	}
	oid := claimString(id["sub"])
	if oid == "" {
		return nil, fmt.Errorf("%w: id_token: no subject", ErrToken)
	}
	at, err := c.verifyJWT(tok.AccessToken, now)
	if err != nil {
		return nil, fmt.Errorf("%w: access token: %v", ErrToken, err)
	}
	if claimString(at["urn:esia:sbj_id"]) != oid {
		return nil, fmt.Errorf("%w: the access token is for another person", ErrToken)
	}
	if cid := claimString(at["client_id"]); cid != c.cfg.ClientID {
		return nil, fmt.Errorf("%w: the access token was issued to %q", ErrToken, cid)
	}
	ident := &Identity{OID: oid}
	switch amr := id["amr"].(type) {
	case string:
		ident.AuthMethod = amr
	case []any:
		if len(amr) > 0 {
			ident.AuthMethod = claimString(amr[0])
		}
	}
	if t, ok := claimTime(id["auth_time"]); ok {
		ident.AuthTime = t
	}
	return ident, nil
}

// verifyJWT checks a compact JWS signed by ESIA's key and its iss, exp
// and nbf, and returns its claims. The algorithm must be the one ESIA's
// configured key signs with: a token naming another (none, HS256, RS256
// against a GOST key) is refused, never tried.
func (c *Client) verifyJWT(token string, now time.Time) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a signed JWT")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return nil, fmt.Errorf("header: %v", err)
	}
	if header.Alg != c.alg {
		return nil, fmt.Errorf("signed with %q, ESIA's key signs %s", header.Alg, c.alg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("signature: %v", err)
	}
	if !verifySignature(c.cfg.ProviderKey, []byte(parts[0]+"."+parts[1]), sig) {
		return nil, fmt.Errorf("the signature is not ESIA's")
	}
	var claims map[string]any
	if err := decodeSegment(parts[1], &claims); err != nil {
		return nil, fmt.Errorf("claims: %v", err)
	}
	if iss := claimString(claims["iss"]); iss != c.cfg.Endpoints.Issuer {
		return nil, fmt.Errorf("issued by %q, not %q", iss, c.cfg.Endpoints.Issuer)
	}
	exp, ok := claimTime(claims["exp"])
	if !ok {
		return nil, fmt.Errorf("no exp")
	}
	if !now.Before(exp.Add(leeway)) {
		return nil, fmt.Errorf("expired at %s", exp.UTC().Format(time.RFC3339))
	}
	if nbf, ok := claimTime(claims["nbf"]); ok && now.Add(leeway).Before(nbf) {
		return nil, fmt.Errorf("not valid before %s", nbf.UTC().Format(time.RFC3339))
	}
	return claims, nil
}

// verifySignature checks sig over signed with ESIA's key: RS256 is
// RSASSA-PKCS1-v1_5 over SHA-256 (RFC 7518, 3.3); GOST3410_2012_256 is
// GOST R 34.10-2012 over Streebog-256, the signature as GOST writes it,
// s ‖ r.
func verifySignature(key crypto.PublicKey, signed, sig []byte) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		d := sha256.Sum256(signed)
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, d[:], sig) == nil
	case *gost3410.PublicKey:
		d := streebog.Sum256(signed)
		return k.Verify(d[:], sig)
	}
	return false
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // OIDs are large integers
	return dec.Decode(v)
}

func claimString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return ""
}

func claimTime(v any) (time.Time, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, false
	}
	sec, err := n.Int64()
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(sec, 0), true
}

func audienceIs(aud any, clientID string) bool {
	switch a := aud.(type) {
	case string:
		return a == clientID
	case []any:
		// Several audiences: ours must be among them, and no other party's
		// token is ours just because it lists us too.
		return len(a) == 1 && claimString(a[0]) == clientID
	}
	return false
}
