package idp_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podpis/podpis/idp"
	_ "modernc.org/sqlite"
)

// Registered redirect URIs of the clients driven by go-oidc: nothing
// listens there, the browser stops when it is sent there.
const (
	webRedirect    = "http://client.test/cb"
	publicRedirect = "http://spa.test/cb"
	logoutRedirect = "http://client.test/bye"
	webSecret      = "web-client-secret-0123456789"
)

// opener opens an empty database for the provider: SQLite or PostgreSQL.
type opener func(t testing.TB) (*sql.DB, string)

func openSQLite(t testing.TB) (*sql.DB, string) {
	path := filepath.Join(t.TempDir(), "idp.db")
	d, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, idp.SQLite
}

// env is a provider mounted at /oidc/ beside the login stand-in at
// /login, as in the account service and the demo.
type env struct {
	t      testing.TB
	p      *idp.Provider
	srv    *httptest.Server
	issuer string
	login  *standIn
	db     *sql.DB
	kek    []byte
	skew   atomic.Int64 // seconds the provider's clock is ahead
	cfg    idp.Config
}

func (e *env) now() time.Time { return time.Now().Add(time.Duration(e.skew.Load()) * time.Second) }

// advance moves the provider's clock on.
func (e *env) advance(d time.Duration) { e.skew.Add(int64(d / time.Second)) }

type envOption func(*idp.Config)

func newEnv(t testing.TB, open opener, opts ...envOption) *env {
	t.Helper()
	e := &env{t: t, login: &standIn{sessions: map[string]*session{}}}
	var h atomic.Pointer[http.Handler]
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*h.Load()).ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	e.issuer = e.srv.URL + "/oidc"
	e.kek = make([]byte, 32)
	rand.Read(e.kek)
	var dialect string
	e.db, dialect = open(t)
	e.cfg = idp.Config{
		Issuer:           e.issuer,
		LoginURL:         e.srv.URL + "/login",
		DB:               e.db,
		Dialect:          dialect,
		KeyEncryptionKey: e.kek,
		Sessions:         e.login,
		AllowInsecure:    true,
		Now:              e.now,
		Clients: []idp.Client{
			{ID: "web", Name: "Доверенность", Secret: webSecret, RedirectURIs: []string{webRedirect},
				PostLogoutRedirectURIs: []string{logoutRedirect}},
			{ID: "spa", Name: "Кабинет", Auth: idp.AuthNone, RedirectURIs: []string{publicRedirect}},
		},
	}
	for _, o := range opts {
		o(&e.cfg)
	}
	p, err := idp.New(context.Background(), e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.p = p
	e.login.p = p
	e.login.now = e.now
	mux := http.NewServeMux()
	mux.Handle("/oidc/", p.Handler())
	mux.Handle("/login", e.login)
	var hh http.Handler = mux
	h.Store(&hh)
	return e
}

// standIn is the account service's login page reduced to what the
// provider needs: a session cookie, a password or certificate login,
// Complete, and the Sessions the provider ends.
type standIn struct {
	p   *idp.Provider
	now func() time.Time

	mu       sync.Mutex
	sessions map[string]*session // by session id, the cookie's value
	logins   int                 // logins asked of the person (POSTs)
	ended    []string            // "End sub sid" / "EndAll sub"
}

type session struct {
	subject  string
	amr      []string
	authTime time.Time
}

const cookieName = "acct"

func (s *standIn) End(_ context.Context, subject, sid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss := s.sessions[sid]; ss != nil && ss.subject == subject {
		delete(s.sessions, sid)
	}
	s.ended = append(s.ended, "End "+subject+" "+sid)
	return nil
}

func (s *standIn) EndAll(_ context.Context, subject string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, ss := range s.sessions {
		if ss.subject == subject {
			delete(s.sessions, id)
		}
	}
	s.ended = append(s.ended, "EndAll "+subject)
	return nil
}

func (s *standIn) live(subject string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ss := range s.sessions {
		if ss.subject == subject {
			n++
		}
	}
	return n
}

// person is who logs in as user: the claims the account service has.
func person(user string, amr []string) idp.Claims {
	c := idp.Claims{Name: "Алиса Петрова", Email: user + "@example.ru", EmailVerified: true, Phone: "+79001234567", PhoneVerified: true}
	if slices.Contains(amr, idp.AMRCertificate) {
		c.Certificate = &idp.Certificate{SNILS: "12345678901", INN: "500100732259", INNLE: "7707083893",
			OGRN: "1027700132195", Organization: "ООО «Ромашка»", Title: "Генеральный директор", Thumbprint: "a1b2c3"}
	}
	return c
}

