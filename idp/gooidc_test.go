package idp_test

// The provider against github.com/coreos/go-oidc/v3 with
// golang.org/x/oauth2: a client written by others, which knows nothing of
// zitadel's op.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/podpis/podpis/idp"
	"golang.org/x/oauth2"
)

// goClient is the "web" client as go-oidc and x/oauth2 make it.
type goClient struct {
	t        testing.TB
	provider *oidc.Provider
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func newGoClient(t testing.TB, e *env, scopes ...string) *goClient {
	t.Helper()
	p, err := oidc.NewProvider(context.Background(), e.issuer)
	if err != nil {
		t.Fatal(err)
	}
	return &goClient{t: t, provider: p,
		oauth: oauth2.Config{ClientID: "web", ClientSecret: webSecret, Endpoint: p.Endpoint(), RedirectURL: webRedirect,
			Scopes: append([]string{oidc.ScopeOpenID, "profile", "email", "phone"}, scopes...)},
		verifier: p.Verifier(&oidc.Config{ClientID: "web"})}
}

// flow is one authorization request as the client made it.
type flow struct {
	state, nonce, verifier string
	url                    string
}

func (c *goClient) start(opts ...oauth2.AuthCodeOption) flow {
	f := flow{state: oauth2.GenerateVerifier(), nonce: oauth2.GenerateVerifier(), verifier: oauth2.GenerateVerifier()}
	f.url = c.oauth.AuthCodeURL(f.state, append(opts, oidc.Nonce(f.nonce), oauth2.S256ChallengeOption(f.verifier))...)
	return f
}

// loggedIn is what the client holds after a login.
type loggedIn struct {
	token   *oauth2.Token
	raw     string
	idToken *oidc.IDToken
	claims  map[string]any
}

// login runs a flow through b and exchanges the code as the client does.
func (c *goClient) login(b *browser, opts ...oauth2.AuthCodeOption) loggedIn {
	c.t.Helper()
	f := c.start(opts...)
	q := b.authorize(f.url, webRedirect)
	if q.Get("state") != f.state || q.Get("code") == "" {
		c.t.Fatalf("answer %v for state %s", q, f.state)
	}
	tok, err := c.oauth.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		c.t.Fatal(err)
	}
	return c.check(tok, f.nonce)
}

func (c *goClient) check(tok *oauth2.Token, nonce string) loggedIn {
	c.t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	idt, err := c.verifier.Verify(context.Background(), raw)
	if err != nil {
		c.t.Fatal(err)
	}
	if nonce != "" && idt.Nonce != nonce {
		c.t.Fatalf("nonce %q, want %q", idt.Nonce, nonce)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		c.t.Fatal(err)
	}
	var claims map[string]any
	idt.Claims(&claims)
	return loggedIn{token: tok, raw: raw, idToken: idt, claims: claims}
}

// oauthError is the error code of a token endpoint refusal.
func oauthError(t *testing.T, err error) string {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("want a token endpoint error, got %v", err)
	}
	return re.ErrorCode
}

func testGoOIDCDiscovery(t *testing.T, open opener) {
	e := newEnv(t, open)
	c := newGoClient(t, e)
	var d struct {
		Issuer       string   `json:"issuer"`
		JWKS         string   `json:"jwks_uri"`
		EndSession   string   `json:"end_session_endpoint"`
		PKCE         []string `json:"code_challenge_methods_supported"`
		ACR          []string `json:"acr_values_supported"`
		Algs         []string `json:"id_token_signing_alg_values_supported"`
		Claims       []string `json:"claims_supported"`
		ResponseType []string `json:"response_types_supported"`
	}
	if err := c.provider.Claims(&d); err != nil {
		t.Fatal(err)
	}
	if d.Issuer != e.issuer || !strings.HasPrefix(d.JWKS, e.issuer+"/") || !strings.HasPrefix(d.EndSession, e.issuer+"/") {
		t.Errorf("discovery: %+v", d)
	}
	if !slices.Equal(d.PKCE, []string{"S256"}) {
		t.Errorf("code_challenge_methods_supported %v, want only S256", d.PKCE)
	}
	if !slices.Contains(d.ACR, idp.ACRCertificate) || !slices.Contains(d.Algs, "RS256") || !slices.Contains(d.Claims, "snils") {
		t.Errorf("discovery: %+v", d)
	}
}

