// Package ssoweb is the HTTP side of the outside logins, for the account
// service to mount: it starts a Госуслуги login and takes ESIA's callback,
// takes the Telegram widget's redirect, and hands each outcome (who, for
// which purpose, or why not) to the service's Done, which logs in, links,
// or explains.
//
// What it defends, beyond sso/esia's and sso/telegram's own checks:
//
//   - Login and link CSRF. Every start URL and every Telegram auth URL
//     carries the browser's token (the account service's CSRF token, which
//     is bound to its session or pre-session cookie) in its path; a
//     request whose token is not that browser's is refused. Without it,
//     another site could link the attacker's Telegram to the victim's
//     account, or log the victim into the attacker's.
//   - A callback in another browser. ESIA's state and the purpose are kept
//     in an HMAC-signed, HttpOnly, SameSite=Lax cookie set when the login
//     starts, so a callback URL opened elsewhere has no login to finish,
//     and the purpose cannot be changed from login to link.
package ssoweb

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/podpis/podpis/sso"
	"github.com/podpis/podpis/sso/esia"
	"github.com/podpis/podpis/sso/telegram"
)

// Purposes of an outside login.
const (
	Login = "login" // log into the account the identity is linked to
	Link  = "link"  // link the identity to the account of the session
)

// ErrWrongBrowser: the request does not carry this browser's token, or the
// login it finishes was not started in this browser.
var ErrWrongBrowser = errors.New("ssoweb: the request is not from the browser that started the login")

// Result is the outcome of one outside login, handed to Config.Done.
type Result struct {
	Purpose  string       // Login or Link
	Identity sso.Identity // when Err is nil
	Err      error
	// Code and Message explain Err: a stable code and the Russian text
	// for the person.
	Code, Message string
}

// Config configures a Handler.
type Config struct {
	// BaseURL is the site's origin and the prefix the Handler is mounted
	// at, e.g. "https://id.example.ru/sso"; the ESIA client's RedirectURI
	// must be BaseURL + "/esia/callback".
	BaseURL string
	// ESIA and Telegram are the providers on offer; nil leaves one out.
	ESIA     *esia.Client
	Telegram *telegram.Verifier
	// TelegramBot and TelegramScript configure the widget (the bot's
	// username; the script's URL, empty for Telegram's own).
	TelegramBot, TelegramScript string
	// BrowserToken returns the token bound to the requesting browser's
	// session or pre-session (the account service's CSRF token); "" when
	// it has none.
	BrowserToken func(r *http.Request) string
	// CookieKey signs the pending-login cookie: at least 32 random bytes.
	CookieKey []byte
	// Insecure drops the cookie's Secure attribute: only for a site on
	// http://127.0.0.1 or localhost.
	Insecure bool
	// Done receives every outcome and writes the response.
	Done func(w http.ResponseWriter, r *http.Request, res Result)
}

// Handler serves, under BaseURL's path:
//
//	GET /esia/{purpose}/{token}      start a Госуслуги login or link
//	GET /esia/callback               ESIA's redirect back
//	GET /telegram/{purpose}/{token}  the Telegram widget's redirect
type Handler struct {
	cfg    Config
	prefix string // BaseURL's path
	mux    *http.ServeMux
}

