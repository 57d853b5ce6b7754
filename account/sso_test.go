package account_test

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podpis/podpis/account"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/sso/esia"
	"github.com/podpis/podpis/sso/esia/esiatest"
	"github.com/podpis/podpis/sso/ssoweb"
	"github.com/podpis/podpis/sso/telegram"
	"github.com/podpis/podpis/sso/telegram/telegramstand"
)

const testBotToken = "100200300:test-token-of-the-account-tests"

// ssoEnv is a service with Telegram (and ESIA, when esiaCfg is given)
// mounted at /sso as podpis-demo mounts them.
func ssoEnv(t *testing.T, db database, withESIA bool, opts ...option) *env {
	return newEnvMount(t, db, func(e *env) http.Handler {
		tg, err := telegram.New(telegram.Config{BotToken: testBotToken})
		if err != nil {
			t.Fatal(err)
		}
		cfg := ssoweb.Config{Telegram: tg, TelegramBot: "podpis_test_bot"}
		if withESIA {
			cfg.ESIA = esiaClient(t, e.origin+"/sso/esia/callback")
		}
		h, err := e.svc.SSO(cfg)
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle("/sso/", h)
		mux.Handle("/", e.svc.Handler())
		return mux
	}, opts...)
}

// esiaClient runs the ESIA stand-in (which checks client_secret with
// OpenSSL) for an organisation certificate made here, and returns the
// client for it.
func esiaClient(t *testing.T, redirect string) *esia.Client {
	key, err := gost3410.GenerateKey(gost3410.CurveTC26256A, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Тестовая организация"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := gostx509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	stand := esiatest.New(t, esiatest.Config{ClientID: "PODPISTEST", RedirectURI: redirect, ClientCertificate: cert,
		OID: "1000123456", Person: esia.Person{LastName: "Иванов", FirstName: "Иван", MiddleName: "Иванович"}})
	c, err := esia.New(esia.Config{ClientID: "PODPISTEST", RedirectURI: redirect, Scope: []string{"openid", "fullname"},
		Endpoints: stand.Endpoints(), Certificate: cert, Key: key, ProviderKey: stand.PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sso is the state's offer of provider for b: its login and link URLs.
func (b *browser) sso(provider string) (login, link string) {
	b.t.Helper()
	st := must(b.t, b.get("/api/account/state"))
	ways, _ := st["sso"].(map[string]any)
	w, _ := ways[provider].(map[string]any)
	if w == nil {
		b.t.Fatalf("state offers no %s: %v", provider, st["sso"])
	}
	l, _ := w["link"].(string)
	return w["login"].(string), l
}

// visit follows u's redirects as a browser does, until one leads back to
// the site's page ("/"), and returns the outcome the page is then told
// (the state's ssoResult) and the state.
func (b *browser) visit(u string) (outcome, state reply) {
	b.t.Helper()
	c := *b.c
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), b.base+"/") && req.URL.Path == "/" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	res, err := c.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("GET %s: %d, want 303 back to the page", u, res.StatusCode)
	}
	st := must(b.t, b.get("/api/account/state"))
	o, _ := st["ssoResult"].(map[string]any)
	if again := must(b.t, b.get("/api/account/state")); again["ssoResult"] != nil {
		b.t.Fatalf("the outcome is told twice: %v", again["ssoResult"])
	}
	return o, st
}

// telegramLogin is the widget's redirect to authURL for user u, signed
// at (less a second per call: data signed twice in one second is one
// hash, which the replay store takes once).
func telegramLogin(authURL string, u telegram.User, at time.Time) string {
	at = at.Add(-time.Duration(signed.Add(1)) * time.Second)
	return authURL + "?" + telegramstand.Sign(testBotToken, u, at).Encode()
}

var signed atomic.Int64

var (
	anna  = telegram.User{ID: 7001, FirstName: "Анна", LastName: "Смирнова", Username: "anna_s"}
	boris = telegram.User{ID: 7002, FirstName: "Борис"}
)

func accountOf(st reply) map[string]any { a, _ := st["account"].(map[string]any); return a }

func linksOf(st reply) []string {
	var out []string
	for _, l := range accountOf(st)["links"].([]any) {
		m := l.(map[string]any)
		out = append(out, m["provider"].(string)+":"+m["name"].(string))
	}
	return out
}