func testGoOIDCCodeFlow(t *testing.T, open opener) {
	e := newEnv(t, open)
	c := newGoClient(t, e)
	b := newBrowser(t, "alice", idp.AMRPassword)
	li := c.login(b)
	if li.idToken.Subject != "alice" || li.claims["name"] != "Алиса Петрова" || li.claims["email"] != "alice@example.ru" ||
		li.claims["phone_number"] != "+79001234567" || li.claims["acr"] != idp.ACRBasic || li.claims["sid"] == "" {
		t.Errorf("claims %v", li.claims)
	}
	if amr, _ := li.claims["amr"].([]any); len(amr) != 1 || amr[0] != "pwd" {
		t.Errorf("amr %v", li.claims["amr"])
	}
	if _, ok := li.claims["snils"]; ok {
		t.Errorf("certificate claims after a password login: %v", li.claims)
	}
	ui, err := c.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(li.token))
	if err != nil {
		t.Fatal(err)
	}
	if ui.Subject != "alice" || ui.Email != "alice@example.ru" {
		t.Errorf("userinfo %+v", ui)
	}
	// Single sign-on: a second login of the same browser asks nothing.
	c.login(b)
	if len(b.asked) != 1 {
		t.Errorf("login pages asked: %v, want the first login only", b.asked)
	}

	// RFC 7009: the client revokes the access token; userinfo refuses it.
	var ep struct {
		Revocation string `json:"revocation_endpoint"`
	}
	c.provider.Claims(&ep)
	req, _ := http.NewRequest(http.MethodPost, ep.Revocation, strings.NewReader(url.Values{"token": {li.token.AccessToken}, "token_type_hint": {"access_token"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("web", webSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revocation: %d", resp.StatusCode)
	}
	if _, err := c.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(li.token)); err == nil {
		t.Error("a revoked access token gives userinfo")
	}
}

// TestPKCE: the code is worth nothing without its verifier.
func testPKCE(t *testing.T, open opener) {
	e := newEnv(t, open)
	c := newGoClient(t, e)
	b := newBrowser(t, "alice", idp.AMRPassword)
	for _, tc := range []struct {
		name string
		opts []oauth2.AuthCodeOption
	}{
		{"wrong verifier", []oauth2.AuthCodeOption{oauth2.VerifierOption(oauth2.GenerateVerifier())}},
		{"no verifier", nil},
		{"the challenge as verifier", nil}, // filled below
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := c.start()
			q := b.authorize(f.url, webRedirect)
			opts := tc.opts
			if tc.name == "the challenge as verifier" {
				u, _ := url.Parse(f.url)
				opts = []oauth2.AuthCodeOption{oauth2.VerifierOption(u.Query().Get("code_challenge"))}
			}
			_, err := c.oauth.Exchange(context.Background(), q.Get("code"), opts...)
			if code := oauthError(t, err); code != "invalid_grant" && code != "invalid_request" {
				t.Errorf("error %q", code)
			}
			// The right verifier still works: the attempt did not spend it.
			if _, err := c.oauth.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(f.verifier)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestPublicClientNeedsS256: a public client has no secret, so PKCE with
// S256 is all that binds its code to it.
func testPublicClientNeedsS256(t *testing.T, open opener) {
	e := newEnv(t, open)
	c := newGoClient(t, e)
	spa := oauth2.Config{ClientID: "spa", Endpoint: c.provider.Endpoint(), RedirectURL: publicRedirect, Scopes: []string{"openid"}}
	b := newBrowser(t, "alice", idp.AMRPassword)
	v := oauth2.GenerateVerifier()
	for _, tc := range []struct {
		name string
		opts []oauth2.AuthCodeOption
	}{
		{"without PKCE", nil},
		{"plain", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("code_challenge", v), oauth2.SetAuthURLParam("code_challenge_method", "plain")}},
		{"no method (plain)", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("code_challenge", v)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := b.authorize(spa.AuthCodeURL("st", tc.opts...), publicRedirect)
			if q.Get("error") != "invalid_request" || q.Get("code") != "" || q.Get("state") != "st" {
				t.Errorf("answer %v, want invalid_request", q)
			}
		})
	}
	q := b.authorize(spa.AuthCodeURL("st", oauth2.S256ChallengeOption(v)), publicRedirect)
	tok, err := spa.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.provider.Verifier(&oidc.Config{ClientID: "spa"}).Verify(context.Background(), tok.Extra("id_token").(string)); err != nil {
		t.Fatal(err)
	}
}

// TestReplayedCode: a code is exchanged once; a second exchange is
// refused and revokes what the first one gave (RFC 6749 §4.1.2).
func testReplayedCode(t *testing.T, open opener) {
	e := newEnv(t, open)
	c := newGoClient(t, e, oidc.ScopeOfflineAccess)
	b := newBrowser(t, "alice", idp.AMRPassword)
	f := c.start()
	q := b.authorize(f.url, webRedirect)
	tok, err := c.oauth.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token with offline_access")
	}
	_, err = c.oauth.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(f.verifier))
	if code := oauthError(t, err); code != "invalid_grant" {
		t.Errorf("replay: %q", code)
	}
	if _, err := c.oauth.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Error("the refresh token of a replayed code still refreshes")
	}
	if _, err := c.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("the access token of a replayed code still gives userinfo")
	}
}