// loginPage is what GET /login answers when the person must log in.
type loginPage struct {
	Request     string `json:"request"`
	Certificate bool   `json:"certificate"`
	Client      string `json:"client"`
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.FormValue("request")
	lr, err := s.p.Request(ctx, id)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var sess *session
	var sid string
	if c, err := r.Cookie(cookieName); err == nil {
		s.mu.Lock()
		sess, sid = s.sessions[c.Value], c.Value
		s.mu.Unlock()
	}
	switch r.Method {
	case http.MethodGet:
		// Single sign-on: a live session answers at once, unless the
		// client wants a certificate the session has not shown (step-up)
		// or a fresh login.
		if sess != nil && (!lr.Certificate || slices.Contains(sess.amr, idp.AMRCertificate)) && !slices.Contains(lr.Prompt, "login") {
			s.complete(w, r, id, sid, sess)
			return
		}
		json.NewEncoder(w).Encode(loginPage{Request: lr.ID, Certificate: lr.Certificate, Client: lr.ClientName})
	case http.MethodPost:
		s.mu.Lock()
		s.logins++
		amr := []string{r.FormValue("method")}
		if sess != nil && sess.subject == r.FormValue("user") {
			// A step-up keeps the session and adds the method.
			if !slices.Contains(sess.amr, amr[0]) {
				sess.amr = append(sess.amr, amr[0])
			}
			sess.authTime = s.now()
		} else {
			sid = hex.EncodeToString(randomBytes(8))
			sess = &session{subject: r.FormValue("user"), amr: amr, authTime: s.now()}
			s.sessions[sid] = sess
		}
		s.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: cookieName, Value: sid, Path: "/", HttpOnly: true})
		s.complete(w, r, id, sid, sess)
	}
}

func (s *standIn) complete(w http.ResponseWriter, r *http.Request, id, sid string, sess *session) {
	to, err := s.p.Complete(r.Context(), id, idp.Subject{ID: sess.subject, SessionID: sid, AMR: sess.amr,
		AuthTime: sess.authTime, Claims: person(sess.subject, sess.amr)})
	if errors.Is(err, idp.ErrStepUp) {
		http.Error(w, "certificate login required", http.StatusForbidden)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// browser follows redirects one by one, logs in on the stand-in when
// asked (as user, by method), and stops when sent to a URL with stop's
// prefix.
type browser struct {
	t      testing.TB
	c      *http.Client
	user   string
	method string
	// asked records what the login pages asked.
	asked []loginPage
}

func newBrowser(t testing.TB, user, method string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, user: user, method: method, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// visit goes to u and follows redirects; it returns the URL where it was
// sent with the stop prefix (nil if none), or the last response's status
// and body.
func (b *browser) visit(u, stop string) (*url.URL, int, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for range 20 {
		resp, err := b.c.Do(req)
		if err != nil {
			b.t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && loc != "" {
			next, err := req.URL.Parse(loc)
			if err != nil {
				b.t.Fatal(err)
			}
			if stop != "" && strings.HasPrefix(next.String(), stop) {
				return next, resp.StatusCode, ""
			}
			req, _ = http.NewRequest(http.MethodGet, next.String(), nil)
			continue
		}
		if resp.StatusCode == http.StatusOK && req.Method == http.MethodGet && req.URL.Path == "/login" {
			var page loginPage
			if err := json.Unmarshal(body, &page); err != nil {
				b.t.Fatalf("login page: %v: %s", err, body)
			}
			b.asked = append(b.asked, page)
			form := url.Values{"request": {page.Request}, "user": {b.user}, "method": {b.method}}
			req, _ = http.NewRequest(http.MethodPost, req.URL.String(), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			continue
		}
		return nil, resp.StatusCode, string(body)
	}
	b.t.Fatal("too many redirects")
	return nil, 0, ""
}

// authorize goes to an authorization URL and returns the query the
// provider sent to the redirect URI (code, state or error).
func (b *browser) authorize(authURL, redirectURI string) url.Values {
	b.t.Helper()
	to, code, body := b.visit(authURL, redirectURI)
	if to == nil {
		b.t.Fatalf("not sent to %s: %d %s", redirectURI, code, body)
	}
	return to.Query()
}

// segment is the decoded i-th part of a JWT.
func segment(t testing.TB, raw string, i int) []byte {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	return b
}
