// Package esiastand is a local stand-in for ESIA (Госуслуги) that follows
// the methodological recommendations as sso/esia reads them: an
// authorization endpoint (which logs the configured person in, at once or
// after they press «Войти» on its page), a token endpoint, the REST API's
// person resource and the logout endpoint. Tests run it through
// sso/esia/esiatest; a demo serves it to run Госуслуги login offline.
//
// It checks client_secret with OpenSSL's GOST engine (openssl cms -verify
// over scope + timestamp + client_id + state, the registered certificate
// as the only trust anchor), not with podpis's CMS code: the client's
// signatures are judged by an implementation we did not write. Its own
// tokens are signed with podpis's GOST R 34.10-2012 (or RSA, for RS256).
package esiastand

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/streebog"
	"github.com/podpis/podpis/sso/esia"
)

// Config describes the one system registered at the stand-in and the
// person who logs in.
type Config struct {
	ClientID    string
	RedirectURI string
	// ClientCertificate is the organisation's certificate registered with
	// the system: client_secret must be signed with its key.
	ClientCertificate *x509.Certificate
	// OID and Person are who logs in; empty means a made-up person.
	OID    string
	Person esia.Person
	// RS256 signs tokens with RSA instead of GOST3410_2012_256.
	RS256 bool
	// TimestampSkew is how far the request's timestamp may be from the
	// stand-in's clock; zero means 5 minutes.
	TimestampSkew time.Duration
	// EditIDToken and EditAccessToken, when set, change a token's claims
	// before it is signed: a test's way to make ESIA issue a token that is
	// expired, for another client, and so on.
	EditIDToken     func(claims map[string]any)
	EditAccessToken func(claims map[string]any)
	// Decline makes the person refuse the login at ESIA.
	Decline bool
	// Interactive shows a login page where the person presses «Войти» or
	// «Отказаться», instead of logging them in at once.
	Interactive bool
}

// Stand is the stand-in, an http.Handler to serve at the base URL given
// to New.
type Stand struct {
	cfg     Config
	url     string
	dir     string
	gost    *gost3410.PrivateKey
	rsa     *rsa.PrivateKey
	mux     *http.ServeMux
	mu      sync.Mutex
	codes   map[string]grant
	pending map[string]pending   // interactive logins awaiting the person
	tokens  map[string]time.Time // access tokens issued, until
}

type grant struct {
	scope   string
	expires time.Time
}

type pending struct {
	state, scope string
	expires      time.Time
}

// codeLife is how long an authorization code may wait for its exchange;
// pageLife how long the interactive page may wait for the person.
const (
	codeLife = time.Minute
	pageLife = 10 * time.Minute
)

// Available reports whether OpenSSL and its GOST engine, which the stand
// checks client_secret with, can be run.
func Available() error {
	out, err := openssl("engine", "gost", "-c")
	if err != nil || !bytes.Contains(out, []byte("gost2012_256")) {
		return fmt.Errorf("esiastand: OpenSSL's GOST engine is not usable (Debian libengine-gost-openssl): %v", err)
	}
	return nil
}

func openssl(args ...string) ([]byte, error) {
	cmd := exec.Command("openssl", args...)
	// The engine is named on the command line; a system openssl.cnf must
	// not load anything else.
	cmd.Env = append(os.Environ(), "OPENSSL_CONF=/dev/null")
	return cmd.CombinedOutput()
}