// TestRedirectURI: redirect URIs match exactly, at the authorization
// endpoint (no redirect to an unregistered one) and at the token endpoint.
func testRedirectURI(t *testing.T, open opener) {
	e := newEnv(t, open)
	c := newGoClient(t, e)
	b := newBrowser(t, "alice", idp.AMRPassword)
	for _, bad := range []string{"http://evil.test/cb", webRedirect + "/x", webRedirect + "?x=1", "http://client.test/CB", "https://client.test/cb"} {
		t.Run(bad, func(t *testing.T) {
			o := c.oauth
			o.RedirectURL = bad
			to, status, body := b.visit(o.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "http")
			if to != nil {
				t.Fatalf("sent to %s", to)
			}
			if status != http.StatusBadRequest || !strings.Contains(body, "redirect_uri") {
				t.Errorf("%d %s", status, body)
			}
		})
	}
	f := c.start()
	q := b.authorize(f.url, webRedirect)
	o := c.oauth
	o.RedirectURL = "http://evil.test/cb"
	_, err := o.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(f.verifier))
	if code := oauthError(t, err); code != "invalid_grant" {
		t.Errorf("token endpoint with another redirect_uri: %q", code)
	}
}

// TestRefreshRotation: every refresh gives a new refresh token; an old
// one presented again revokes the whole login.
func testRefreshRotation(t *testing.T, open opener) {
	e := newEnv(t, open)
	c := newGoClient(t, e, oidc.ScopeOfflineAccess)
	li := c.login(newBrowser(t, "alice", idp.AMRPassword))
	refresh := func(rt string) (*oauth2.Token, error) {
		return c.oauth.TokenSource(context.Background(), &oauth2.Token{RefreshToken: rt}).Token()
	}
	t2, err := refresh(li.token.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if t2.RefreshToken == "" || t2.RefreshToken == li.token.RefreshToken {
		t.Fatalf("not rotated: %q", t2.RefreshToken)
	}
	l2 := c.check(t2, "")
	if l2.idToken.Subject != "alice" || l2.claims["sid"] != li.claims["sid"] || l2.claims["acr"] != idp.ACRBasic {
		t.Errorf("refreshed claims %v", l2.claims)
	}
	// The thief (or the client) comes back with the first token.
	_, err = refresh(li.token.RefreshToken)
	if code := oauthError(t, err); code != "invalid_grant" {
		t.Errorf("reuse: %q", code)
	}
	if _, err := refresh(t2.RefreshToken); err == nil {
		t.Error("after a reuse the newest refresh token still refreshes")
	}
	if _, err := c.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(t2)); err == nil {
		t.Error("after a reuse the newest access token still gives userinfo")
	}
}

