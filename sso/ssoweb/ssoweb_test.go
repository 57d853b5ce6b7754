package ssoweb_test

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/internal/enginetest"
	"github.com/podpis/podpis/sso/esia"
	"github.com/podpis/podpis/sso/esia/esiatest"
	"github.com/podpis/podpis/sso/ssoweb"
	"github.com/podpis/podpis/sso/telegram"
	"github.com/podpis/podpis/sso/telegram/telegramstand"
)

const botToken = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0" // made up for the tests

// outcome is what the test site's Done answers, as JSON.
type outcome struct {
	Purpose, Provider, Subject, Code, Message string
}

type site struct {
	srv  *httptest.Server
	h    *ssoweb.Handler
	base string
}

// newSite is a stand-in for the account service: a pre-session cookie
// per browser and its token (HMAC of the cookie), ssoweb mounted at /sso,
// and Done answering the outcome as JSON.
func newSite(t *testing.T) *site {
	t.Helper()
	enginetest.Require(t)
	key := make([]byte, 32)
	rand.Read(key)
	token := func(r *http.Request) string {
		c, err := r.Cookie("pre")
		if err != nil {
			return ""
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte(c.Value))
		return hex.EncodeToString(m.Sum(nil))
	}
	s := &site{}
	s.srv = httptest.NewUnstartedServer(nil)
	s.base = "http://" + s.srv.Listener.Addr().String()

	cert, orgKey := orgKey(t)
	stand := esiatest.New(t, esiatest.Config{ClientID: "PODPIS01", RedirectURI: s.base + "/sso/esia/callback", ClientCertificate: cert})
	ec, err := esia.New(esia.Config{ClientID: "PODPIS01", RedirectURI: s.base + "/sso/esia/callback", Scope: []string{"openid", "fullname", "snils"},
		Endpoints: stand.Endpoints(), Certificate: cert, Key: orgKey, ProviderKey: stand.PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	tv, err := telegram.New(telegram.Config{BotToken: botToken})
	if err != nil {
		t.Fatal(err)
	}
	s.h, err = ssoweb.New(ssoweb.Config{
		BaseURL: s.base + "/sso", ESIA: ec, Telegram: tv, TelegramBot: "podpis_login_bot",
		BrowserToken: token, CookieKey: key, Insecure: true,
		Done: func(w http.ResponseWriter, r *http.Request, res ssoweb.Result) {
			json.NewEncoder(w).Encode(outcome{res.Purpose, res.Identity.Provider, res.Identity.Subject, res.Code, res.Message})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/sso/", s.h)
	// The page a browser opens first: it gets its pre-session cookie and
	// the links with its token.
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie("pre"); err != nil {
			b := make([]byte, 16)
			rand.Read(b)
			c := &http.Cookie{Name: "pre", Value: hex.EncodeToString(b), Path: "/"}
			http.SetCookie(w, c)
			r.AddCookie(c)
		}
		widget, _ := s.h.TelegramWidget(r, ssoweb.Link)
		json.NewEncoder(w).Encode(map[string]string{"esiaLogin": s.h.ESIAStartURL(r, ssoweb.Login),
			"esiaLink": s.h.ESIAStartURL(r, ssoweb.Link), "telegramLink": string(widget)})
	})
	s.srv.Config.Handler = mux
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	return s
}

func orgKey(t *testing.T) (*x509.Certificate, crypto.Signer) {
	dir := t.TempDir()
	keyPath := enginetest.GenKey(t, dir, enginetest.Paramset{Algorithm: "gost2012_256", Name: "A"})
	certPath := filepath.Join(dir, "org.pem")
	enginetest.Run(t, nil, "req", "-engine", "gost", "-x509", "-new", "-key", keyPath, "-subj", "/CN=Org", "-days", "2", "-out", certPath)
	certPEM, _ := os.ReadFile(certPath)
	keyPEM, _ := os.ReadFile(keyPath)
	cert, key, err := esia.LoadKeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// browser is a client with its own cookies that visited the site's page.
type browser struct {
	*http.Client
	links map[string]string
}

func (s *site) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{Client: &http.Client{Jar: jar}}
	resp, err := b.Get(s.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	json.NewDecoder(resp.Body).Decode(&b.links)
	return b
}

func (b *browser) outcome(t *testing.T, u string) outcome {
	t.Helper()
	resp, err := b.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var o outcome
	if err := json.Unmarshal(body, &o); err != nil {
		t.Fatalf("%s: %d %s", u, resp.StatusCode, body)
	}
	return o
}

// TestESIA: the button's link goes to ESIA and back; the outcome names
// the person and the purpose the button had; the answer to the callback
// (its URL holds the code) is neither cached nor passed on as a Referer.
func TestESIA(t *testing.T) {
	s := newSite(t)
	b := s.browser(t)
	resp, err := b.Get(b.links["esiaLogin"])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.Contains(resp.Request.URL.String(), "/sso/esia/callback?") || resp.Header.Get("Referrer-Policy") != "no-referrer" ||
		resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("callback at %s: %v", resp.Request.URL, resp.Header)
	}
	for _, purpose := range []string{ssoweb.Login, ssoweb.Link} {
		o := b.outcome(t, b.links["esia"+strings.ToUpper(purpose[:1])+purpose[1:]])
		if o != (outcome{Purpose: purpose, Provider: "esia", Subject: "1000299654"}) {
			t.Fatalf("%s: %+v", purpose, o)
		}
	}
}

// noFollow returns the first redirect's target instead of following it.
func noFollow(b *browser) *http.Client {
	c := *b.Client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// callbackURL starts a login in b and stops at ESIA's redirect back,
// returning the callback URL.
func callbackURL(t *testing.T, b *browser, start string) string {
	t.Helper()
	c := noFollow(b)
	resp, err := c.Get(start)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.Get(resp.Header.Get("Location")) // at ESIA
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cb := resp.Header.Get("Location")
	if !strings.Contains(cb, "/sso/esia/callback?") {
		t.Fatalf("ESIA sent back to %q", cb)
	}
	return cb
}

// TestESIARefuses: starts and callbacks from the wrong browser are
// refused, and the pending login's cookie cannot be edited.
func TestESIARefuses(t *testing.T) {
	s := newSite(t)
	victim, attacker := s.browser(t), s.browser(t)

	// Another site makes the victim's browser open the attacker's start
	// link (its token is the attacker's).
	if o := victim.outcome(t, attacker.links["esiaLink"]); o.Code != "WRONG_BROWSER" {
		t.Fatalf("start with another browser's token: %+v", o)
	}
	// The attacker's callback (their ESIA account) opened in the victim's
	// browser: the victim started no login there.
	if o := victim.outcome(t, callbackURL(t, attacker, attacker.links["esiaLogin"])); o.Code != "WRONG_BROWSER" {
		t.Fatalf("callback in another browser: %+v", o)
	}
	// …or the victim has a login of their own pending: the state differs.
	callbackURL(t, victim, victim.links["esiaLogin"])
	if o := victim.outcome(t, callbackURL(t, attacker, attacker.links["esiaLogin"])); o.Code != "ESIA_WRONG_STATE" {
		t.Fatalf("callback of another login: %+v", o)
	}

	// A login turned into a link by editing the cookie.
	cb := callbackURL(t, attacker, attacker.links["esiaLogin"])
	u, _ := url.Parse(s.base + "/sso/esia/")
	for _, c := range attacker.Jar.Cookies(u) {
		if c.Name == "podpis_esia" {
			body, mac, _ := strings.Cut(c.Value, ".")
			raw, _ := base64.RawURLEncoding.DecodeString(body)
			raw = []byte(strings.Replace(string(raw), `"p":"login"`, `"p":"link"`, 1))
			c.Value = base64.RawURLEncoding.EncodeToString(raw) + "." + mac
			c.Path = "/sso/esia/"
			attacker.Jar.SetCookies(u, []*http.Cookie{c})
		}
	}
	if o := attacker.outcome(t, cb); o.Code != "WRONG_BROWSER" {
		t.Fatalf("edited cookie: %+v", o)
	}

	// A callback reopened (history, reload): its login is over.
	cb = callbackURL(t, victim, victim.links["esiaLogin"])
	if o := victim.outcome(t, cb); o.Subject != "1000299654" {
		t.Fatalf("first visit: %+v", o)
	}
	if o := victim.outcome(t, cb); o.Code != "WRONG_BROWSER" || o.Message == "" {
		t.Fatalf("callback reopened: %+v", o)
	}
}

// TestTelegram: the widget's auth URL carries the browser's token; the
// redirect with Telegram's data logs in, and with another browser's token
// or stale data it is refused.
func TestTelegram(t *testing.T) {
	s := newSite(t)
	victim, attacker := s.browser(t), s.browser(t)
	authURL := func(b *browser) string {
		html := b.links["telegramLink"]
		i := strings.Index(html, `data-auth-url="`)
		if i < 0 {
			t.Fatalf("widget %s", html)
		}
		rest := html[i+len(`data-auth-url="`):]
		return rest[:strings.IndexByte(rest, '"')]
	}
	u := telegram.User{ID: 7001002003, FirstName: "Анна"}
	fresh := telegramstand.Sign(botToken, u, time.Now()).Encode()
	if o := victim.outcome(t, authURL(victim)+"?"+fresh); o != (outcome{Purpose: "link", Provider: "telegram", Subject: "7001002003"}) {
		t.Fatalf("link: %+v", o)
	}
	// The attacker's own fresh Telegram data, planted in the victim's
	// browser with the attacker's auth URL: refused before it is checked.
	planted := telegramstand.Sign(botToken, telegram.User{ID: 666}, time.Now()).Encode()
	if o := victim.outcome(t, authURL(attacker)+"?"+planted); o.Code != "WRONG_BROWSER" {
		t.Fatalf("another browser's token: %+v", o)
	}
	stale := telegramstand.Sign(botToken, u, time.Now().Add(-time.Hour)).Encode()
	if o := victim.outcome(t, authURL(victim)+"?"+stale); o.Code != "TELEGRAM_EXPIRED" || !strings.Contains(o.Message, "устарели") {
		t.Fatalf("stale data: %+v", o)
	}
}

func TestNewRefuses(t *testing.T) {
	ok := ssoweb.Config{BaseURL: "https://id.example.ru/sso", CookieKey: make([]byte, 32),
		BrowserToken: func(*http.Request) string { return "" }, Done: func(http.ResponseWriter, *http.Request, ssoweb.Result) {}}
	if _, err := ssoweb.New(ok); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*ssoweb.Config){
		"http without Insecure": func(c *ssoweb.Config) { c.BaseURL = "http://id.example.ru/sso" },
		"relative base":         func(c *ssoweb.Config) { c.BaseURL = "/sso" },
		"short cookie key":      func(c *ssoweb.Config) { c.CookieKey = make([]byte, 16) },
		"no browser token":      func(c *ssoweb.Config) { c.BrowserToken = nil },
		"no Done":               func(c *ssoweb.Config) { c.Done = nil },
	} {
		c := ok
		edit(&c)
		if _, err := ssoweb.New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