// New makes the stand for the system cfg registers, to be served at
// baseURL (its issuer and endpoints are there). Close removes its files.
func New(cfg Config, baseURL string) (*Stand, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if cfg.ClientID == "" || cfg.RedirectURI == "" || cfg.ClientCertificate == nil {
		return nil, errors.New("esiastand: ClientID, RedirectURI and ClientCertificate are required")
	}
	if cfg.OID == "" {
		cfg.OID = "1000299654"
	}
	if cfg.Person == (esia.Person{}) {
		cfg.Person = esia.Person{FirstName: "Иван", LastName: "Петров", MiddleName: "Сергеевич", BirthDate: "01.02.1985", SNILS: "112-233-445 95", Trusted: true}
	}
	if cfg.TimestampSkew == 0 {
		cfg.TimestampSkew = 5 * time.Minute
	}
	dir, err := os.MkdirTemp("", "esiastand")
	if err != nil {
		return nil, err
	}
	s := &Stand{cfg: cfg, url: strings.TrimSuffix(baseURL, "/"), dir: dir,
		codes: map[string]grant{}, pending: map[string]pending{}, tokens: map[string]time.Time{}}
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cfg.ClientCertificate.Raw})
	if err := os.WriteFile(filepath.Join(dir, "registered.pem"), pemCert, 0o600); err != nil {
		s.Close()
		return nil, err
	}
	if cfg.RS256 {
		s.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		s.gost, err = gost3410.GenerateKey(gost3410.CurveCryptoProA, rand.Reader)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /aas/oauth2/ac", s.authorize)
	s.mux.HandleFunc("POST /aas/oauth2/ac/confirm", s.confirm)
	s.mux.HandleFunc("POST /aas/oauth2/te", s.token)
	s.mux.HandleFunc("GET /rs/prns/{oid}", s.person)
	s.mux.HandleFunc("GET /idp/ext/Logout", s.logout)
	return s, nil
}

// ServeHTTP serves ESIA's endpoints.
func (s *Stand) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close removes the stand's files.
func (s *Stand) Close() error { return os.RemoveAll(s.dir) }

// Endpoints are the stand-in's, for esia.Config.
func (s *Stand) Endpoints() esia.Endpoints {
	return esia.Endpoints{
		Authorize: s.url + "/aas/oauth2/ac",
		Token:     s.url + "/aas/oauth2/te",
		API:       s.url + "/rs",
		Logout:    s.url + "/idp/ext/Logout",
		Issuer:    s.url + "/",
	}
}

// PublicKey is the key the stand-in signs tokens with, as ESIA publishes
// its own.
func (s *Stand) PublicKey() crypto.PublicKey {
	if s.rsa != nil {
		return &s.rsa.PublicKey
	}
	return s.gost.PublicKey()
}

// checkClient authenticates a request the way ESIA does: the registered
// client, a fresh timestamp, and client_secret verified by OpenSSL over
// scope + timestamp + client_id + state. It returns why it refuses.
func (s *Stand) checkClient(q url.Values) string {
	if q.Get("client_id") != s.cfg.ClientID {
		return "unknown client_id"
	}
	if q.Get("redirect_uri") != s.cfg.RedirectURI {
		return "redirect_uri is not the registered one"
	}
	state := q.Get("state")
	if len(state) != 36 || strings.Count(state, "-") != 4 {
		return "state is not a UUID"
	}
	ts, err := time.Parse(esia.TimestampLayout, q.Get("timestamp"))
	if err != nil {
		return "timestamp is not yyyy.MM.dd HH:mm:ss Z"
	}
	if d := time.Since(ts); d > s.cfg.TimestampSkew || d < -s.cfg.TimestampSkew {
		return "timestamp is too far from ESIA's clock"
	}
	// base64url, with or without padding.
	sig, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(q.Get("client_secret"), "="))
	if err != nil {
		return "client_secret is not base64url"
	}
	// The message as the stand-in builds it, not as the client's package
	// does: the four parameters as they arrived, concatenated.
	msg := q.Get("scope") + q.Get("timestamp") + q.Get("client_id") + state
	dir, err := os.MkdirTemp(s.dir, "secret")
	if err != nil {
		return err.Error()
	}
	defer os.RemoveAll(dir)
	sigPath, msgPath := filepath.Join(dir, "sig.der"), filepath.Join(dir, "msg")
	os.WriteFile(sigPath, sig, 0o600)
	os.WriteFile(msgPath, []byte(msg), 0o600)
	out, err := openssl("cms", "-verify", "-engine", "gost", "-inform", "DER", "-binary",
		"-in", sigPath, "-content", msgPath, "-CAfile", filepath.Join(s.dir, "registered.pem"), "-partial_chain",
		"-purpose", "any", "-out", os.DevNull)
	if err != nil {
		return "client_secret does not verify (openssl cms -verify: " + lastLine(out) + ")"
	}
	return ""
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// authorize is the authorization endpoint: a client that does not
// authenticate gets an error page (no redirect: its redirect_uri is not to
// be trusted); otherwise the person logs in and the browser goes back with
// a code and the state.
func (s *Stand) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if why := s.checkClient(q); why != "" {
		errorPage(w, "invalid_client", "Система "+q.Get("client_id")+" не прошла проверку: её запрос на вход не подписан её зарегистрированным сертификатом.", why)
		return
	}
	if q.Get("response_type") != "code" {
		http.Error(w, "ESIA: unsupported_response_type", http.StatusBadRequest)
		return
	}
	if !strings.Contains(" "+q.Get("scope")+" ", " openid ") {
		http.Error(w, "ESIA: invalid_scope: openid is required", http.StatusBadRequest)
		return
	}
	if s.cfg.Interactive {
		id := randomToken()
		s.mu.Lock()
		s.pending[id] = pending{state: q.Get("state"), scope: q.Get("scope"), expires: time.Now().Add(pageLife)}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// form-action covers the redirect that answers the form too
		// (Chromium blocks it otherwise): the system's redirect URI.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' "+originOf(s.cfg.RedirectURI))
		loginPage.Execute(w, map[string]any{"Pending": id, "Person": s.cfg.Person, "Name": s.cfg.Person.FullName(),
			"Scope": scopeNames(q.Get("scope")), "Client": s.cfg.ClientID})
		return
	}
	s.finishLogin(w, r, q.Get("state"), q.Get("scope"), s.cfg.Decline)
}