// TestEndEverywhere: «выйти везде» ends the account's sessions and every
// client's tokens together.
func testEndEverywhere(t *testing.T, open opener) {
	e := newEnv(t, open)
	c := newGoClient(t, e, oidc.ScopeOfflineAccess)
	a1 := c.login(newBrowser(t, "alice", idp.AMRPassword))
	a2 := c.login(newBrowser(t, "alice", idp.AMRPassword))
	bob := c.login(newBrowser(t, "bob", idp.AMRPassword))
	if e.login.live("alice") != 2 {
		t.Fatalf("alice has %d sessions", e.login.live("alice"))
	}
	if err := e.p.EndEverywhere(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	if e.login.live("alice") != 0 || e.login.live("bob") != 1 {
		t.Errorf("sessions alice %d, bob %d", e.login.live("alice"), e.login.live("bob"))
	}
	for _, li := range []loggedIn{a1, a2} {
		if _, err := c.oauth.TokenSource(context.Background(), &oauth2.Token{RefreshToken: li.token.RefreshToken}).Token(); err == nil {
			t.Error("alice's refresh token still refreshes")
		}
		if _, err := c.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(li.token)); err == nil {
			t.Error("alice's access token still gives userinfo")
		}
	}
	if _, err := c.oauth.TokenSource(context.Background(), &oauth2.Token{RefreshToken: bob.token.RefreshToken}).Token(); err != nil {
		t.Errorf("bob's login ended with alice's: %v", err)
	}
}

// TestKeyRotation: after a rotation tokens signed by the old key still
// verify until they have expired; then the old key leaves JWKS.
func testKeyRotation(t *testing.T, open opener) {
	e := newEnv(t, open)
	c := newGoClient(t, e)
	b := newBrowser(t, "alice", idp.AMRPassword)
	old := c.login(b)
	if err := e.p.RotateKey(context.Background()); err != nil {
		t.Fatal(err)
	}
	c2 := newGoClient(t, e) // a client that has not seen the old key
	cur := c2.login(b)
	if kid(t, old.raw) == kid(t, cur.raw) {
		t.Fatal("the same key signed before and after the rotation")
	}
	if _, err := c2.verifier.Verify(context.Background(), old.raw); err != nil {
		t.Errorf("a token of the old key no longer verifies: %v", err)
	}
	if got := jwksKids(t, e); !slices.Contains(got, kid(t, old.raw)) {
		t.Errorf("JWKS %v lost the old key", got)
	}
	// The old key's last ID token has expired: it is no longer published.
	e.advance(11*time.Minute + time.Second)
	if got := jwksKids(t, e); slices.Contains(got, kid(t, old.raw)) || !slices.Contains(got, kid(t, cur.raw)) {
		t.Errorf("JWKS %v after the old key's tokens expired", got)
	}
	c3 := newGoClient(t, e)
	if _, err := c3.verifier.Verify(context.Background(), old.raw); err == nil {
		t.Error("a token of a retired key verifies")
	}
	if _, err := c3.verifier.Verify(context.Background(), cur.raw); err != nil {
		t.Error(err)
	}
}

func kid(t testing.TB, raw string) string {
	t.Helper()
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(segment(t, raw, 0), &h); err != nil || h.Kid == "" {
		t.Fatalf("header: %v", err)
	}
	return h.Kid
}

func jwksKids(t *testing.T, e *env) []string {
	t.Helper()
	resp, err := http.Get(e.issuer + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}
