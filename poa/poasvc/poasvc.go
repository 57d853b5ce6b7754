// Package poasvc is «Доверенность» as a service of its own behind single
// sign-on: it logs people in only through the OpenID Connect provider of
// the account service (authorization code flow with PKCE S256, state and
// nonce checked, with github.com/coreos/go-oidc and golang.org/x/oauth2),
// keeps its own sessions in its own cookie, shows whose session it is
// (name, organisation, SNILS, how the person logged in: amr/acr) and
// serves package poaweb's pages at /poa/ with the identity the ID token's
// certificate claims give.
//
// Signing a power of attorney needs a certificate login: a session whose
// acr is not urn:podpis:acr:certificate has no identity for poaweb (its
// API refuses to build or check, whatever the page shows), and «Оформить и
// подписать» goes back to the provider with that acr_values (step-up)
// and returns.
//
// «Выйти» ends this session and the account's (RP-initiated logout);
// «Выйти на всех устройствах» ends every session of the person here and
// sends the browser to the provider's page that ends them everywhere
// (Config.LogoutAllURL).
package poasvc

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/podpis/podpis/login"
	"github.com/podpis/podpis/poa/poaweb"
	"github.com/podpis/podpis/verify"
	"golang.org/x/oauth2"
)

// ACRCertificate is the provider's acr of a certificate login; asking
// for it in acr_values is the step-up.
const ACRCertificate = "urn:podpis:acr:certificate"

// The cookies: the session, and the state of a login under way (binding
// the provider's answer to the browser that asked).
const (
	sessionCookie = "poa_session"
	stateCookie   = "poa_state"
)

// Lifetimes. A session ends sooner when the person logs out.
const (
	loginTTL   = 10 * time.Minute
	sessionTTL = 8 * time.Hour
)

// Config configures the service.
type Config struct {
	// Origin is the service's origin as browsers see it, e.g.
	// http://127.0.0.1:8081; the redirect URI is Origin+"/callback".
	Origin string
	// Issuer is the provider's issuer URL (discovery below it).
	Issuer string
	// ClientID and ClientSecret: the service as a client of the provider
	// (client_secret_basic).
	ClientID, ClientSecret string
	// LogoutAllURL is the provider's page that ends the person's sessions
	// everywhere; it gets id_token_hint, post_logout_redirect_uri and
	// state as RP-initiated logout does. "" hides «Выйти на всех
	// устройствах».
	LogoutAllURL string
	// AccountURL is the account service's page («Личный кабинет»), linked
	// from the header; "" for none.
	AccountURL string
	// Verifier checks the powers of attorney's signatures (poaweb).
	Verifier *verify.Verifier
	// AgentPorts, CAdES and TSA are poaweb's.
	AgentPorts []int
	CAdES, TSA string
	// HTTPClient talks to the provider; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log; nil means slog.Default().
	Log *slog.Logger
}

// Session is a login to the service: what the provider's ID token said.
type Session struct {
	Subject string
	Claims  Claims
	// IDToken is the raw ID token, the id_token_hint of the logouts.
	IDToken string
	Created time.Time
	csrf    string
}

// Claims are the ID token's claims the service uses.
type Claims struct {
	Name         string   `json:"name"`
	Phone        string   `json:"phone_number"`
	Email        string   `json:"email"`
	ACR          string   `json:"acr"`
	AMR          []string `json:"amr"`
	SID          string   `json:"sid"`
	Nonce        string   `json:"nonce"`
	SNILS        string   `json:"snils"`
	INN          string   `json:"inn"`
	INNLE        string   `json:"inn_le"`
	OGRN         string   `json:"ogrn"`
	Organization string   `json:"organization"`
	Title        string   `json:"title"`
	Thumbprint   string   `json:"cert_thumbprint"`
}

// Certificate: the session logged in (or stepped up) by certificate.
func (c Claims) Certificate() bool { return c.ACR == ACRCertificate && c.Thumbprint != "" }