func wantOutcome(t *testing.T, o reply, ok bool, code, text string) {
	t.Helper()
	if o == nil || o["ok"] != ok || (code != "" && o.str("code") != code) || !strings.Contains(o.str("message"), text) {
		t.Fatalf("outcome %v; want ok=%v code %s with %q", o, ok, code, text)
	}
}

func TestSSO(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db database) {
		for _, tc := range []struct {
			name string
			f    func(t *testing.T, db database)
		}{
			{"TelegramLinkLoginUnlink", testTelegramLinkLogin},
			{"LinkedElsewhere", testLinkedElsewhere},
			{"LinkNeedsSession", testLinkNeedsSession},
			{"Register", testSSORegister},
			{"ForgedOutcome", testForgedOutcome},
			{"ESIA", testESIALinkLogin},
		} {
			t.Run(tc.name, func(t *testing.T) { tc.f(t, db) })
		}
	})
}

// testTelegramLinkLogin: a Telegram linked in the account page logs into
// that account (amr telegram); unlinked, the same login is told how to
// link, and logs into nothing.
func testTelegramLinkLogin(t *testing.T, db database) {
	e := ssoEnv(t, db, false)
	b, reg := e.register(t, phone("+79161110001"), pw)
	id := reg["account"].(map[string]any)["id"]
	_, link := b.sso("telegram")
	o, st := b.visit(telegramLogin(link, anna, time.Now()))
	wantOutcome(t, o, true, "", "Telegram привязан")
	if got := strings.Join(linksOf(st), ","); got != "telegram:Анна Смирнова" {
		t.Fatalf("links %q", got)
	}

	c := e.browser()
	login, _ := c.sso("telegram")
	o, st = c.visit(telegramLogin(login, anna, time.Now()))
	wantOutcome(t, o, true, "", "Вы вошли через Telegram")
	acc := accountOf(st)
	if acc == nil || acc["id"] != id {
		t.Fatalf("logged into %v, want %v", acc, id)
	}
	ss := acc["sessions"].([]any)
	var amr string
	for _, s := range ss {
		if s.(map[string]any)["current"].(bool) {
			amr = strings.Join(strs(s.(map[string]any)["amr"]), " ")
		}
	}
	if amr != "telegram" {
		t.Fatalf("amr %q", amr)
	}
	// The session is a session: the API takes it.
	must(t, c.get("/api/account/me"))

	must(t, b.post("/api/account/links/telegram/unlink", nil))
	refused(t, http.StatusNotFound, "NOT_FOUND", b.post("/api/account/links/telegram/unlink", nil))
	refused(t, http.StatusNotFound, "NOT_FOUND", b.post("/api/account/links/vk/unlink", nil))
	d := e.browser()
	login, _ = d.sso("telegram")
	o, st = d.visit(telegramLogin(login, anna, time.Now()))
	wantOutcome(t, o, false, "SSO_NOT_LINKED", "Войдите по телефону или email и привяжите Telegram в Личном кабинете")
	if accountOf(st) != nil {
		t.Fatalf("an unlinked identity logged in: %v", st["account"])
	}
}

// testLinkedElsewhere: an identity is one account's; an account has one
// identity of a provider.
func testLinkedElsewhere(t *testing.T, db database) {
	e := ssoEnv(t, db, false)
	a, _ := e.register(t, phone("+79161110002"), pw)
	b, _ := e.register(t, email("b@podpis.test"), pw)
	_, link := a.sso("telegram")
	o, _ := a.visit(telegramLogin(link, anna, time.Now()))
	wantOutcome(t, o, true, "", "привязан")

	_, link = b.sso("telegram")
	o, st := b.visit(telegramLogin(link, anna, time.Now()))
	wantOutcome(t, o, false, "SSO_LINKED_ELSEWHERE", "уже привязан к другой учётной записи")
	if len(linksOf(st)) != 0 {
		t.Fatalf("linked anyway: %v", linksOf(st))
	}
	_, link = a.sso("telegram")
	o, st = a.visit(telegramLogin(link, boris, time.Now()))
	wantOutcome(t, o, false, "SSO_PROVIDER_LINKED", "Сначала отвяжите")
	if got := strings.Join(linksOf(st), ","); got != "telegram:Анна Смирнова" {
		t.Fatalf("links %q", got)
	}
	// Linking again what the account has changes nothing and is no error.
	o, _ = a.visit(telegramLogin(link, anna, time.Now()))
	wantOutcome(t, o, true, "", "привязан")
}