// New checks cfg and returns the Handler.
func New(cfg Config) (*Handler, error) {
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || !base.IsAbs() || base.Host == "" || base.RawQuery != "" {
		return nil, errors.New("ssoweb: BaseURL is not an absolute URL without a query")
	}
	if base.Scheme != "https" && !cfg.Insecure {
		return nil, errors.New("ssoweb: BaseURL must be https (Insecure only on 127.0.0.1)")
	}
	if len(cfg.CookieKey) < 32 {
		return nil, errors.New("ssoweb: CookieKey must be at least 32 bytes")
	}
	if cfg.BrowserToken == nil || cfg.Done == nil {
		return nil, errors.New("ssoweb: BrowserToken and Done are required")
	}
	if cfg.Telegram != nil && cfg.TelegramBot == "" {
		return nil, errors.New("ssoweb: TelegramBot is required with Telegram")
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	h := &Handler{cfg: cfg, prefix: strings.TrimSuffix(base.Path, "/"), mux: http.NewServeMux()}
	if cfg.ESIA != nil {
		h.mux.HandleFunc("GET "+h.prefix+"/esia/callback", h.esiaCallback)
		h.mux.HandleFunc("GET "+h.prefix+"/esia/{purpose}/{token}", h.esiaStart)
	}
	if cfg.Telegram != nil {
		h.mux.HandleFunc("GET "+h.prefix+"/telegram/{purpose}/{token}", h.telegramAuth)
	}
	return h, nil
}

// ServeHTTP serves the routes above.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// ESIAStartURL is the link of the «Войти через Госуслуги» or «Привязать
// Госуслуги» button for the browser of r; "" without ESIA or a token.
func (h *Handler) ESIAStartURL(r *http.Request, purpose string) string {
	return h.ESIAStartURLFor(h.cfg.BrowserToken(r), purpose)
}

// ESIAStartURLFor is ESIAStartURL for the browser whose token is tok (a
// page that has just set the browser's cookie knows it before the
// browser sends it).
func (h *Handler) ESIAStartURLFor(tok, purpose string) string {
	if h.cfg.ESIA == nil || tok == "" || !validPurpose(purpose) {
		return ""
	}
	return h.cfg.BaseURL + "/esia/" + purpose + "/" + url.PathEscape(tok)
}

// TelegramWidget is the widget's snippet for the browser of r, its auth
// URL carrying the browser's token.
func (h *Handler) TelegramWidget(r *http.Request, purpose string) (template.HTML, error) {
	auth := h.TelegramAuthURL(r, purpose)
	if auth == "" {
		return "", errors.New("ssoweb: no Telegram, no browser token, or an unknown purpose")
	}
	return telegram.Widget{Bot: h.cfg.TelegramBot, ScriptURL: h.cfg.TelegramScript, AuthURL: auth}.HTML()
}

// TelegramAuthURL is the widget's data-auth-url for the browser of r, for
// a page that builds the widget's tag itself (a script-driven page cannot
// run a <script> given as HTML); "" without Telegram or a token.
func (h *Handler) TelegramAuthURL(r *http.Request, purpose string) string {
	return h.TelegramAuthURLFor(h.cfg.BrowserToken(r), purpose)
}

// TelegramAuthURLFor is TelegramAuthURL for the browser whose token is tok.
func (h *Handler) TelegramAuthURLFor(tok, purpose string) string {
	if h.cfg.Telegram == nil || tok == "" || !validPurpose(purpose) {
		return ""
	}
	return h.cfg.BaseURL + "/telegram/" + purpose + "/" + url.PathEscape(tok)
}

func validPurpose(p string) bool { return p == Login || p == Link }

// entry reads a start or widget URL's purpose and checks that the browser
// is the one the URL was made for; false: answered already.
func (h *Handler) entry(w http.ResponseWriter, r *http.Request, explain func(error) (string, string)) (string, bool) {
	purpose := r.PathValue("purpose")
	if !validPurpose(purpose) {
		http.NotFound(w, r)
		return "", false
	}
	if !h.checkBrowser(r) {
		h.done(w, r, purpose, sso.Identity{}, ErrWrongBrowser, explain)
		return "", false
	}
	return purpose, true
}

// checkBrowser reports whether the request's path token is the browser's.
func (h *Handler) checkBrowser(r *http.Request) bool {
	want := h.cfg.BrowserToken(r)
	got := r.PathValue("token")
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func (h *Handler) done(w http.ResponseWriter, r *http.Request, purpose string, id sso.Identity, err error, explain func(error) (string, string)) {
	// The URL holds ESIA's code or Telegram's signed data: no page after
	// it may pass it on in a Referer, and no cache may keep it.
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	res := Result{Purpose: purpose, Identity: id, Err: err}
	if err != nil {
		res.Identity = sso.Identity{}
		if errors.Is(err, ErrWrongBrowser) {
			res.Code, res.Message = "WRONG_BROWSER", "Вход начат в другом окне или браузере. Начните его заново на этой странице."
		} else {
			res.Code, res.Message = explain(err)
		}
	}
	h.cfg.Done(w, r, res)
}

const esiaCookie = "podpis_esia"

// pendingESIA is what the cookie keeps between the start and the
// callback.
type pendingESIA struct {
	State   string    `json:"s"`
	Expires time.Time `json:"e"`
	Purpose string    `json:"p"`
}

func (h *Handler) esiaStart(w http.ResponseWriter, r *http.Request) {
	purpose, ok := h.entry(w, r, esia.Explain)
	if !ok {
		return
	}
	req, err := h.cfg.ESIA.Begin(r.Context())
	if err != nil {
		h.done(w, r, purpose, sso.Identity{}, err, esia.Explain)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: esiaCookie, Value: h.seal(pendingESIA{State: req.State, Expires: req.Expires, Purpose: purpose}),
		Path: h.prefix + "/esia/", Expires: req.Expires, MaxAge: int(time.Until(req.Expires).Seconds()),
		HttpOnly: true, Secure: !h.cfg.Insecure,
		// Lax: ESIA's redirect back is a top-level navigation from
		// another site, which Lax lets the cookie ride and Strict not.
		SameSite: http.SameSiteLaxMode,
	})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, req.URL, http.StatusFound)
}

