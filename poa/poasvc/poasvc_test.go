package poasvc_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/idp"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/poa/poasvc"
	"github.com/podpis/podpis/verify"
	_ "modernc.org/sqlite"
)

const secret = "poa-client-secret-0123456789"

// person is who the provider's login stand-in has logged in: a password
// session, or a certificate one (AMR hwk) with the certificate's claims.
var (
	password = idp.Subject{ID: "acc-1", SessionID: "sess-1", AMR: []string{idp.AMRPassword},
		Claims: idp.Claims{Name: "Петрова Мария Сергеевна", Phone: "+79000000001", PhoneVerified: true}}
	certificate = idp.Subject{ID: "acc-1", SessionID: "sess-1", AMR: []string{idp.AMRPassword, idp.AMRCertificate},
		Claims: idp.Claims{Name: "Петрова Мария Сергеевна", Certificate: &idp.Certificate{SNILS: "98765432082", INN: "771234567890",
			INNLE: "7712345671", OGRN: "1027700132195", Organization: "ООО «Ромашка»", Title: "Генеральный директор", Thumbprint: "ab12"}}}
)

// env is the real provider (package idp) with a login stand-in and the
// «выйти везде» stand-in on one server, and the service on another.
type env struct {
	t        *testing.T
	provider *httptest.Server
	service  *httptest.Server
	p        *idp.Provider

	mu        sync.Mutex
	skew      time.Duration // the service's clock ahead of the provider's
	who       idp.Subject
	stepUps   int      // logins the stand-in refused for want of a certificate
	ended     []string // what the provider ended: "End sub sid", "EndAll sub"
	logoutAll []url.Values
}

func (e *env) End(_ context.Context, sub, sid string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ended = append(e.ended, "End "+sub+" "+sid)
	return nil
}

func (e *env) EndAll(_ context.Context, sub string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ended = append(e.ended, "EndAll "+sub)
	return nil
}

func (e *env) as(s idp.Subject) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s.AuthTime = time.Now()
	e.who = s
}

func newEnv(t *testing.T) *env {
	e := &env{t: t}
	e.provider = httptest.NewServer(nil)
	t.Cleanup(e.provider.Close)
	e.service = httptest.NewServer(nil)
	t.Cleanup(e.service.Close)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "idp.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	kek := make([]byte, 32)
	rand.Read(kek)
	e.p, err = idp.New(context.Background(), idp.Config{Issuer: e.provider.URL + "/oidc", LoginURL: e.provider.URL + "/login",
		DB: db, Dialect: idp.SQLite, KeyEncryptionKey: kek, Sessions: e, AllowInsecure: true,
		Clients: []idp.Client{{ID: "poa", Name: "Доверенность", Secret: secret, RedirectURIs: []string{e.service.URL + "/callback"},
			PostLogoutRedirectURIs: []string{e.service.URL + "/"}}}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/oidc/", e.p.Handler())
	// The account service's login page, reduced: the person is e.who.
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		who := e.who
		e.mu.Unlock()
		to, err := e.p.Complete(r.Context(), r.FormValue("request"), who)
		if errors.Is(err, idp.ErrStepUp) {
			e.mu.Lock()
			e.stepUps++
			e.mu.Unlock()
			http.Error(w, "step-up: a certificate is needed", http.StatusForbidden)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
	})
	// The provider's «выйти на всех устройствах», reduced: it records
	// what it was asked and goes back.
	mux.HandleFunc("/oidc-logout-all", func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.logoutAll = append(e.logoutAll, r.URL.Query())
		e.mu.Unlock()
		http.Redirect(w, r, r.FormValue("post_logout_redirect_uri")+"?state="+r.FormValue("state"), http.StatusSeeOther)
	})
	e.provider.Config.Handler = mux

	// The signatures are poaweb's business (its tests); a root is all
	// the service needs here.
	root := testpki.Root(t, gost3410.CurveTC26256A, "Тестовый УЦ", time.Now().Add(-time.Hour))
	v, err := verify.New(verify.Config{Origins: []string{e.service.URL}, Roots: []*x509.Certificate{root.Cert}})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := poasvc.New(poasvc.Config{Origin: e.service.URL, Issuer: e.provider.URL + "/oidc", ClientID: "poa", ClientSecret: secret,
		LogoutAllURL: e.provider.URL + "/oidc-logout-all", Verifier: v, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time {
			e.mu.Lock()
			defer e.mu.Unlock()
			return time.Now().Add(e.skew)
		}})
	if err != nil {
		t.Fatal(err)
	}
	e.service.Config.Handler = svc
	e.as(password)
	return e
}

