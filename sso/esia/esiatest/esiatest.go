// Package esiatest is a local stand-in for ESIA (Госуслуги) that follows
// the methodological recommendations as sso/esia reads them, for tests: an
// authorization endpoint that logs the configured person in at once and
// redirects back with a code, a token endpoint, and the REST API's person
// resource.
//
// It checks client_secret with OpenSSL's GOST engine (openssl cms -verify
// over scope + timestamp + client_id + state, the registered certificate
// as the only trust anchor), not with podpis's CMS code: the client's
// signatures are judged by an implementation we did not write. Its own
// tokens are signed with podpis's GOST R 34.10-2012 (or RSA, for RS256).
package esiatest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/streebog"
	"github.com/podpis/podpis/internal/enginetest"
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
}

// Server is the running stand-in.
type Server struct {
	*httptest.Server
	cfg    Config
	dir    string
	gost   *gost3410.PrivateKey
	rsa    *rsa.PrivateKey
	mu     sync.Mutex
	codes  map[string]grant
	tokens map[string]time.Time // access tokens issued, until
}

type grant struct {
	scope   string
	expires time.Time
}

// codeLife is how long an authorization code may wait for its exchange.
const codeLife = time.Minute

// New starts the stand-in for the duration of t.
func New(t testing.TB, cfg Config) *Server {
	t.Helper()
	enginetest.Require(t)
	if cfg.OID == "" {
		cfg.OID = "1000299654"
	}
	if cfg.Person == (esia.Person{}) {
		cfg.Person = esia.Person{FirstName: "Иван", LastName: "Петров", MiddleName: "Сергеевич", BirthDate: "01.02.1985", SNILS: "112-233-445 95", Trusted: true}
	}
	if cfg.TimestampSkew == 0 {
		cfg.TimestampSkew = 5 * time.Minute
	}
	s := &Server{cfg: cfg, dir: t.TempDir(), codes: map[string]grant{}, tokens: map[string]time.Time{}}
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cfg.ClientCertificate.Raw})
	if err := os.WriteFile(filepath.Join(s.dir, "registered.pem"), pemCert, 0o600); err != nil {
		t.Fatal(err)
	}
	var err error
	if cfg.RS256 {
		s.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		s.gost, err = gost3410.GenerateKey(gost3410.CurveCryptoProA, rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /aas/oauth2/ac", s.authorize)
	mux.HandleFunc("POST /aas/oauth2/te", s.token)
	mux.HandleFunc("GET /rs/prns/{oid}", s.person)
	mux.HandleFunc("GET /idp/ext/Logout", s.logout)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// Endpoints are the stand-in's, for esia.Config.
func (s *Server) Endpoints() esia.Endpoints {
	return esia.Endpoints{
		Authorize: s.URL + "/aas/oauth2/ac",
		Token:     s.URL + "/aas/oauth2/te",
		API:       s.URL + "/rs",
		Logout:    s.URL + "/idp/ext/Logout",
		Issuer:    s.URL + "/",
	}
}

// PublicKey is the key the stand-in signs tokens with, as ESIA publishes
// its own.
func (s *Server) PublicKey() crypto.PublicKey {
	if s.rsa != nil {
		return &s.rsa.PublicKey
	}
	return s.gost.PublicKey()
}

// checkClient authenticates a request the way ESIA does: the registered
// client, a fresh timestamp, and client_secret verified by OpenSSL over
// scope + timestamp + client_id + state. It returns why it refuses.
func (s *Server) checkClient(q url.Values) string {
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
	out, err := enginetest.Try(nil, "cms", "-verify", "-engine", "gost", "-inform", "DER", "-binary",
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
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if why := s.checkClient(q); why != "" {
		http.Error(w, "ESIA: invalid_client: "+why, http.StatusBadRequest)
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
	back := url.Values{"state": {q.Get("state")}}
	if s.cfg.Decline {
		back.Set("error", "access_denied")
		back.Set("error_description", "ESIA-007004: the person refused to grant access")
	} else {
		code := randomToken()
		s.mu.Lock()
		s.codes[code] = grant{scope: q.Get("scope"), expires: time.Now().Add(codeLife)}
		s.mu.Unlock()
		back.Set("code", code)
	}
	http.Redirect(w, r, s.cfg.RedirectURI+"?"+back.Encode(), http.StatusFound)
}

func oauthError(w http.ResponseWriter, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

// token is the token endpoint: the client authenticates again, the code
// is used once, and the tokens are signed.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
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
		"iss": s.URL + "/", "sub": json.Number(s.cfg.OID), "aud": s.cfg.ClientID,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "auth_time": now.Unix(),
		"amr": "PWD", "urn:esia:amd": "PWD", "urn:esia:sid": randomToken(),
		"urn:esia:sbj": map[string]any{"urn:esia:sbj:typ": "P", "urn:esia:sbj:is_tru": s.cfg.Person.Trusted,
			"urn:esia:sbj:oid": json.Number(s.cfg.OID), "urn:esia:sbj:nam": "OID." + s.cfg.OID},
	}
	atClaims := map[string]any{
		"iss": s.URL + "/", "urn:esia:sbj_id": json.Number(s.cfg.OID), "client_id": s.cfg.ClientID,
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
func (s *Server) sign(sbt string, claims map[string]any) string {
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
func (s *Server) person(w http.ResponseWriter, r *http.Request) {
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
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
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