// Identity is poaweb's identity of the session: the certificate's, from
// the ID token's certificate claims; none without a certificate login.
func (s *Session) Identity() (login.Identity, bool) {
	c := s.Claims
	if !c.Certificate() {
		return login.Identity{}, false
	}
	return login.Identity{CommonName: c.Name, SNILS: c.SNILS, INN: c.INN, INNLE: c.INNLE, OGRN: c.OGRN,
		Organization: c.Organization, Title: c.Title, Thumbprint: c.Thumbprint}, true
}

// pending is a login under way, by its state.
type pending struct {
	nonce, verifier string
	certificate     bool   // acr_values certificate was asked
	back            string // the service's path to return to
	expires         time.Time
}

// Service is the service's HTTP handler and its sessions.
type Service struct {
	cfg  Config
	mux  *http.ServeMux
	page *template.Template

	// formAction: the origins the logout forms end at (the provider's).
	formAction string

	mu       sync.Mutex
	provider *oidc.Provider // discovered on first use
	pending  map[string]pending
	sessions map[string]*Session
	swept    time.Time // the last sweep of pending and sessions
}

//go:embed static
var static embed.FS

// New returns the service. The provider is discovered on first use, so
// the service may start before it.
func New(cfg Config) (*Service, error) {
	if cfg.Origin == "" || cfg.Issuer == "" || cfg.ClientID == "" || cfg.Verifier == nil {
		return nil, errors.New("poasvc: Config needs Origin, Issuer, ClientID and Verifier")
	}
	cfg.Origin = strings.TrimSuffix(cfg.Origin, "/")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Service{cfg: cfg, mux: http.NewServeMux(), pending: map[string]pending{}, sessions: map[string]*Session{}}
	for _, u := range []string{cfg.Issuer, cfg.LogoutAllURL} {
		if p, err := url.Parse(u); err == nil && p.Host != "" && !strings.Contains(s.formAction, p.Scheme+"://"+p.Host) {
			s.formAction = strings.TrimSpace(s.formAction + " " + p.Scheme + "://" + p.Host)
		}
	}
	var err error
	if s.page, err = template.ParseFS(static, "static/home.html"); err != nil {
		return nil, fmt.Errorf("poasvc: %w", err)
	}
	pw, err := poaweb.New(poaweb.Config{Verifier: cfg.Verifier, AgentPorts: cfg.AgentPorts, CAdES: cfg.CAdES, TSA: cfg.TSA,
		Now: cfg.Now, Log: cfg.Log, LoginURL: "/login?certificate=1&back=/poa/",
		Identity: func(r *http.Request) (login.Identity, bool) {
			if ss := s.session(r); ss != nil {
				return ss.Identity()
			}
			return login.Identity{}, false
		}})
	if err != nil {
		return nil, fmt.Errorf("poasvc: %w", err)
	}
	s.mux.HandleFunc("GET /{$}", s.home)
	files, _ := fs.Sub(static, "static")
	s.mux.Handle("GET /home.css", http.FileServerFS(files))
	s.mux.HandleFunc("GET /login", s.login)
	s.mux.HandleFunc("GET /callback", s.callback)
	s.mux.HandleFunc("POST /logout", s.logout)
	s.mux.HandleFunc("POST /logout-all", s.logoutAll)
	s.mux.Handle("/poa/", http.StripPrefix("/poa", pw))
	return s, nil
}

// ServeHTTP serves the service; its own pages talk to nothing else.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if !strings.HasPrefix(r.URL.Path, "/poa/") {
		// The logout forms post here and are redirected to the provider:
		// form-action covers the redirect too.
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self' "+s.formAction)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
	}
	s.mux.ServeHTTP(w, r)
}

// oauth is the client of the provider, discovering it the first time.
func (s *Service) oauth(ctx context.Context) (*oidc.Provider, *oauth2.Config, error) {
	s.mu.Lock()
	p := s.provider
	s.mu.Unlock()
	if p == nil {
		var err error
		if p, err = oidc.NewProvider(oidc.ClientContext(ctx, s.cfg.HTTPClient), s.cfg.Issuer); err != nil {
			return nil, nil, fmt.Errorf("poasvc: discovery: %w", err)
		}
		s.mu.Lock()
		s.provider = p
		s.mu.Unlock()
	}
	return p, &oauth2.Config{ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: s.cfg.Origin + "/callback",
		Scopes:      []string{oidc.ScopeOpenID, "profile", "phone", "email", "certificate"}}, nil
}