// confirm is the interactive page's answer: «Войти» or «Отказаться».
func (s *Stand) confirm(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue("pending")
	s.mu.Lock()
	p, ok := s.pending[id]
	delete(s.pending, id)
	s.mu.Unlock()
	if !ok || time.Now().After(p.expires) {
		http.Error(w, "ESIA: the login page has expired; start again", http.StatusBadRequest)
		return
	}
	s.finishLogin(w, r, p.state, p.scope, s.cfg.Decline || r.PostFormValue("action") != "allow")
}

// finishLogin sends the browser back to the system with a code, or with
// the refusal.
func (s *Stand) finishLogin(w http.ResponseWriter, r *http.Request, state, scope string, decline bool) {
	back := url.Values{"state": {state}}
	if decline {
		back.Set("error", "access_denied")
		back.Set("error_description", "ESIA-007004: the person refused to grant access")
	} else {
		code := randomToken()
		s.mu.Lock()
		s.codes[code] = grant{scope: scope, expires: time.Now().Add(codeLife)}
		s.mu.Unlock()
		back.Set("code", code)
	}
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	http.Redirect(w, r, s.cfg.RedirectURI+"?"+back.Encode(), status)
}

// scopeNames names the requested scopes as ESIA's consent page does.
func scopeNames(scope string) []string {
	names := map[string]string{
		"openid": "Идентификатор учётной записи", "fullname": "Фамилия, имя и отчество", "snils": "СНИЛС",
		"inn": "ИНН", "birthdate": "Дата рождения", "gender": "Пол", "email": "Адрес электронной почты",
		"mobile": "Номер мобильного телефона",
	}
	var out []string
	for _, s := range strings.Fields(scope) {
		if n, ok := names[s]; ok {
			s = n
		}
		out = append(out, s)
	}
	return out
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Вход — Госуслуги (тестовый стенд)</title>
<style>
:root { --blue: #0d4cd3; --text: #0b1f33; --muted: #66727f; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, "Segoe UI", Roboto, sans-serif; background: #edf2fe; color: var(--text); }
header { background: #fff; padding: 16px 24px; display: flex; align-items: center; gap: 12px; box-shadow: 0 1px 0 #dde3ea; }
.brand { font-weight: 700; font-size: 20px; color: var(--blue); }
.stand { font-size: 13px; color: #fff; background: #e0712c; border-radius: 6px; padding: 2px 8px; }
main { max-width: 440px; margin: 48px auto; padding: 0 16px; }
.card { background: #fff; border-radius: 16px; padding: 32px; box-shadow: 0 4px 24px #0b1f3314; }
h1 { font-size: 22px; margin: 0 0 8px; }
p { margin: 0 0 16px; color: var(--muted); }
.person { border: 1px solid #dde3ea; border-radius: 12px; padding: 14px 16px; margin: 16px 0; }
.person b, .person span { display: block; color: var(--text); }
.person .ok { color: #2a7a3b; font-size: 14px; margin-top: 4px; }
ul { margin: 0 0 20px; padding-left: 20px; color: var(--muted); }
button { width: 100%; font: inherit; font-weight: 600; border-radius: 8px; padding: 12px 16px; cursor: pointer; margin-top: 10px; }
.allow { background: var(--blue); color: #fff; border: 1px solid var(--blue); }
.deny { background: #fff; color: var(--blue); border: 1px solid #b6c6e8; }
</style></head><body>
<header><span class="brand">госуслуги</span><span class="stand">тестовый стенд</span></header>
<main><form class="card" method="post" action="/aas/oauth2/ac/confirm">
<h1>Вход в систему {{.Client}}</h1>
<p>Система запрашивает доступ к вашим данным:</p>
<ul>{{range .Scope}}<li>{{.}}</li>{{end}}</ul>
<div class="person"><b>{{.Name}}</b>СНИЛС {{.Person.SNILS}}{{if .Person.Trusted}}<span class="ok">Подтверждённая учётная запись</span>{{end}}</div>
<input type="hidden" name="pending" value="{{.Pending}}">
<button class="allow" name="action" value="allow">Войти</button>
<button class="deny" name="action" value="deny">Отказаться</button>
</form></main></body></html>`))

// errorPage is the authorization endpoint's refusal, as ESIA shows one:
// a page for the person (no redirect back: the request is not to be
// trusted), with the OAuth error and the technical reason.
func errorPage(w http.ResponseWriter, code, text, detail string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(http.StatusBadRequest)
	errorTemplate.Execute(w, map[string]string{"Code": code, "Text": text, "Detail": detail})
}

var errorTemplate = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ошибка — Госуслуги (тестовый стенд)</title>
<style>
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, "Segoe UI", Roboto, sans-serif; background: #edf2fe; color: #0b1f33; }
header { background: #fff; padding: 16px 24px; display: flex; align-items: center; gap: 12px; box-shadow: 0 1px 0 #dde3ea; }
.brand { font-weight: 700; font-size: 20px; color: #0d4cd3; }
.stand { font-size: 13px; color: #fff; background: #e0712c; border-radius: 6px; padding: 2px 8px; }
main { max-width: 520px; margin: 48px auto; padding: 0 16px; }
.card { background: #fff; border-radius: 16px; padding: 32px; box-shadow: 0 4px 24px #0b1f3314; border-top: 4px solid #e4312a; }
h1 { font-size: 22px; margin: 0 0 8px; }
p { margin: 0 0 12px; color: #66727f; }
code { display: block; font-size: 13px; background: #f5f7fa; border-radius: 8px; padding: 10px 12px; overflow-wrap: anywhere; color: #0b1f33; }
</style></head><body>
<header><span class="brand">госуслуги</span><span class="stand">тестовый стенд</span></header>
<main><div class="card">
<h1>Вход невозможен</h1>
<p>{{.Text}}</p>
<p>Ошибка {{.Code}}:</p>
<code>{{.Detail}}</code>
</div></main></body></html>`))

func oauthError(w http.ResponseWriter, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

// token is the token endpoint: the client authenticates again, the code
// is used once, and the tokens are signed.
func (s *Stand) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, "invalid_request", err.Error())
		return
	}
	q := r.PostForm
	if why := s.checkClient(q); why != "" {
		oauthError(w, "invalid_client", why)
		return
	}
	if q.Get("grant_type") != "authorization_code" || q.Get("token_type") != "Bearer" {
		oauthError(w, "unsupported_grant_type", "grant_type authorization_code and token_type Bearer expected")
		return
	}
	s.mu.Lock()
	g, ok := s.codes[q.Get("code")]
	delete(s.codes, q.Get("code"))
	s.mu.Unlock()
	switch {
	case !ok:
		oauthError(w, "invalid_grant", "the code is unknown or was already used")
		return
	case time.Now().After(g.expires):
		oauthError(w, "invalid_grant", "the code has expired")
		return
	case q.Get("scope") != g.scope:
		oauthError(w, "invalid_scope", "the scope is not the one authorized")
		return
	}
	now := time.Now()
	idClaims := map[string]any{
		"iss": s.url + "/", "sub": json.Number(s.cfg.OID), "aud": s.cfg.ClientID,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "auth_time": now.Unix(),
		"amr": "PWD", "urn:esia:amd": "PWD", "urn:esia:sid": randomToken(),
		"urn:esia:sbj": map[string]any{"urn:esia:sbj:typ": "P", "urn:esia:sbj:is_tru": s.cfg.Person.Trusted,
			"urn:esia:sbj:oid": json.Number(s.cfg.OID), "urn:esia:sbj:nam": "OID." + s.cfg.OID},
	}
	atClaims := map[string]any{
		"iss": s.url + "/", "urn:esia:sbj_id": json.Number(s.cfg.OID), "client_id": s.cfg.ClientID,
		"scope": scopeWithOID(g.scope, s.cfg.OID), "urn:esia:sid": idClaims["urn:esia:sid"],
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	if s.cfg.EditIDToken != nil {
		s.cfg.EditIDToken(idClaims)
	}
	if s.cfg.EditAccessToken != nil {
		s.cfg.EditAccessToken(atClaims)
	}
	at := s.sign("access", atClaims)
	s.mu.Lock()
	s.tokens[at] = now.Add(time.Hour)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"access_token": at, "id_token": s.sign("id", idClaims), "refresh_token": randomToken(),
		"state": q.Get("state"), "token_type": "Bearer", "expires_in": 3600,
	})
}

// scopeWithOID writes the scope as ESIA puts it in access tokens: each
// scope but openid bound to the person, "fullname?oid=…".
func scopeWithOID(scope, oid string) string {
	var out []string
	for _, s := range strings.Fields(scope) {
		if s != "openid" {
			s += "?oid=" + oid
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

// sign makes a compact JWS of claims with the stand-in's key; sbt is the
// token's kind, as ESIA marks it.
func (s *Stand) sign(sbt string, claims map[string]any) string {
	alg := "GOST3410_2012_256"
	if s.rsa != nil {
		alg = "RS256"
	}
	h, _ := json.Marshal(map[string]any{"alg": alg, "typ": "JWT", "ver": 1, "sbt": sbt})
	c, _ := json.Marshal(claims)
	signed := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	var sig []byte
	var err error
	if s.rsa != nil {
		d := sha256.Sum256([]byte(signed))
		sig, err = rsa.SignPKCS1v15(rand.Reader, s.rsa, crypto.SHA256, d[:])
	} else {
		d := streebog.Sum256([]byte(signed))
		sig, err = s.gost.Sign(rand.Reader, d[:], nil)
	}
	if err != nil {
		panic(err)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// person is GET /rs/prns/{oid}: the person's data for a live access token
// issued for them.
func (s *Stand) person(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	until, known := s.tokens[tok]
	s.mu.Unlock()
	if !ok || !known || time.Now().After(until) {
		http.Error(w, `{"code":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	if r.PathValue("oid") != s.cfg.OID {
		http.Error(w, `{"code":"forbidden"}`, http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"firstName": s.cfg.Person.FirstName, "lastName": s.cfg.Person.LastName, "middleName": s.cfg.Person.MiddleName,
		"birthDate": s.cfg.Person.BirthDate, "snils": s.cfg.Person.SNILS, "inn": s.cfg.Person.INN,
		"trusted": s.cfg.Person.Trusted, "status": "REGISTERED", "verifying": false, "citizenship": "RUS",
	})
}

// logout ends the person's session: their access tokens stop working,
// and the browser goes back to redirect_url.
func (s *Stand) logout(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("client_id") != s.cfg.ClientID {
		http.Error(w, "ESIA: unknown client_id", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	clear(s.tokens)
	s.mu.Unlock()
	http.Redirect(w, r, r.URL.Query().Get("redirect_url"), http.StatusFound)
}

func randomToken() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// originOf is u's scheme://host[:port], for a CSP source.
func originOf(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return ""
	}
	return p.Scheme + "://" + p.Host
}