// testLinkNeedsSession: a link URL of a browser without a session links
// to nothing; another browser's URL is refused (ssoweb's CSRF check,
// through the account service's token); a stale widget is refused.
func testLinkNeedsSession(t *testing.T, db database) {
	e := ssoEnv(t, db, false)
	v := e.browser()
	login, link := v.sso("telegram")
	if link != "" {
		t.Fatalf("a link URL offered without a session: %s", link)
	}
	linkURL := strings.Replace(login, "/telegram/login/", "/telegram/link/", 1)
	o, _ := v.visit(telegramLogin(linkURL, anna, time.Now()))
	wantOutcome(t, o, false, "NOT_LOGGED_IN", "Войдите")

	w := e.browser()
	o, st := w.visit(telegramLogin(login, anna, time.Now()))
	wantOutcome(t, o, false, "WRONG_BROWSER", "другом окне")
	if accountOf(st) != nil {
		t.Fatal("logged in by another browser's URL")
	}
	login, _ = w.sso("telegram")
	o, _ = w.visit(telegramLogin(login, anna, time.Now().Add(-time.Hour)))
	wantOutcome(t, o, false, "TELEGRAM_EXPIRED", "устарели")
}

// testSSORegister: with SSORegister an unknown identity gets an account
// of its own, whose last way in cannot be unlinked.
func testSSORegister(t *testing.T, db database) {
	e := ssoEnv(t, db, false, func(c *account.Config) { c.SSORegister = true })
	b := e.browser()
	login, _ := b.sso("telegram")
	o, st := b.visit(telegramLogin(login, boris, time.Now()))
	wantOutcome(t, o, true, "", "Вы вошли через Telegram")
	acc := accountOf(st)
	if acc == nil || acc["phone"] != nil || acc["email"] != nil || strings.Join(linksOf(st), ",") != "telegram:Борис" {
		t.Fatalf("account %v", acc)
	}
	refused(t, http.StatusConflict, "SSO_LAST_WAY", b.post("/api/account/links/telegram/unlink", nil))
	// The next login by the same identity is the same account.
	c := e.browser()
	login, _ = c.sso("telegram")
	if _, st2 := c.visit(telegramLogin(login, boris, time.Now())); accountOf(st2)["id"] != acc["id"] {
		t.Fatalf("a second account for one identity: %v", accountOf(st2))
	}
}

// testForgedOutcome: the outcome cookie is the service's (MAC): a cookie
// with other words is not shown.
func testForgedOutcome(t *testing.T, db database) {
	e := ssoEnv(t, db, false)
	b := e.browser()
	login, _ := b.sso("telegram")
	b.visit(telegramLogin(login, anna, time.Now())) // SSO_NOT_LINKED: a genuine cookie, now spent
	u := mustURL(b.base)
	body := base64.RawURLEncoding.EncodeToString([]byte(`{"ok":false,"purpose":"login","message":"Позвоните 8-800-…"}`))
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "podpis_sso", Value: body + "." + strings.Repeat("0", 64), Path: "/"}})
	if st := must(t, b.get("/api/account/state")); st["ssoResult"] != nil {
		t.Fatalf("a forged outcome shown: %v", st["ssoResult"])
	}
}

// testESIALinkLogin: Госуслуги through the stand-in (client_secret
// checked by OpenSSL): linked in the account, logs into it with amr esia;
// a callback replayed is refused.
func testESIALinkLogin(t *testing.T, db database) {
	e := ssoEnv(t, db, true)
	b, reg := e.register(t, phone("+79161110003"), pw)
	_, link := b.sso("esia")
	o, st := b.visit(link)
	wantOutcome(t, o, true, "", "Госуслуги привязаны")
	if got := strings.Join(linksOf(st), ","); got != "esia:Иванов Иван Иванович" {
		t.Fatalf("links %q", got)
	}
	c := e.browser()
	login, _ := c.sso("esia")
	o, st = c.visit(login)
	wantOutcome(t, o, true, "", "Вы вошли через Госуслуги")
	if accountOf(st)["id"] != reg["account"].(map[string]any)["id"] {
		t.Fatalf("logged into %v", accountOf(st))
	}
	must(t, b.post("/api/account/links/esia/unlink", nil))
	d := e.browser()
	login, _ = d.sso("esia")
	o, _ = d.visit(login)
	wantOutcome(t, o, false, "SSO_NOT_LINKED", "привяжите Госуслуги")
}