func random() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// login starts the code flow: state (also in a cookie of this browser),
// nonce and a PKCE verifier kept here; ?certificate=1 asks for a
// certificate login (acr_values, the step-up); ?back= is the service's
// path to return to.
func (s *Service) login(w http.ResponseWriter, r *http.Request) {
	_, conf, err := s.oauth(r.Context())
	if err != nil {
		s.fail(w, http.StatusBadGateway, "Личный кабинет недоступен. Попробуйте позже.", err)
		return
	}
	back := r.FormValue("back")
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") || strings.ContainsAny(back, "\\\r\n") {
		back = "/" // only a path of this service: no open redirect
	}
	p := pending{nonce: random(), verifier: oauth2.GenerateVerifier(), certificate: r.FormValue("certificate") == "1",
		back: back, expires: s.cfg.Now().Add(loginTTL)}
	state := random()
	s.mu.Lock()
	// Stale logins and sessions are refused where they are used; the
	// sweep only frees them, once a minute, not on every login.
	if now := s.cfg.Now(); now.Sub(s.swept) >= time.Minute {
		s.swept = now
		for k, v := range s.pending {
			if now.After(v.expires) {
				delete(s.pending, k)
			}
		}
		for k, ss := range s.sessions {
			if now.Sub(ss.Created) > sessionTTL {
				delete(s.sessions, k)
			}
		}
	}
	s.pending[state] = p
	s.mu.Unlock()
	http.SetCookie(w, s.cookie(stateCookie, state, int(loginTTL.Seconds())))
	opts := []oauth2.AuthCodeOption{oidc.Nonce(p.nonce), oauth2.S256ChallengeOption(p.verifier)}
	if p.certificate {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", ACRCertificate))
	}
	http.Redirect(w, r, conf.AuthCodeURL(state, opts...), http.StatusSeeOther)
}

// Errors of the callback, for the log and the tests.
var (
	ErrState       = errors.New("poasvc: state does not match this browser's login")
	ErrNonce       = errors.New("poasvc: ID token's nonce is not this login's")
	ErrNoIDToken   = errors.New("poasvc: no ID token")
	ErrNotStepedUp = errors.New("poasvc: a certificate login was asked, the ID token says otherwise")
)

// callback takes the provider's answer: the state must be the one this
// browser's cookie holds (and is used once), the code is exchanged with
// the PKCE verifier, the ID token verified (signature, issuer, audience,
// expiry) and its nonce must be this login's.
func (s *Service) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	state := r.FormValue("state")
	c, err := r.Cookie(stateCookie)
	http.SetCookie(w, s.cookie(stateCookie, "", -1))
	s.mu.Lock()
	p, known := s.pending[state]
	if known && err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(state)) == 1 {
		delete(s.pending, state)
	} else {
		known = false
	}
	s.mu.Unlock()
	if !known || s.cfg.Now().After(p.expires) {
		s.fail(w, http.StatusBadRequest, "Вход не удался: ответ Личного кабинета не относится к входу в этом браузере. Войдите снова.", ErrState)
		return
	}
	if e := r.FormValue("error"); e != "" {
		s.fail(w, http.StatusUnauthorized, "Вход отменён или не выполнен. Войдите снова.", fmt.Errorf("poasvc: provider: %s %s", e, r.FormValue("error_description")))
		return
	}
	provider, conf, err := s.oauth(ctx)
	if err != nil {
		s.fail(w, http.StatusBadGateway, "Личный кабинет недоступен. Попробуйте позже.", err)
		return
	}
	octx := oidc.ClientContext(ctx, s.cfg.HTTPClient)
	tok, err := conf.Exchange(octx, r.FormValue("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		s.fail(w, http.StatusUnauthorized, "Вход не удался. Войдите снова.", fmt.Errorf("poasvc: code exchange: %w", err))
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		s.fail(w, http.StatusUnauthorized, "Вход не удался. Войдите снова.", ErrNoIDToken)
		return
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: s.cfg.ClientID, Now: s.cfg.Now}).Verify(octx, raw)
	if err != nil {
		s.fail(w, http.StatusUnauthorized, "Вход не удался. Войдите снова.", fmt.Errorf("poasvc: ID token: %w", err))
		return
	}
	var claims Claims
	if err := idt.Claims(&claims); err != nil {
		s.fail(w, http.StatusUnauthorized, "Вход не удался. Войдите снова.", fmt.Errorf("poasvc: ID token: %w", err))
		return
	}
	if subtle.ConstantTimeCompare([]byte(claims.Nonce), []byte(p.nonce)) != 1 {
		s.fail(w, http.StatusUnauthorized, "Вход не удался. Войдите снова.", ErrNonce)
		return
	}
	if p.certificate && !claims.Certificate() {
		s.fail(w, http.StatusForbidden, "Для подписи доверенности нужен вход по сертификату. Войдите по сертификату.", ErrNotStepedUp)
		return
	}
	// A new session in a new cookie, whatever the browser had (a step-up
	// replaces the password session).
	if old := s.session(r); old != nil {
		s.drop(func(k string, ss *Session) bool { return ss == old })
	}
	sid := random()
	ss := &Session{Subject: idt.Subject, Claims: claims, IDToken: raw, Created: s.cfg.Now(), csrf: random()}
	s.mu.Lock()
	s.sessions[sid] = ss
	s.mu.Unlock()
	http.SetCookie(w, s.cookie(sessionCookie, sid, int(sessionTTL.Seconds())))
	s.cfg.Log.Info("poa: login", "sub", idt.Subject, "acr", claims.ACR, "amr", claims.AMR)
	http.Redirect(w, r, p.back, http.StatusSeeOther)
}

