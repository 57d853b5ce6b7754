// Package telegramstand plays telegram.org for the Telegram Login Widget
// where Telegram cannot be reached (tests, an offline demo): it serves a
// widget script that draws the «Войти через Telegram» button, the page
// where the person confirms the login, and the redirect back to the
// site's data-auth-url with the fields signed as Telegram signs them
// (HMAC-SHA-256 keyed by SHA-256 of the bot token). A page uses it by
// setting telegram.Widget's ScriptURL to the stand's WidgetURL; the
// server side verifies with sso/telegram exactly as for real Telegram.
package telegramstand

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/podpis/podpis/sso/telegram"
)

// Config describes the bot and the person who logs in.
type Config struct {
	// BotToken signs the data; BotName is the bot's username.
	BotToken, BotName string
	// Domain is the site's host the bot is linked to (/setdomain): the
	// stand redirects only to auth URLs on it, as Telegram does.
	Domain string
	// User is who logs in; a zero ID means a made-up person.
	User telegram.User
}

// Stand is the stand-in, an http.Handler.
type Stand struct {
	cfg     Config
	mux     *http.ServeMux
	mu      sync.Mutex
	pending map[string]string // confirmation page → auth URL
}

// New returns the stand for cfg.
func New(cfg Config) (*Stand, error) {
	if cfg.BotToken == "" || cfg.BotName == "" || cfg.Domain == "" {
		return nil, errors.New("telegramstand: BotToken, BotName and Domain are required")
	}
	if cfg.User.ID == 0 {
		cfg.User = telegram.User{ID: 7001002003, FirstName: "Анна", LastName: "Смирнова", Username: "anna_s"}
	}
	s := &Stand{cfg: cfg, mux: http.NewServeMux(), pending: map[string]string{}}
	s.mux.HandleFunc("GET /js/telegram-widget.js", s.script)
	s.mux.HandleFunc("GET /auth", s.page)
	s.mux.HandleFunc("POST /auth", s.confirm)
	return s, nil
}

// ServeHTTP serves the widget script and the confirmation page.
func (s *Stand) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// WidgetPath is the script's path on the stand: ScriptURL is the stand's
// base URL plus WidgetPath.
const WidgetPath = "/js/telegram-widget.js"

// Sign returns fields as Telegram sends them for u at authDate: the
// user's fields, auth_date and hash.
func Sign(botToken string, u telegram.User, authDate time.Time) url.Values {
	v := url.Values{"id": {strconv.FormatInt(u.ID, 10)}, "auth_date": {strconv.FormatInt(authDate.Unix(), 10)}}
	for k, val := range map[string]string{"first_name": u.FirstName, "last_name": u.LastName, "username": u.Username, "photo_url": u.PhotoURL} {
		if val != "" {
			v.Set(k, val)
		}
	}
	key := sha256.Sum256([]byte(botToken))
	mac := hmac.New(sha256.New, key[:])
	mac.Write(telegram.CheckString(v))
	v.Set("hash", hex.EncodeToString(mac.Sum(nil)))
	return v
}

// script draws the button in place of its own <script> tag; a press opens
// the confirmation page for the tag's data-auth-url.
func (s *Stand) script(w http.ResponseWriter, r *http.Request) {
	base := "//" + r.Host
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	fmt.Fprintf(w, `(function () {
  var tag = document.currentScript;
  if (!tag) return;
  var size = tag.getAttribute('data-size') || 'large';
  var b = document.createElement('button');
  b.type = 'button';
  b.className = 'tg-login tg-login-' + size;
  b.textContent = 'Войти через Telegram';
  b.style.cssText = 'display:inline-flex;align-items:center;gap:8px;font:600 ' + (size === 'small' ? '13px' : size === 'medium' ? '15px' : '16px') +
    '/1 system-ui,sans-serif;color:#fff;background:#54a9eb;border:0;border-radius:20px;padding:' + (size === 'small' ? '7px 14px' : '11px 21px') + ';cursor:pointer';
  b.addEventListener('click', function () {
    var q = new URLSearchParams({ bot: tag.getAttribute('data-telegram-login') || '', return_to: tag.getAttribute('data-auth-url') || '' });
    window.location.assign(%q + '/auth?' + q.toString());
  });
  tag.parentNode.insertBefore(b, tag);
})();
`, base)
}

