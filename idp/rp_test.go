package idp_test

// The provider against zitadel's own relying party (pkg/client/rp) run as
// a real web application: its state and PKCE cookies, its code exchange
// and userinfo handlers, its end_session URL.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/podpis/podpis/idp"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"
)

const rpSecret = "rp-client-secret-0123456789"

// rpApp is a web application logging people in through the provider
// with zitadel's rp: /login, /login-cert (acr_values=certificate),
// /callback (writes what it learnt as JSON), /bye.
type rpApp struct {
	srv *httptest.Server
	rp  rp.RelyingParty
	h   atomic.Pointer[http.Handler]
}

// rpResult is what the application's callback shows.
type rpResult struct {
	Sub, Name, ACR, Snils, Org, IDToken, RefreshToken string
	AMR                                               []string
}

func startRPApp(t *testing.T) *rpApp {
	a := &rpApp{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*a.h.Load()).ServeHTTP(w, r) }))
	t.Cleanup(a.srv.Close)
	return a
}

// client is the application's registration at the provider.
func (a *rpApp) client(id string) idp.Client {
	return idp.Client{ID: id, Name: "Доверенность", Secret: rpSecret, RedirectURIs: []string{a.srv.URL + "/callback"},
		PostLogoutRedirectURIs: []string{a.srv.URL + "/bye"}}
}

func withClient(c idp.Client) envOption {
	return func(cfg *idp.Config) { cfg.Clients = append(cfg.Clients, c) }
}

// connect makes the relying party once the provider runs.
func (a *rpApp) connect(t *testing.T, e *env, id, secret string, opts ...rp.Option) {
	t.Helper()
	ch := httphelper.NewCookieHandler(randomBytes(32), randomBytes(32), httphelper.WithUnsecure())
	var err error
	a.rp, err = rp.NewRelyingPartyOIDC(context.Background(), e.issuer, id, secret, a.srv.URL+"/callback",
		[]string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeOfflineAccess, idp.ScopeCertificate},
		append([]rp.Option{rp.WithPKCE(ch)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	state := func() string { return oauth2Verifier() }
	mux := http.NewServeMux()
	mux.Handle("/login", rp.AuthURLHandler(state, a.rp))
	mux.Handle("/login-cert", rp.AuthURLHandler(state, a.rp, rp.WithURLParam("acr_values", idp.ACRCertificate)))
	mux.Handle("/callback", rp.CodeExchangeHandler(rp.UserinfoCallback(
		func(w http.ResponseWriter, r *http.Request, tokens *oidc.Tokens[*oidc.IDTokenClaims], _ string, _ rp.RelyingParty, info *oidc.UserInfo) {
			json.NewEncoder(w).Encode(rpResult{Sub: info.Subject, Name: info.Name, ACR: tokens.IDTokenClaims.AuthenticationContextClassReference,
				AMR: tokens.IDTokenClaims.AuthenticationMethodsReferences, Snils: str(info.Claims["snils"]), Org: str(info.Claims["organization"]),
				IDToken: tokens.IDToken, RefreshToken: tokens.RefreshToken})
		}), a.rp))
	mux.HandleFunc("/bye", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("bye " + r.FormValue("state"))) })
	var h http.Handler = mux
	a.h.Store(&h)
}

func str(v any) string { s, _ := v.(string); return s }

// login runs the application's login at path in b and returns what the
// application learnt.
func (a *rpApp) login(t *testing.T, b *browser, path string) rpResult {
	t.Helper()
	_, status, body := b.visit(a.srv.URL+path, "")
	if status != http.StatusOK {
		t.Fatalf("%s: %d %s", path, status, body)
	}
	var res rpResult
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return res
}

func newRPEnv(t *testing.T, open opener) (*env, *rpApp) {
	a := startRPApp(t)
	e := newEnv(t, open, withClient(a.client("rp")))
	a.connect(t, e, "rp", rpSecret)
	return e, a
}

