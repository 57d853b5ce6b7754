package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/idp"
	"github.com/podpis/podpis/login"
	"github.com/podpis/podpis/verify"
	"golang.org/x/oauth2"
)

const demoClientRedirect = "http://dover.test/cb"

// oidcSite is the demo as podpis-demo init and serve make it, with the
// provider on and one client registered by a clients file.
func oidcSite(t *testing.T, accountPassword string) (*httptest.Server, *demo, string) {
	t.Helper()
	dir := t.TempDir()
	if err := runInit([]string{"--dir", dir}); err != nil {
		t.Fatal(err)
	}
	roots, err := readCertificates(filepath.Join(dir, "roots.pem"))
	if err != nil {
		t.Fatal(err)
	}
	inters, _ := readCertificates(filepath.Join(dir, "intermediates.pem"))
	clients, _ := json.Marshal([]idp.Client{{ID: "dover", Name: "Доверенность", Secret: "dover-secret-0123456789",
		RedirectURIs: []string{demoClientRedirect}, PostLogoutRedirectURIs: []string{"http://dover.test/"}}})
	clientsFile := filepath.Join(dir, "clients.json")
	os.WriteFile(clientsFile, clients, 0o600)

	d := &demo{install: &installer{}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	d.origin = srv.URL
	if d.v, err = verify.New(verify.Config{Origins: []string{srv.URL}, Roots: roots, Intermediates: inters}); err != nil {
		t.Fatal(err)
	}
	// The demo account of init (both soft-token certificates linked);
	// accountPassword "" keeps init's password.
	f := accountFlags{seed: true, seedPassword: accountPassword, outbox: true}
	var closeDB func() error
	if d.account, closeDB, err = f.open(context.Background(), dir, srv.URL, d.v, nil, d.log, d.sessionsEnded); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeDB() })
	if err := d.startOIDC(context.Background(), dir, clientsFile); err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = d.routes()
	return srv, d, dir
}

// certificateLogin is what the account screens do with the agent: a
// login challenge signed by who's soft-token key, posted to the account
// service (stepUp: inside the current session). It returns the status.
func certificateLogin(t *testing.T, c *http.Client, site, dir, who string, stepUp bool) int {
	t.Helper()
	keyDER, err := readPEM(filepath.Join(dir, "softtoken", who+".key"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := gostx509.ParsePKCS8PrivateKey(keyDER)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := readCertificates(filepath.Join(dir, "softtoken", who+".pem"))
	if err != nil {
		t.Fatal(err)
	}
	csrf := accountCSRF(t, c, site)
	post := func(path string, body any) *http.Response {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, site+path, strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := post("/api/account/login/certificate/challenge", map[string]string{})
	var ch struct{ Challenge string }
	json.NewDecoder(resp.Body).Decode(&ch)
	resp.Body.Close()
	der, err := cms.Sign(login.NewDocument(site, ch.Challenge, time.Now()).Marshal(), certs[0], key, &cms.SignOptions{ContentType: login.OID})
	if err != nil {
		t.Fatal(err)
	}
	resp = post("/api/account/login/certificate", map[string]any{"cms": base64.StdEncoding.EncodeToString(der), "step_up": stepUp})
	resp.Body.Close()
	return resp.StatusCode
}

// accountCSRF is the CSRF token of c's cookies, as the account screens
// get it.
func accountCSRF(t *testing.T, c *http.Client, site string) string {
	t.Helper()
	resp, err := c.Get(site + "/api/account/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct{ CSRF string }
	json.NewDecoder(resp.Body).Decode(&st)
	return st.CSRF
}

// follow goes from u through redirects until one leaves for stop.
func follow(t *testing.T, c *http.Client, u, stop string) *url.URL {
	t.Helper()
	for range 10 {
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			t.Fatalf("%s: %d, no redirect", u, resp.StatusCode)
		}
		if strings.HasPrefix(loc.String(), stop) {
			return loc
		}
		u = loc.String()
	}
	t.Fatal("too many redirects")
	return nil
}

// TestDemoOIDC: a service logs a person in through the demo's provider:
// sent to the demo's page, the person logs in by certificate and comes
// back; the service gets the certificate's claims with acr certificate;
// its logout ends the demo session.
func TestDemoOIDC(t *testing.T) {
	srv, _, dir := oidcSite(t, "")
	ctx := context.Background()
	p, err := oidc.NewProvider(ctx, srv.URL+"/oidc")
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: "dover", ClientSecret: "dover-secret-0123456789", Endpoint: p.Endpoint(),
		RedirectURL: demoClientRedirect, Scopes: []string{oidc.ScopeOpenID, "profile", idp.ScopeCertificate}}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	verifier := oauth2.GenerateVerifier()
	start := conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("acr_values", idp.ACRCertificate))

	// No demo session: the demo's page, with the request to come back to.
	page := follow(t, browser, start, srv.URL+"/?oidc=")
	if code := certificateLogin(t, browser, srv.URL, dir, "petrova", false); code != http.StatusOK {
		t.Fatalf("certificate login: %d", code)
	}
	// What app.js does after the login.
	back := follow(t, browser, srv.URL+"/oidc-login?request="+url.QueryEscape(page.Query().Get("oidc")), demoClientRedirect)
	if back.Query().Get("state") != "st" {
		t.Fatalf("back with %v", back.Query())
	}
	tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: "dover"}).Verify(ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Name  string   `json:"name"`
		ACR   string   `json:"acr"`
		AMR   []string `json:"amr"`
		SNILS string   `json:"snils"`
		INNLE string   `json:"inn_le"`
		Org   string   `json:"organization"`
		Title string   `json:"title"`
	}
	idt.Claims(&claims)
	if claims.Name != "Петрова Мария Сергеевна" || claims.ACR != idp.ACRCertificate || claims.SNILS != "98765432082" ||
		claims.INNLE != "7712345671" || claims.Org != "ООО «Ромашка»" || claims.Title != "Генеральный директор" {
		t.Errorf("claims %+v", claims)
	}

	// Single sign-on: the next request is answered without the page.
	follow(t, browser, conf.AuthCodeURL("st2", oauth2.S256ChallengeOption(verifier)), demoClientRedirect)

	// The service's logout ends the account session.
	var ep struct {
		EndSession string `json:"end_session_endpoint"`
	}
	p.Claims(&ep)
	out := follow(t, browser, ep.EndSession+"?"+url.Values{"id_token_hint": {tok.Extra("id_token").(string)},
		"post_logout_redirect_uri": {"http://dover.test/"}}.Encode(), "http://dover.test/")
	if out == nil {
		t.Error("no way back after logout")
	}
	if resp, _ := browser.Get(srv.URL + "/api/account/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/api/account/me after logout: %d", resp.StatusCode)
	}
}