// session is r's session, or nil.
func (s *Service) session(r *http.Request) *Session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.sessions[c.Value]
	if ss != nil && s.cfg.Now().Sub(ss.Created) > sessionTTL {
		delete(s.sessions, c.Value)
		return nil
	}
	return ss
}

// drop ends the sessions f picks.
func (s *Service) drop(f func(string, *Session) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, ss := range s.sessions {
		if f(k, ss) {
			delete(s.sessions, k)
		}
	}
}

func (s *Service) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: strings.HasPrefix(s.cfg.Origin, "https://")}
}

// loggingOut checks a logout form: the session's CSRF token, so that
// another site cannot log the person out.
func (s *Service) loggingOut(w http.ResponseWriter, r *http.Request) *Session {
	ss := s.session(r)
	if ss == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
	if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(ss.csrf)) != 1 {
		s.fail(w, http.StatusForbidden, "Страница устарела. Обновите её и повторите.", errors.New("poasvc: logout without the CSRF token"))
		return nil
	}
	return ss
}

// logout ends this session here and at the provider (RP-initiated
// logout), which comes back to the home page.
func (s *Service) logout(w http.ResponseWriter, r *http.Request) {
	ss := s.loggingOut(w, r)
	if ss == nil {
		return
	}
	s.drop(func(_ string, x *Session) bool { return x == ss })
	http.SetCookie(w, s.cookie(sessionCookie, "", -1))
	p, _, err := s.oauth(r.Context())
	var ep struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err == nil {
		p.Claims(&ep)
	}
	if ep.EndSession == "" {
		http.Redirect(w, r, "/?out=one", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, s.logoutURL(ep.EndSession, ss, "one"), http.StatusSeeOther)
}

// logoutAll ends every session of the person here and sends the browser
// to the provider's page that ends them everywhere.
func (s *Service) logoutAll(w http.ResponseWriter, r *http.Request) {
	ss := s.loggingOut(w, r)
	if ss == nil {
		return
	}
	s.drop(func(_ string, x *Session) bool { return x.Subject == ss.Subject })
	http.SetCookie(w, s.cookie(sessionCookie, "", -1))
	s.cfg.Log.Info("poa: logout everywhere", "sub", ss.Subject)
	if s.cfg.LogoutAllURL == "" {
		http.Redirect(w, r, "/?out=all", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, s.logoutURL(s.cfg.LogoutAllURL, ss, "all"), http.StatusSeeOther)
}

func (s *Service) logoutURL(endpoint string, ss *Session, out string) string {
	q := url.Values{"id_token_hint": {ss.IDToken}, "client_id": {s.cfg.ClientID},
		"post_logout_redirect_uri": {s.cfg.Origin + "/"}, "state": {out}}
	sep := "?"
	if strings.Contains(endpoint, "?") {
		sep = "&"
	}
	return endpoint + sep + q.Encode()
}

// homeView is what the home page shows.
type homeView struct {
	Session     *Session
	Who         string
	Initials    string
	Principal   bool // the certificate names an organisation (ИНН ЮЛ, ОГРН)
	Rows        [][2]string
	How         string
	Certificate bool
	LogoutAll   bool
	AccountURL  string
	Notice      string
	Error       bool // Notice is a refusal
	CSRF        string
}

// amrWords says how the person logged in (RFC 8176 and ours).
var amrWords = []struct {
	amr   string
	words string
}{
	{"hwk", "по сертификату"},
	{"sms", "по коду из SMS"},
	{"email", "по коду из письма"},
	{"pwd", "по паролю"},
	{"esia", "через Госуслуги"},
	{"telegram", "через Telegram"},
}

// How says in words how the session's person logged in, the certificate
// (step-up) last.
func (c Claims) How() string {
	var out []string
	for _, w := range amrWords {
		if slices.Contains(c.AMR, w.amr) && w.amr != "hwk" {
			out = append(out, w.words)
		}
	}
	if slices.Contains(c.AMR, "hwk") {
		if len(out) > 0 {
			return strings.Join(out, ", ") + ", затем подтверждён сертификатом"
		}
		return "по сертификату"
	}
	if len(out) == 0 {
		return strings.Join(c.AMR, ", ")
	}
	return strings.Join(out, ", ")
}

func (s *Service) home(w http.ResponseWriter, r *http.Request) {
	v := homeView{Session: s.session(r), LogoutAll: s.cfg.LogoutAllURL != "", AccountURL: s.cfg.AccountURL}
	// ?out= after a logout here; the provider's redirect brings it back
	// as state.
	out := r.FormValue("out")
	if out == "" {
		out = r.FormValue("state")
	}
	switch out {
	case "one":
		v.Notice = "Вы вышли из «Доверенности» и Личного кабинета"
	case "all":
		v.Notice = "Вы вышли на всех устройствах"
	}
	if ss := v.Session; ss != nil {
		v.CSRF = ss.csrf
		c := ss.Claims
		v.Who = c.Name
		for _, w := range strings.Fields(c.Name)[:min(2, len(strings.Fields(c.Name)))] {
			v.Initials += string([]rune(w)[:1])
		}
		if v.Who == "" {
			v.Who = phone(c.Phone)
		}
		if v.Who == "" {
			v.Who = c.Email
		}
		v.Certificate = c.Certificate()
		v.Principal = c.INNLE != "" && c.OGRN != ""
		v.How = c.How()
		level := "базовый (без сертификата)"
		if v.Certificate {
			level = "вход по сертификату"
		}
		v.Rows = [][2]string{{"Организация", c.Organization}, {"Должность", c.Title}, {"СНИЛС", login.FormatSNILS(c.SNILS)},
			{"ИНН ЮЛ", c.INNLE}, {"Телефон", phone(c.Phone)}, {"Email", c.Email}, {"Способ входа", v.How},
			{"Уровень входа", level + " · " + c.ACR}}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := s.page.Execute(w, v); err != nil {
		s.cfg.Log.Error("poa: home page", "err", err)
	}
}

// phone formats +7 and 10 digits as +7 (900) 000-00-01.
func phone(p string) string {
	if len(p) != 12 || !strings.HasPrefix(p, "+7") {
		return p
	}
	d := p[2:]
	return "+7 (" + d[:3] + ") " + d[3:6] + "-" + d[6:8] + "-" + d[8:]
}

// fail answers a refusal in Russian, with a way back, and logs why.
func (s *Service) fail(w http.ResponseWriter, code int, message string, err error) {
	s.cfg.Log.Info("poa: refused", "status", code, "err", err)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	s.page.Execute(w, homeView{Notice: message, Error: true, AccountURL: s.cfg.AccountURL})
}