func testRPCodeFlow(t *testing.T, open opener) {
	e, a := newRPEnv(t, open)
	b := newBrowser(t, "alice", idp.AMRPassword)
	res := a.login(t, b, "/login")
	if res.Sub != "alice" || res.Name != "Алиса Петрова" || res.ACR != idp.ACRBasic || !slices.Equal(res.AMR, []string{"pwd"}) || res.Snils != "" {
		t.Errorf("%+v", res)
	}
	// Refresh through rp: rotated, and the old one is refused.
	tok, err := rp.RefreshTokens[*oidc.IDTokenClaims](context.Background(), a.rp, res.RefreshToken, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || tok.RefreshToken == res.RefreshToken {
		t.Errorf("refresh token not rotated")
	}
	if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](context.Background(), a.rp, res.RefreshToken, "", ""); err == nil {
		t.Error("a used refresh token refreshed again")
	}

	// RFC 7009: the client revokes its refresh token; it stops working,
	// and so does the login's access token.
	res = a.login(t, b, "/login")
	if err := rp.RevokeToken(context.Background(), a.rp, res.RefreshToken, "refresh_token"); err != nil {
		t.Fatal(err)
	}
	if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](context.Background(), a.rp, res.RefreshToken, "", ""); err == nil {
		t.Error("a revoked refresh token refreshes")
	}
	var n int
	e.db.QueryRow(`SELECT COUNT(*) FROM idp_access_tokens WHERE revoked_at IS NULL AND grant_id IN (SELECT id FROM idp_grants WHERE revoked_at IS NOT NULL)`).Scan(&n)
	if n != 0 {
		t.Errorf("%d access tokens of a revoked login still live", n)
	}
}

// TestRPWrongState: a callback carrying another login's code and state
// (login CSRF: the attacker's code in the victim's browser) is refused
// by the client, whose state cookie does not match.
func testRPWrongState(t *testing.T, open opener) {
	_, a := newRPEnv(t, open)
	attacker := newBrowser(t, "mallory", idp.AMRPassword)
	cb, _, _ := attacker.visit(a.srv.URL+"/login", a.srv.URL+"/callback")
	victim := newBrowser(t, "alice", idp.AMRPassword)
	if to, _, _ := victim.visit(a.srv.URL+"/login", a.srv.URL+"/callback"); to == nil || to.Query().Get("state") == cb.Query().Get("state") {
		t.Fatal("the victim's login did not reach the callback with its own state")
	}
	_, status, body := victim.visit(cb.String(), "")
	if status != http.StatusUnauthorized || !strings.Contains(body, "state") {
		t.Errorf("wrong state: %d %s", status, body)
	}
	// The same callback in the browser that started it is taken.
	if _, status, body := attacker.visit(cb.String(), ""); status != http.StatusOK || !strings.Contains(body, `"Sub":"mallory"`) {
		t.Errorf("own callback: %d %s", status, body)
	}
}

// TestRPLogout: RP-initiated logout ends that login in the account
// service and its tokens at the provider; a bad post-logout URI or a
// missing id_token_hint ends nothing.
func testRPLogout(t *testing.T, open opener) {
	e, a := newRPEnv(t, open)
	b := newBrowser(t, "alice", idp.AMRPassword)
	res := a.login(t, b, "/login")
	other := a.login(t, newBrowser(t, "alice", idp.AMRPassword), "/login") // alice elsewhere
	ctx := context.Background()

	// rp calls end_session itself and hands back where it redirects.
	if to, err := rp.EndSession(ctx, a.rp, res.IDToken, "http://evil.test/bye", "st", "", nil); err == nil {
		t.Errorf("unregistered post_logout_redirect_uri: sent to %v", to)
	}
	if to, err := rp.EndSession(ctx, a.rp, "", a.srv.URL+"/bye", "st", "", nil); err == nil {
		t.Errorf("logout without id_token_hint: sent to %v", to)
	}
	if len(e.login.ended) != 0 || e.login.live("alice") != 2 {
		t.Fatalf("refused logouts ended %v", e.login.ended)
	}

	to, err := rp.EndSession(ctx, a.rp, res.IDToken, a.srv.URL+"/bye", "st", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(to.String(), a.srv.URL+"/bye") || to.Query().Get("state") != "st" {
		t.Fatalf("logout sent to %v", to)
	}
	if len(e.login.ended) != 1 || !strings.HasPrefix(e.login.ended[0], "End alice ") || e.login.live("alice") != 1 {
		t.Errorf("ended %v, alice has %d sessions", e.login.ended, e.login.live("alice"))
	}
	if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, a.rp, res.RefreshToken, "", ""); err == nil {
		t.Error("the logged-out login still refreshes")
	}
	if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, a.rp, other.RefreshToken, "", ""); err != nil {
		t.Errorf("alice's other session was logged out too: %v", err)
	}
	// The next login asks the person again.
	a.login(t, b, "/login")
	if len(b.asked) != 2 {
		t.Errorf("login pages after logout: %v", b.asked)
	}
}