func (h *Handler) esiaCallback(w http.ResponseWriter, r *http.Request) {
	// Used or not, the pending login ends here.
	http.SetCookie(w, &http.Cookie{Name: esiaCookie, Path: h.prefix + "/esia/", MaxAge: -1, HttpOnly: true,
		Secure: !h.cfg.Insecure, SameSite: http.SameSiteLaxMode})
	var p pendingESIA
	c, err := r.Cookie(esiaCookie)
	if err != nil || !h.open(c.Value, &p) || !validPurpose(p.Purpose) {
		h.done(w, r, Login, sso.Identity{}, ErrWrongBrowser, esia.Explain)
		return
	}
	id, err := h.cfg.ESIA.Finish(r.Context(), &esia.Request{State: p.State, Expires: p.Expires}, r.URL.Query())
	if err != nil {
		h.done(w, r, p.Purpose, sso.Identity{}, err, esia.Explain)
		return
	}
	h.done(w, r, p.Purpose, id.Identity(), nil, esia.Explain)
}

func (h *Handler) telegramAuth(w http.ResponseWriter, r *http.Request) {
	purpose, ok := h.entry(w, r, telegram.Explain)
	if !ok {
		return
	}
	u, err := h.cfg.Telegram.Verify(r.Context(), r.URL.Query())
	if err != nil {
		h.done(w, r, purpose, sso.Identity{}, err, telegram.Explain)
		return
	}
	h.done(w, r, purpose, u.Identity(), nil, telegram.Explain)
}

// seal encodes v with an HMAC-SHA-256 under CookieKey.
func (h *Handler) seal(v any) string {
	body, _ := json.Marshal(v)
	mac := hmac.New(sha256.New, h.cfg.CookieKey)
	mac.Write([]byte("podpis-sso-esia\x00"))
	mac.Write(body)
	return base64.RawURLEncoding.EncodeToString(body) + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// open checks and decodes what seal made.
func (h *Handler) open(s string, v any) bool {
	b64, m64, ok := strings.Cut(s, ".")
	if !ok {
		return false
	}
	body, err1 := base64.RawURLEncoding.DecodeString(b64)
	sum, err2 := base64.RawURLEncoding.DecodeString(m64)
	if err1 != nil || err2 != nil {
		return false
	}
	mac := hmac.New(sha256.New, h.cfg.CookieKey)
	mac.Write([]byte("podpis-sso-esia\x00"))
	mac.Write(body)
	if !hmac.Equal(mac.Sum(nil), sum) {
		return false
	}
	return json.Unmarshal(body, v) == nil
}