// browser keeps cookies and stops at every redirect (step does one).
type browser struct {
	t *testing.T
	c *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// get fetches u and returns the status, the body and where it redirects.
func (b *browser) get(u string) (int, string, string) {
	b.t.Helper()
	resp, err := b.c.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header.Get("Location")
}

// follow fetches u and the redirects after it; it returns the last
// answer and the URL it came from.
func (b *browser) follow(u string) (int, string, string) {
	b.t.Helper()
	for range 12 {
		code, body, loc := b.get(u)
		if loc == "" {
			return code, body, u
		}
		next, _ := url.Parse(u)
		u = next.ResolveReference(must(url.Parse(loc))).String()
	}
	b.t.Fatal("too many redirects")
	return 0, "", ""
}

func (b *browser) post(u string, form url.Values) (int, string) {
	b.t.Helper()
	resp, err := b.c.PostForm(u, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location") + string(body)
}

func (b *browser) postJSON(u, body string) int {
	b.t.Helper()
	resp, err := b.c.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the page:\n%s", page)
	}
	return m[1]
}

// TestLoginStepUpLogout: a password login shows whose session it is and
// how; signing is refused by the server (not only hidden) until a
// certificate login; «Подписать» asks the provider for acr certificate
// (step-up), refused while the person has only a password, then taken;
// «Выйти» ends the session here and at the provider.
func TestLoginStepUpLogout(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	code, page, at := b.follow(e.service.URL + "/login")
	if code != http.StatusOK || at != e.service.URL+"/" || !strings.Contains(page, "Вы вошли как <span id=\"who\">Петрова Мария Сергеевна</span>") ||
		!strings.Contains(page, "по паролю") || !strings.Contains(page, "urn:podpis:acr:basic") {
		t.Fatalf("after the password login (%d at %s):\n%s", code, at, page)
	}
	// A password session has no identity for «Доверенность»: its API
	// refuses, whatever a page would show.
	for _, path := range []string{"/poa/api/build", "/poa/api/check"} {
		if code := b.postJSON(e.service.URL+path, `{}`); code != http.StatusUnauthorized {
			t.Errorf("%s with a password session: %d, want 401", path, code)
		}
	}
	if code, _, _ := b.get(e.service.URL + "/poa/api/session"); code != http.StatusUnauthorized {
		t.Errorf("/poa/api/session with a password session: %d", code)
	}
	// «Подписать»: the provider is asked for a certificate; a password
	// session does not do (the stand-in is refused ErrStepUp).
	if !strings.Contains(page, `href="/login?certificate=1&amp;back=/poa/"`) {
		t.Fatalf("no step-up link:\n%s", page)
	}
	_, _, loc := b.get(e.service.URL + "/login?certificate=1&back=/poa/")
	if u := must(url.Parse(loc)); u.Query().Get("acr_values") != poasvc.ACRCertificate || u.Query().Get("code_challenge_method") != "S256" ||
		u.Query().Get("nonce") == "" || u.Query().Get("state") == "" {
		t.Fatalf("step-up request %s", loc)
	}
	if code, _, _ := b.follow(loc); code != http.StatusForbidden || e.stepUps != 1 {
		t.Fatalf("a password session answered a step-up: %d, %d refusals", code, e.stepUps)
	}
	// With the certificate the step-up completes and comes back to /poa/.
	e.as(certificate)
	code, _, at = b.follow(e.service.URL + "/login?certificate=1&back=/poa/")
	if code != http.StatusOK || at != e.service.URL+"/poa/" {
		t.Fatalf("after the step-up: %d at %s", code, at)
	}
	code, body, _ := b.get(e.service.URL + "/poa/api/session")
	if code != http.StatusOK || !strings.Contains(body, `"innle":"7712345671"`) || !strings.Contains(body, `"snils":"98765432082"`) {
		t.Fatalf("/poa/api/session after the step-up: %d %s", code, body)
	}
	_, page, _ = b.get(e.service.URL + "/")
	if !strings.Contains(page, "по паролю, затем подтверждён сертификатом") || !strings.Contains(page, "ООО «Ромашка»") || !strings.Contains(page, "987-654-320 82") {
		t.Fatalf("home after the step-up:\n%s", page)
	}

	// «Выйти» without the page's token: refused, still logged in.
	if code, _ := b.post(e.service.URL+"/logout", url.Values{"csrf": {"forged"}}); code != http.StatusForbidden {
		t.Fatalf("logout without the token: %d", code)
	}
	if code, _, _ := b.get(e.service.URL + "/poa/api/session"); code != http.StatusOK {
		t.Fatal("a forged logout ended the session")
	}
	code, loc = b.post(e.service.URL+"/logout", url.Values{"csrf": {csrfOf(t, page)}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, e.provider.URL+"/oidc/end_session?") || !strings.Contains(loc, "id_token_hint=") {
		t.Fatalf("logout: %d %s", code, loc)
	}
	_, page, at = b.follow(loc)
	if at != e.service.URL+"/?state=one" || !strings.Contains(page, "Вы вышли") || !strings.Contains(page, "Войти через Личный кабинет") {
		t.Fatalf("after logout at %s:\n%s", at, page)
	}
	if len(e.ended) != 1 || e.ended[0] != "End acc-1 sess-1" {
		t.Errorf("the provider ended %v, want the account session", e.ended)
	}
	if code, _, _ := b.get(e.service.URL + "/poa/api/session"); code != http.StatusUnauthorized {
		t.Error("the session outlived «Выйти»")
	}
}

// TestStateMismatch: the provider's answer is taken only in the browser
// that started the login, once, with the state it was given.
func TestStateMismatch(t *testing.T) {
	e := newEnv(t)
	a := e.browser()
	_, _, loc := a.get(e.service.URL + "/login")
	// Through the provider to the callback, stopping there.
	var callback string
	for u := loc; ; {
		_, _, next := a.get(u)
		if strings.HasPrefix(next, e.service.URL+"/callback") {
			callback = next
			break
		}
		if next == "" {
			t.Fatalf("stuck at %s", u)
		}
		u = must(url.Parse(u)).ResolveReference(must(url.Parse(next))).String()
	}
	// Another browser (an attacker's link with the victim's code, or
	// login CSRF): no state cookie, refused.
	other := e.browser()
	if code, page, _ := other.get(callback); code != http.StatusBadRequest || !strings.Contains(page, "не относится к входу в этом браузере") {
		t.Fatalf("the callback in another browser: %d\n%s", code, page)
	}
	// This browser with another state: refused too.
	u := must(url.Parse(callback))
	q := u.Query()
	q.Set("state", "tampered")
	u.RawQuery = q.Encode()
	if code, _, _ := a.get(u.String()); code != http.StatusBadRequest {
		t.Fatalf("a tampered state: %d", code)
	}
	if code, _, _ := a.get(e.service.URL + "/poa/api/session"); code != http.StatusUnauthorized {
		t.Fatal("a refused callback logged in")
	}
}

// TestNonce: an ID token whose nonce is not this login's is refused —
// the authorization request is replayed with another nonce but the same
// state and PKCE challenge, as a code from another login would be.
func TestNonce(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	_, _, loc := b.get(e.service.URL + "/login")
	u := must(url.Parse(loc))
	q := u.Query()
	q.Set("nonce", "someone-elses-nonce")
	u.RawQuery = q.Encode()
	code, page, at := b.follow(u.String())
	if code != http.StatusUnauthorized || !strings.HasPrefix(at, e.service.URL+"/callback") || !strings.Contains(page, "Вход не удался") {
		t.Fatalf("a foreign nonce: %d at %s\n%s", code, at, page)
	}
	if code, _, _ := b.get(e.service.URL + "/"); code != http.StatusOK {
		t.Fatal(code)
	}
	if _, page, _ := b.get(e.service.URL + "/"); strings.Contains(page, "Вы вошли как") {
		t.Fatal("a foreign nonce logged in")
	}
	// The same login unmodified goes through: the refusal was the nonce.
	if code, page, _ := b.follow(e.service.URL + "/login"); code != http.StatusOK || !strings.Contains(page, "Вы вошли как") {
		t.Fatalf("a plain login after: %d", code)
	}
}

// TestLogoutEverywhere: «Выйти на всех устройствах» ends every session of
// the person at the service (another browser's too) and sends the
// browser to the provider's page with the ID token as hint.
func TestLogoutEverywhere(t *testing.T) {
	e := newEnv(t)
	e.as(certificate)
	a, other := e.browser(), e.browser()
	_, page, _ := a.follow(e.service.URL + "/login")
	other.follow(e.service.URL + "/login")
	code, loc := a.post(e.service.URL+"/logout-all", url.Values{"csrf": {csrfOf(t, page)}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, e.provider.URL+"/oidc-logout-all?") {
		t.Fatalf("logout-all: %d %s", code, loc)
	}
	_, page, at := a.follow(loc)
	if at != e.service.URL+"/?state=all" || !strings.Contains(page, "Вы вышли на всех устройствах") {
		t.Fatalf("after logout-all at %s:\n%s", at, page)
	}
	if len(e.logoutAll) != 1 || e.logoutAll[0].Get("id_token_hint") == "" || e.logoutAll[0].Get("post_logout_redirect_uri") != e.service.URL+"/" {
		t.Fatalf("the provider was asked %v", e.logoutAll)
	}
	for name, b := range map[string]*browser{"this": a, "another": other} {
		if code, _, _ := b.get(e.service.URL + "/poa/api/session"); code != http.StatusUnauthorized {
			t.Errorf("%s browser's session outlived «Выйти на всех устройствах»", name)
		}
	}
}

// TestSessionExpires: a session lasts 8 hours whatever is done with it;
// then the service asks to log in again.
func TestSessionExpires(t *testing.T) {
	e := newEnv(t)
	e.as(certificate)
	b := e.browser()
	b.follow(e.service.URL + "/login")
	if code, _, _ := b.get(e.service.URL + "/poa/api/session"); code != http.StatusOK {
		t.Fatalf("logged in: %d", code)
	}
	e.mu.Lock()
	e.skew = 8*time.Hour + time.Minute
	e.mu.Unlock()
	if code, _, _ := b.get(e.service.URL + "/poa/api/session"); code != http.StatusUnauthorized {
		t.Fatalf("after 8 hours: %d", code)
	}
	if _, page, _ := b.get(e.service.URL + "/"); !strings.Contains(page, "Войти через Личный кабинет") {
		t.Fatal("the home page still shows the session")
	}
}

// TestBackOnlyHere: ?back= returns only to a path of the service: a link
// through the service's login to another site lands on the home page.
func TestBackOnlyHere(t *testing.T) {
	e := newEnv(t)
	for _, back := range []string{"//evil.test/", "https://evil.test/", "/\\evil.test", "evil.test"} {
		b := e.browser()
		if _, _, at := b.follow(e.service.URL + "/login?back=" + url.QueryEscape(back)); at != e.service.URL+"/" {
			t.Errorf("back=%q landed at %s", back, at)
		}
	}
	b := e.browser()
	if _, _, at := b.follow(e.service.URL + "/login?back=/poa/"); at != e.service.URL+"/poa/" {
		t.Errorf("back=/poa/ landed at %s", at)
	}
}