// TestRPStepUp: a client asking acr_values=certificate gets a
// certificate login even from a browser with a password session; a login
// page that completes it with a password is refused.
func testRPStepUp(t *testing.T, open opener) {
	_, a := newRPEnv(t, open)
	b := newBrowser(t, "alice", idp.AMRPassword)
	if res := a.login(t, b, "/login"); res.ACR != idp.ACRBasic {
		t.Fatalf("%+v", res)
	}
	// The same password session, and a page that completes with it.
	_, status, body := b.visit(a.srv.URL+"/login-cert", "")
	if status != http.StatusForbidden || len(b.asked) != 2 || !b.asked[1].Certificate {
		t.Fatalf("a password login answered a certificate request: %d %s, asked %v", status, body, b.asked)
	}
	b.method = idp.AMRCertificate
	res := a.login(t, b, "/login-cert")
	if len(b.asked) != 3 || !b.asked[2].Certificate || b.asked[2].Client != "Доверенность" {
		t.Errorf("login pages: %+v", b.asked)
	}
	if res.ACR != idp.ACRCertificate || !slices.Equal(res.AMR, []string{idp.AMRPassword, idp.AMRCertificate}) || res.Snils != "12345678901" || res.Org != "ООО «Ромашка»" {
		t.Errorf("after step-up: %+v", res)
	}
}

// TestRPPrivateKeyJWT: a client authenticating with a signed assertion
// (private_key_jwt) logs in; one signing with a key it did not register
// does not get tokens.
func testRPPrivateKeyJWT(t *testing.T, open opener) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	a, thief := startRPApp(t), startRPApp(t)
	c := a.client("jwt")
	c.Auth, c.Secret = idp.AuthPrivateKeyJWT, ""
	c.RedirectURIs = append(c.RedirectURIs, thief.srv.URL+"/callback")
	c.Keys = []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}
	e := newEnv(t, open, withClient(c))
	a.connect(t, e, "jwt", "", rp.WithJWTProfile(rp.SignerFromKeyAndKeyID(pemKey(key), "k1")), rp.WithAuthStyle(oauth2.AuthStyleInParams))
	if res := a.login(t, newBrowser(t, "alice", idp.AMRPassword), "/login"); res.Sub != "alice" {
		t.Errorf("%+v", res)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	thief.connect(t, e, "jwt", "", rp.WithJWTProfile(rp.SignerFromKeyAndKeyID(pemKey(other), "k1")), rp.WithAuthStyle(oauth2.AuthStyleInParams))
	_, status, body := newBrowser(t, "alice", idp.AMRPassword).visit(thief.srv.URL+"/login", "")
	if status != http.StatusUnauthorized || !strings.Contains(body, "exchange") {
		t.Errorf("an assertion signed with another key: %d %s", status, body)
	}
}

func pemKey(k *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

func oauth2Verifier() string { return strings.TrimRight(jsonB64(randomBytes(24)), "=") }

func jsonB64(b []byte) string {
	s, _ := json.Marshal(b) // standard base64 in quotes
	return strings.Trim(string(s), `"`)
}