// accountPost is a POST to the account service's JSON API with its CSRF
// token, as its pages make them.
func accountPost(t *testing.T, c *http.Client, site, path string, body any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, site+path, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", accountCSRF(t, c, site))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestDemoOIDCAccount: with the account service, a service logs the
// account in by its password session (sub is the account, amr pwd); a
// request for a certificate steps up inside that session with a
// certificate linked to the account; «выйти везде» in the account ends
// the service's tokens too.
func TestDemoOIDCAccount(t *testing.T) {
	const password = "демо-пароль-42"
	srv, _, dir := oidcSite(t, password)
	ctx := context.Background()
	p, err := oidc.NewProvider(ctx, srv.URL+"/oidc")
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: "dover", ClientSecret: "dover-secret-0123456789", Endpoint: p.Endpoint(),
		RedirectURL: demoClientRedirect, Scopes: []string{oidc.ScopeOpenID, "profile", "phone", "offline_access", idp.ScopeCertificate}}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if code := accountPost(t, browser, srv.URL, "/api/account/login", map[string]string{"phone": demoPhone, "password": password}); code != http.StatusOK {
		t.Fatalf("password login: %d", code)
	}
	type claims struct {
		Sub   string   `json:"sub"`
		ACR   string   `json:"acr"`
		AMR   []string `json:"amr"`
		Phone string   `json:"phone_number"`
		Name  string   `json:"name"`
		SNILS string   `json:"snils"`
	}
	login := func(back *url.URL, verifier string) (claims, *oauth2.Token) {
		t.Helper()
		tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		idt, err := p.Verifier(&oidc.Config{ClientID: "dover"}).Verify(ctx, tok.Extra("id_token").(string))
		if err != nil {
			t.Fatal(err)
		}
		var c claims
		idt.Claims(&c)
		return c, tok
	}
	v := oauth2.GenerateVerifier()
	pwd, pwdTok := login(follow(t, browser, conf.AuthCodeURL("a", oauth2.S256ChallengeOption(v)), demoClientRedirect), v)
	if pwd.Sub == "" || pwd.ACR != idp.ACRBasic || len(pwd.AMR) != 1 || pwd.AMR[0] != "pwd" || pwd.Phone != "+79000000001" || pwd.SNILS != "" {
		t.Errorf("password session: %+v", pwd)
	}

	// The service needs a certificate: the page asks for it, Иванов
	// (linked to the account) logs in, and it is the same account.
	v = oauth2.GenerateVerifier()
	page := follow(t, browser, conf.AuthCodeURL("b", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("acr_values", idp.ACRCertificate)), srv.URL+"/?oidc=")
	if code := certificateLogin(t, browser, srv.URL, dir, "ivanov", true); code != http.StatusOK {
		t.Fatalf("step-up: %d", code)
	}
	cert, _ := login(follow(t, browser, srv.URL+"/oidc-login?request="+url.QueryEscape(page.Query().Get("oidc")), demoClientRedirect), v)
	if cert.Sub != pwd.Sub || cert.ACR != idp.ACRCertificate || cert.SNILS != "12345678901" || cert.Name != "Иванов Иван Иванович" {
		t.Errorf("after the step-up: %+v (password login was %s)", cert, pwd.Sub)
	}

	// «Выйти везде» in the account: the service's refresh token dies too.
	if code := accountPost(t, browser, srv.URL, "/api/account/sessions/logout-all", map[string]string{}); code != http.StatusOK {
		t.Fatalf("logout-all: %d", code)
	}
	if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: pwdTok.RefreshToken}).Token(); err == nil {
		t.Error("the service's refresh token outlived «выйти везде»")
	}
}