func (s *Stand) authURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() != s.cfg.Domain {
		return nil, errors.New("Bot domain invalid")
	}
	return u, nil
}

// page is the confirmation page Telegram shows in its popup.
func (s *Stand) page(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("bot") != s.cfg.BotName {
		http.Error(w, "Telegram: unknown bot", http.StatusBadRequest)
		return
	}
	u, err := s.authURL(q.Get("return_to"))
	if err != nil {
		http.Error(w, "Telegram: "+err.Error(), http.StatusBadRequest)
		return
	}
	id := make([]byte, 16)
	rand.Read(id)
	key := hex.EncodeToString(id)
	s.mu.Lock()
	s.pending[key] = u.String()
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// form-action covers the redirect that answers the form too
	// (Chromium blocks it otherwise): the site's auth URL.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' "+u.Scheme+"://"+u.Host)
	confirmPage.Execute(w, map[string]any{"Pending": key, "Site": u.Host, "Bot": s.cfg.BotName, "User": s.cfg.User,
		"Name": strings.TrimSpace(s.cfg.User.FirstName + " " + s.cfg.User.LastName)})
}

// confirm signs the person's data and sends the browser to the auth URL.
func (s *Stand) confirm(w http.ResponseWriter, r *http.Request) {
	key := r.PostFormValue("pending")
	s.mu.Lock()
	back, ok := s.pending[key]
	delete(s.pending, key)
	s.mu.Unlock()
	if !ok {
		http.Error(w, "Telegram: the page has expired", http.StatusBadRequest)
		return
	}
	if r.PostFormValue("action") != "accept" {
		// Telegram leaves a declined login without a redirect; the stand
		// sends the person back with nothing.
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, back+"?"+Sign(s.cfg.BotToken, s.cfg.User, time.Now()).Encode(), http.StatusSeeOther)
}

var confirmPage = template.Must(template.New("confirm").Parse(`<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Вход через Telegram (тестовый стенд)</title>
<style>
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, "Segoe UI", Roboto, sans-serif; background: #e7ebf0; color: #222; }
main { max-width: 400px; margin: 56px auto; padding: 0 16px; }
.card { background: #fff; border-radius: 14px; padding: 28px; box-shadow: 0 2px 16px #0000001a; text-align: center; }
.logo { width: 64px; height: 64px; border-radius: 50%; background: #54a9eb; color: #fff; font: 700 30px/64px system-ui, sans-serif; margin: 0 auto 12px; }
.stand { display: inline-block; font-size: 12px; color: #fff; background: #e0712c; border-radius: 6px; padding: 1px 8px; margin-bottom: 12px; }
h1 { font-size: 19px; margin: 0 0 8px; }
p { color: #707579; margin: 0 0 18px; }
.who { font-weight: 600; color: #222; }
button { width: 100%; font: inherit; font-weight: 600; border-radius: 10px; padding: 11px; cursor: pointer; margin-top: 8px; border: 0; }
.accept { background: #54a9eb; color: #fff; }
.decline { background: #f1f3f5; color: #3390ec; }
</style></head><body><main><form class="card" method="post" action="/auth">
<div class="logo">✈</div><span class="stand">тестовый стенд</span>
<h1>Вход на сайт {{.Site}}</h1>
<p>Бот @{{.Bot}} получит ваше имя{{if .User.Username}}, имя пользователя{{end}} и фото.</p>
<p class="who">{{.Name}}{{if .User.Username}} (@{{.User.Username}}){{end}}</p>
<input type="hidden" name="pending" value="{{.Pending}}">
<button class="accept" name="action" value="accept">Подтвердить</button>
<button class="decline" name="action" value="decline">Отмена</button>
</form></main></body></html>`))