// TestDemoLogoutAll: a service's «Выйти на всех устройствах» at
// /oidc-logout-all ends the account's sessions and every client's tokens
// — only with an ID token this provider signed as hint, and only back to
// a post-logout URI registered for the token's client: a link on another
// site logs nobody out, and is no open redirect.
func TestDemoLogoutAll(t *testing.T) {
	const password = "демо-пароль-42"
	srv, _, _ := oidcSite(t, password)
	ctx := context.Background()
	p, err := oidc.NewProvider(ctx, srv.URL+"/oidc")
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: "dover", ClientSecret: "dover-secret-0123456789", Endpoint: p.Endpoint(),
		RedirectURL: demoClientRedirect, Scopes: []string{oidc.ScopeOpenID, "offline_access"}}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if code := accountPost(t, browser, srv.URL, "/api/account/login", map[string]string{"phone": demoPhone, "password": password}); code != http.StatusOK {
		t.Fatalf("password login: %d", code)
	}
	v := oauth2.GenerateVerifier()
	back := follow(t, browser, conf.AuthCodeURL("a", oauth2.S256ChallengeOption(v)), demoClientRedirect)
	tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	hint := tok.Extra("id_token").(string)
	loggedIn := func() bool {
		resp, err := browser.Get(srv.URL + "/api/account/me")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	logoutAll := func(q url.Values) (int, string) {
		resp, err := browser.Get(srv.URL + "/oidc-logout-all?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	// A forged hint: the payload of the real one under a signature made
	// up; and a hint-less request.
	parts := strings.Split(hint, ".")
	forged := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString([]byte("not the provider's signature"))
	for name, q := range map[string]url.Values{
		"forged hint":       {"id_token_hint": {forged}, "post_logout_redirect_uri": {"http://dover.test/"}},
		"no hint":           {"post_logout_redirect_uri": {"http://dover.test/"}},
		"unregistered back": {"id_token_hint": {hint}, "post_logout_redirect_uri": {"http://evil.test/"}},
	} {
		if code, loc := logoutAll(q); code != http.StatusBadRequest || loc != "" {
			t.Errorf("%s: %d → %q", name, code, loc)
		}
		if !loggedIn() {
			t.Fatalf("%s ended the account session", name)
		}
	}
	code, loc := logoutAll(url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"http://dover.test/"}, "state": {"all"}})
	if code != http.StatusSeeOther || loc != "http://dover.test/?state=all" {
		t.Fatalf("logout-all: %d → %q", code, loc)
	}
	if loggedIn() {
		t.Error("the account session outlived «выйти на всех устройствах»")
	}
	if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Error("the service's refresh token outlived «выйти на всех устройствах»")
	}
}
