package account_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podpis/podpis/account"
	"github.com/podpis/podpis/account/deliver"
	"github.com/podpis/podpis/account/sqlstore"
)

const (
	pw    = "Пароль-надёжный-1"
	newPW = "Другой-пароль-2"
)

// TestService runs every case on SQLite and on PostgreSQL.
func TestService(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db database) {
		for _, tc := range []struct {
			name string
			f    func(t *testing.T, db database)
		}{
			{"RegisterPhone", testRegisterPhone},
			{"RegisterEmail", testRegisterEmail},
			{"WrongCodeLocks", testWrongCodeLocks},
			{"ResendTooSoon", testResendTooSoon},
			{"CodeExpiresAndIsSingleUse", testCodeExpires},
			{"PasswordLogin", testPasswordLogin},
			{"CodeLogin", testCodeLogin},
			{"Reset", testReset},
			{"SessionsRotateListRevoke", testSessions},
			{"SessionsExpire", testSessionExpiry},
			{"CSRF", testCSRF},
			{"Certificates", testCertificates},
			{"ChallengePurposes", testChallengePurposes},
			{"StepUp", testStepUp},
			{"Renewal", testRenewal},
			{"PasswordGuessingLimited", testPasswordGuessing},
			{"CodeFloodLimited", testCodeFlood},
			{"NoEnumeration", testNoEnumeration},
			{"Seed", testSeed},
		} {
			t.Run(tc.name, func(t *testing.T) { tc.f(t, db) })
		}
	})
}

func testRegisterPhone(t *testing.T, db database) {
	e := newEnv(t, db)
	b := e.browser()
	p := must(t, b.post("/api/account/register", map[string]string{"phone": "8 (916) 123-45-67", "password": pw}))
	if p.str("sentTo") != "+7 (916) ***-**-67" || p["resendAfter"] != 60.0 || p["expiresIn"] != 600.0 || p.str("channel") != "sms" {
		t.Fatalf("pending %v", p)
	}
	sms := e.sms.Last(t, "+79161234567")
	if !strings.Contains(sms.Text, "Код подтверждения регистрации") {
		t.Fatalf("sms %q", sms.Text)
	}
	code := e.sms.Code(t, "+79161234567")
	r := must(t, b.post("/api/account/confirm", map[string]string{"pending": p.str("pending"), "code": code}))
	acc := r["account"].(map[string]any)
	if acc["phone"] != "+79161234567" || acc["phoneDisplay"] != "+7 (916) 123-45-67" || acc["email"] != nil {
		t.Fatalf("account %v", acc)
	}
	ss := acc["sessions"].([]any)
	if len(ss) != 1 || !ss[0].(map[string]any)["current"].(bool) || strings.Join(strs(ss[0].(map[string]any)["amr"]), " ") != "otp sms" {
		t.Fatalf("sessions %v", ss)
	}
	st := must(t, b.get("/api/account/me"))
	if st.str("id") != acc["id"] {
		t.Fatalf("me %v", st)
	}
	// The phone written another way is the same account.
	must(t, e.browser().post("/api/account/login", map[string]string{"phone": "+7 916 123 45 67", "password": pw}))
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func testRegisterEmail(t *testing.T, db database) {
	e := newEnv(t, db)
	b := e.browser()
	p := must(t, b.post("/api/account/register", map[string]string{"email": "  Ivan.Petrov@Mail.RU ", "password": pw}))
	if p.str("sentTo") != "i***@mail.ru" || p.str("channel") != "email" {
		t.Fatalf("pending %v", p)
	}
	m := e.smtp.Last(t, "ivan.petrov@mail.ru")
	if m.Subject != "Код подтверждения podpis" {
		t.Fatalf("subject %q", m.Subject)
	}
	r := must(t, b.post("/api/account/confirm", map[string]string{"pending": p.str("pending"), "code": e.smtp.Code(t, "ivan.petrov@mail.ru")}))
	if r["account"].(map[string]any)["email"] != "ivan.petrov@mail.ru" {
		t.Fatalf("account %v", r)
	}
	must(t, e.browser().post("/api/account/login", map[string]string{"email": "IVAN.PETROV@mail.ru", "password": pw}))
	for _, tc := range []struct {
		body map[string]string
		want string
	}{
		{map[string]string{"email": "ivan@", "password": pw}, "INVALID_EMAIL"},
		{map[string]string{"phone": "12345", "password": pw}, "INVALID_PHONE"},
		{map[string]string{"email": "a@b.ru", "password": "short"}, "WEAK_PASSWORD"},
		{map[string]string{"email": "olga@mail.ru", "password": "olga@mail.ru"}, "WEAK_PASSWORD"},
	} {
		refused(t, 400, tc.want, e.browser().post("/api/account/register", tc.body))
	}
}

func testWrongCodeLocks(t *testing.T, db database) {
	e := newEnv(t, db)
	b := e.browser()
	p := must(t, b.post("/api/account/register", map[string]string{"phone": "+79160000001", "password": pw}))
	code := e.sms.Code(t, "+79160000001")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for left := 4; left >= 1; left-- {
		r := refused(t, 400, "WRONG_CODE", b.post("/api/account/confirm", map[string]string{"pending": p.str("pending"), "code": wrong}))
		if r["triesLeft"] != float64(left) || !strings.Contains(r.str("message"), "Осталось попыток") {
			t.Fatalf("try %d: %v", 5-left, r)
		}
	}
	refused(t, 400, "CODE_LOCKED", b.post("/api/account/confirm", map[string]string{"pending": p.str("pending"), "code": wrong}))
	// Locked: the right code no longer opens it.
	refused(t, 400, "CODE_LOCKED", b.post("/api/account/confirm", map[string]string{"pending": p.str("pending"), "code": code}))
	// A new code (after a minute) starts again.
	e.advance(61 * time.Second)
	must(t, b.post("/api/account/resend", map[string]string{"pending": p.str("pending")}))
	e.sms.Wait(t, "+79160000001", 2)
	must(t, b.post("/api/account/confirm", map[string]string{"pending": p.str("pending"), "code": e.sms.Code(t, "+79160000001")}))
}

func testResendTooSoon(t *testing.T, db database) {
	e := newEnv(t, db)
	b := e.browser()
	p := must(t, b.post("/api/account/register", map[string]string{"email": "resend@mail.ru", "password": pw}))
	first := e.smtp.Code(t, "resend@mail.ru")
	e.advance(20 * time.Second)
	r := refused(t, 429, "RESEND_TOO_SOON", b.post("/api/account/resend", map[string]string{"pending": p.str("pending")}))
	if ra := r["retryAfter"].(float64); ra < 39 || ra > 41 {
		t.Fatalf("retryAfter %v, want 40", ra)
	}
	if n := e.smtp.Count("resend@mail.ru"); n != 1 {
		t.Fatalf("%d mails after a refused resend", n)
	}
	e.advance(41 * time.Second)
	must(t, b.post("/api/account/resend", map[string]string{"pending": p.str("pending")}))
	e.smtp.Wait(t, "resend@mail.ru", 2)
	second := e.smtp.Code(t, "resend@mail.ru")
	if first != second {
		// The old code died with the resend.
		refused(t, 400, "WRONG_CODE", b.post("/api/account/confirm", map[string]string{"pending": p.str("pending"), "code": first}))
	}
	must(t, b.post("/api/account/confirm", map[string]string{"pending": p.str("pending"), "code": second}))
}

func testCodeExpires(t *testing.T, db database) {
	e := newEnv(t, db)
	b := e.browser()
	p := must(t, b.post("/api/account/register", map[string]string{"phone": "+79160000002", "password": pw}))
	code := e.sms.Code(t, "+79160000002")
	e.advance(10*time.Minute + time.Second)
	refused(t, 400, "CODE_EXPIRED", b.post("/api/account/confirm", map[string]string{"pending": p.str("pending"), "code": code}))

	p = must(t, b.post("/api/account/register", map[string]string{"phone": "+79160000003", "password": pw}))
	code = e.sms.Code(t, "+79160000003")
	must(t, b.post("/api/account/confirm", map[string]string{"pending": p.str("pending"), "code": code}))
	refused(t, 400, "CODE_EXPIRED", e.browser().post("/api/account/confirm", map[string]string{"pending": p.str("pending"), "code": code}))
	refused(t, 400, "CODE_EXPIRED", b.post("/api/account/confirm", map[string]string{"pending": "nonsense", "code": code}))
}

func testPasswordLogin(t *testing.T, db database) {
	e := newEnv(t, db)
	e.register(t, phone("+79160000004"), pw)
	b := e.browser()
	r := must(t, b.post("/api/account/login", map[string]string{"phone": "89160000004", "password": pw}))
	ss := r["account"].(map[string]any)["sessions"].([]any)
	if len(ss) != 2 {
		t.Fatalf("%d sessions, want the registration's and this one", len(ss))
	}
	for _, s := range ss {
		if s := s.(map[string]any); s["current"] == true && strings.Join(strs(s["amr"]), " ") != "pwd" {
			t.Fatalf("current session %v", s)
		}
	}
	refused(t, 401, "WRONG_CREDENTIALS", e.browser().post("/api/account/login", map[string]string{"phone": "89160000004", "password": pw + "x"}))
	refused(t, 401, "WRONG_CREDENTIALS", e.browser().post("/api/account/login", map[string]string{"phone": "89160000005", "password": pw}))
}

func testCodeLogin(t *testing.T, db database) {
	e := newEnv(t, db)
	e.register(t, email("code@mail.ru"), pw)
	b := e.browser()
	p := must(t, b.post("/api/account/code", map[string]string{"email": "code@mail.ru"}))
	e.smtp.Wait(t, "code@mail.ru", 2)
	m := e.smtp.Last(t, "code@mail.ru")
	if !strings.Contains(m.Text, "Код для входа") {
		t.Fatalf("mail %q", m.Text)
	}
	r := must(t, b.post("/api/account/code/login", map[string]string{"pending": p.str("pending"), "code": e.smtp.Code(t, "code@mail.ru")}))
	for _, s := range r["account"].(map[string]any)["sessions"].([]any) {
		if s := s.(map[string]any); s["current"] == true && strings.Join(strs(s["amr"]), " ") != "otp email" {
			t.Fatalf("current session %v", s)
		}
	}
	// A registration code is no login code.
	p2 := must(t, e.browser().post("/api/account/register", map[string]string{"email": "other@mail.ru", "password": pw}))
	refused(t, 400, "CODE_EXPIRED", e.browser().post("/api/account/code/login", map[string]string{"pending": p2.str("pending"), "code": e.smtp.Code(t, "other@mail.ru")}))
}

func testReset(t *testing.T, db database) {
	// What was granted on the sessions (an OIDC provider's tokens) hears
	// that a reset ended them all.
	var ended atomic.Int32
	e := newEnv(t, db, func(c *account.Config) {
		c.SessionsEnded = func(_ context.Context, _, sessionID string) {
			if sessionID == "" {
				ended.Add(1)
			}
		}
	})
	other, _ := e.register(t, phone("+79160000006"), pw)
	b := e.browser()
	p := must(t, b.post("/api/account/reset", map[string]string{"phone": "+79160000006"}))
	e.sms.Wait(t, "+79160000006", 2)
	code := e.sms.Code(t, "+79160000006")
	// A weak password is refused before the code is tried.
	for range 6 {
		refused(t, 400, "WEAK_PASSWORD", b.post("/api/account/reset/confirm", map[string]string{"pending": p.str("pending"), "code": code, "password": "123"}))
	}
	must(t, b.post("/api/account/reset/confirm", map[string]string{"pending": p.str("pending"), "code": code, "password": newPW}))
	if ended.Load() != 1 {
		t.Errorf("SessionsEnded heard of the reset %d times, want once", ended.Load())
	}
	refused(t, 401, "NOT_LOGGED_IN", other.get("/api/account/me"))
	refused(t, 401, "WRONG_CREDENTIALS", e.browser().post("/api/account/login", map[string]string{"phone": "+79160000006", "password": pw}))
	must(t, e.browser().post("/api/account/login", map[string]string{"phone": "+79160000006", "password": newPW}))
	refused(t, 400, "CODE_EXPIRED", b.post("/api/account/reset/confirm", map[string]string{"pending": p.str("pending"), "code": code, "password": pw}))
}

func testSessions(t *testing.T, db database) {
	e := newEnv(t, db)
	b, _ := e.register(t, email("sess@mail.ru"), pw)
	before := sessionCookie(t, b)
	must(t, b.post("/api/account/login", map[string]string{"email": "sess@mail.ru", "password": pw}))
	after := sessionCookie(t, b)
	if before == after {
		t.Fatal("the session cookie was not rotated on login")
	}
	// The cookie from before the login is dead: a planted one gains nothing.
	stale := e.browser()
	stale.c.Jar.SetCookies(mustURL(e.srv.URL), []*http.Cookie{{Name: account.SessionCookie, Value: before, Path: "/"}})
	refused(t, 401, "NOT_LOGGED_IN", stale.get("/api/account/me"))

	b2 := e.browser()
	must(t, b2.post("/api/account/login", map[string]string{"email": "sess@mail.ru", "password": pw}))
	me := must(t, b.get("/api/account/me"))
	ss := me["sessions"].([]any)
	if len(ss) != 2 {
		t.Fatalf("%d sessions", len(ss))
	}
	var otherID string
	for _, s := range ss {
		if s := s.(map[string]any); s["current"] != true {
			otherID = s["id"].(string)
		}
	}
	must(t, b.post("/api/account/sessions/"+otherID+"/logout", nil))
	refused(t, 401, "NOT_LOGGED_IN", b2.get("/api/account/me"))
	must(t, b.get("/api/account/me"))
	refused(t, 404, "NOT_FOUND", b.post("/api/account/sessions/"+otherID+"/logout", nil))

	b3 := e.browser()
	must(t, b3.post("/api/account/login", map[string]string{"email": "sess@mail.ru", "password": pw}))
	must(t, b.post("/api/account/sessions/logout-all", nil))
	refused(t, 401, "NOT_LOGGED_IN", b.get("/api/account/me"))
	refused(t, 401, "NOT_LOGGED_IN", b3.get("/api/account/me"))
	// After a logout the browser still has a token for the forms.
	must(t, b.post("/api/account/login", map[string]string{"email": "sess@mail.ru", "password": pw}))
	must(t, b.post("/api/account/logout", nil))
	refused(t, 401, "NOT_LOGGED_IN", b.get("/api/account/me"))
}

// testSessionExpiry: a session unused for 30 days ends, and none lives
// past a year however often it is used.
func testSessionExpiry(t *testing.T, db database) {
	e := newEnv(t, db)
	b, _ := e.register(t, email("idle@mail.ru"), pw)
	e.advance(29 * 24 * time.Hour)
	must(t, b.get("/api/account/me")) // used: the 30 days start again
	e.advance(29 * 24 * time.Hour)
	must(t, b.get("/api/account/me"))
	e.advance(31 * 24 * time.Hour)
	refused(t, 401, "NOT_LOGGED_IN", b.get("/api/account/me"))

	b2 := e.browser()
	must(t, b2.post("/api/account/login", map[string]string{"email": "idle@mail.ru", "password": pw}))
	for range 13 {
		e.advance(29 * 24 * time.Hour)
		if a := b2.get("/api/account/me"); a.code != 200 {
			refused(t, 401, "NOT_LOGGED_IN", a)
			return
		}
	}
	t.Fatal("a session used every 29 days lived past a year")
}

func sessionCookie(t testing.TB, b *browser) string {
	t.Helper()
	for _, c := range b.c.Jar.Cookies(mustURL(b.base)) {
		if c.Name == account.SessionCookie {
			return c.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

// TestCookies: the cookies are HttpOnly and SameSite=Lax everywhere, and
// Secure on an https origin.
func TestCookies(t *testing.T) {
	for _, tc := range []struct {
		origin string
		secure bool
	}{{"https://lk.example.ru", true}, {"http://127.0.0.1:8080", false}} {
		st, _ := sqlstore.OpenSQLite(context.Background(), t.TempDir()+"/a.db")
		defer st.Close()
		svc, err := account.New(account.Config{Store: st, Origin: tc.origin, Sender: &deliver.Outbox{}, Password: fastPassword, Log: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Seed(context.Background(), account.SeedAccount{Phone: "+79161112233", Password: pw}); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		svc.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/account/state", nil))
		var state struct{ CSRF string }
		jsonDecode(t, rec.Body.Bytes(), &state)
		pre := rec.Result().Cookies()
		req := httptest.NewRequest("POST", "/api/account/login", strings.NewReader(`{"phone":"+79161112233","password":"`+pw+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", state.CSRF)
		for _, c := range pre {
			req.AddCookie(c)
		}
		rec = httptest.NewRecorder()
		svc.Handler().ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("%s: login %d %s", tc.origin, rec.Code, rec.Body)
		}
		cookies := append(pre, rec.Result().Cookies()...)
		if len(cookies) < 2 {
			t.Fatalf("%s: cookies %v", tc.origin, cookies)
		}
		for _, c := range cookies {
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != tc.secure || c.Path != "/" {
				t.Errorf("%s: cookie %s: HttpOnly %v SameSite %v Secure %v", tc.origin, c.Name, c.HttpOnly, c.SameSite, c.Secure)
			}
		}
	}
}

func testCSRF(t *testing.T, db database) {
	e := newEnv(t, db)
	b, _ := e.register(t, phone("+79160000007"), pw)
	other := e.browser()
	posts := []string{
		"/api/account/register", "/api/account/confirm", "/api/account/resend", "/api/account/login", "/api/account/code",
		"/api/account/code/login", "/api/account/reset", "/api/account/reset/confirm", "/api/account/logout",
		"/api/account/sessions/logout-all", "/api/account/sessions/x/logout", "/api/account/certificates/challenge",
		"/api/account/certificates", "/api/account/certificates/x/unlink", "/api/account/login/certificate/challenge",
		"/api/account/login/certificate", "/api/account/login/certificate/confirm",
	}
	body := map[string]string{"phone": "+79160000007", "password": pw}
	for _, path := range posts {
		refused(t, 403, "CSRF", b.postWith(path, body, ""))
		// Another browser's token is not this one's.
		refused(t, 403, "CSRF", b.postWith(path, body, other.csrf))
	}
	// A cross-site form (not JSON) is refused even with a token.
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/account/logout", strings.NewReader("a=b"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", b.csrf)
	refused(t, 403, "CSRF", b.do(req))
	must(t, b.get("/api/account/me"))
}

func jsonDecode(t testing.TB, raw []byte, v any) {
	t.Helper()
	if err := jsonUnmarshal(raw, v); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
}

func testCertificates(t *testing.T, db database) {
	e := newEnv(t, db)
	ivan := e.pki.person(t, "Иванов Иван Иванович", "12345678901")
	// Not linked: refused, saying how to link.
	anon := e.browser()
	ch := must(t, anon.post("/api/account/login/certificate/challenge", nil))
	r := refused(t, 403, "CERT_NOT_LINKED", anon.post("/api/account/login/certificate", ivan.sign(t, e.origin, ch.str("challenge"))))
	if !strings.Contains(r.str("message"), "Сертификат не привязан к учётной записи") || !strings.Contains(r.str("message"), "Привязать сертификат") {
		t.Fatalf("message %q", r.str("message"))
	}
	// Linking needs a session.
	refused(t, 401, "NOT_LOGGED_IN", anon.post("/api/account/certificates/challenge", nil))

	b, _ := e.register(t, email("cert@mail.ru"), pw)
	ch = must(t, b.post("/api/account/certificates/challenge", nil))
	c := must(t, b.post("/api/account/certificates", ivan.sign(t, e.origin, ch.str("challenge"))))["certificate"].(map[string]any)
	if c["owner"] != "Иванов Иван Иванович" || c["snils"] != "123-456-789 01" || c["inn"] != "771234567890" || c["issuer"] != "Тестовый УЦ" || c["thumbprint"] == "" {
		t.Fatalf("certificate %v", c)
	}
	// Linked once only, to anyone.
	b2, _ := e.register(t, email("cert2@mail.ru"), pw)
	ch = must(t, b2.post("/api/account/certificates/challenge", nil))
	refused(t, 409, "CERT_ALREADY_LINKED", b2.post("/api/account/certificates", ivan.sign(t, e.origin, ch.str("challenge"))))

	// Certificate login into the account it is linked to.
	anon = e.browser()
	ch = must(t, anon.post("/api/account/login/certificate/challenge", nil))
	sig := ivan.sign(t, e.origin, ch.str("challenge"))
	acc := must(t, anon.post("/api/account/login/certificate", sig))["account"].(map[string]any)
	if acc["email"] != "cert@mail.ru" {
		t.Fatalf("logged into %v", acc)
	}
	// The same signature again: the challenge is used.
	refused(t, 401, "CHALLENGE_REPLAYED", e.browser().post("/api/account/login/certificate", sig))
	// Someone else's certificate chained to another root is refused by verify.

	// Unlink: then it no longer logs in.
	must(t, b.post("/api/account/certificates/"+c["id"].(string)+"/unlink", nil))
	refused(t, 404, "NOT_FOUND", b2.post("/api/account/certificates/"+c["id"].(string)+"/unlink", nil))
	if n := len(must(t, b.get("/api/account/me"))["certificates"].([]any)); n != 0 {
		t.Fatalf("%d certificates after unlink", n)
	}
	ch = must(t, anon.post("/api/account/login/certificate/challenge", nil))
	refused(t, 403, "CERT_NOT_LINKED", anon.post("/api/account/login/certificate", ivan.sign(t, e.origin, ch.str("challenge"))))
}

// session is the account service's view of b's session (the Go API the
// OpenID Connect provider uses).
func (e *env) session(t *testing.T, b *browser) *account.Session {
	t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL, nil)
	for _, c := range b.c.Jar.Cookies(mustURL(e.srv.URL)) {
		req.AddCookie(c)
	}
	_, sess, err := e.svc.Authenticate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

// testStepUp: a service wants a certificate inside a password session;
// only a certificate linked to that account is taken (another account's
// is refused, not a switch of accounts), the session keeps its id and
// gains "hwk" and the certificate; without a session there is nothing to
// step up; a certificate login records its certificate too.
func testStepUp(t *testing.T, db database) {
	e := newEnv(t, db)
	ivan := e.pki.person(t, "Иванов Иван Иванович", "12345678903")
	maria := e.pki.person(t, "Петрова Мария Сергеевна", "98765432104")
	link := func(b *browser, p person) string {
		ch := must(t, b.post("/api/account/certificates/challenge", nil))
		return must(t, b.post("/api/account/certificates", p.sign(t, e.origin, ch.str("challenge"))))["certificate"].(map[string]any)["thumbprint"].(string)
	}
	b, _ := e.register(t, email("stepup@mail.ru"), pw)
	ivanThumb := link(b, ivan)
	other, _ := e.register(t, email("stepup2@mail.ru"), pw)
	link(other, maria)

	b = e.browser()
	must(t, b.post("/api/account/login", map[string]string{"email": "stepup@mail.ru", "password": pw}))
	before := e.session(t, b)
	if before.Thumbprint != "" || strings.Join(before.AMR, " ") != "pwd" {
		t.Fatalf("password session %+v", before)
	}
	stepUp := func(b *browser, p person) answer {
		ch := must(t, b.post("/api/account/login/certificate/challenge", nil))
		body := map[string]any{"step_up": true}
		for k, v := range p.sign(t, e.origin, ch.str("challenge")) {
			body[k] = v
		}
		return b.post("/api/account/login/certificate", body)
	}
	// Another account's certificate: refused, and the session is as it was.
	refused(t, 403, "CERT_OTHER_ACCOUNT", stepUp(b, maria))
	if s := e.session(t, b); s.ID != before.ID || s.Thumbprint != "" || strings.Join(s.AMR, " ") != "pwd" {
		t.Fatalf("after a refused step-up: %+v", s)
	}
	// No session: nothing to step up.
	refused(t, 401, "NOT_LOGGED_IN", stepUp(e.browser(), ivan))
	// The account's own certificate.
	must(t, stepUp(b, ivan))
	after := e.session(t, b)
	if after.ID != before.ID || after.Thumbprint != ivanThumb || strings.Join(after.AMR, " ") != "pwd hwk" {
		t.Fatalf("after the step-up: %+v (before %+v)", after, before)
	}
	// A plain certificate login records its certificate.
	anon := e.browser()
	ch := must(t, anon.post("/api/account/login/certificate/challenge", nil))
	must(t, anon.post("/api/account/login/certificate", ivan.sign(t, e.origin, ch.str("challenge"))))
	if s := e.session(t, anon); s.Thumbprint != ivanThumb || strings.Join(s.AMR, " ") != "hwk" {
		t.Fatalf("certificate session %+v", s)
	}
}

// testChallengePurposes: a link challenge's signature does not log in,
// a login challenge's does not link, a link challenge of one session does
// not link in another, and a challenge of the plain demo login
// (verify.IssueChallenge, not the account service) does neither.
func testChallengePurposes(t *testing.T, db database) {
	e := newEnv(t, db)
	ivan := e.pki.person(t, "Иванов Иван Иванович", "12345678902")
	b, _ := e.register(t, email("purpose@mail.ru"), pw)
	b2, _ := e.register(t, email("purpose2@mail.ru"), pw)

	ch := must(t, b.post("/api/account/certificates/challenge", nil))
	refused(t, 400, "WRONG_PURPOSE", e.browser().post("/api/account/login/certificate", ivan.sign(t, e.origin, ch.str("challenge"))))

	ch = must(t, b.post("/api/account/login/certificate/challenge", nil))
	refused(t, 400, "WRONG_PURPOSE", b.post("/api/account/certificates", ivan.sign(t, e.origin, ch.str("challenge"))))

	ch = must(t, b.post("/api/account/certificates/challenge", nil))
	refused(t, 400, "WRONG_PURPOSE", b2.post("/api/account/certificates", ivan.sign(t, e.origin, ch.str("challenge"))))

	if n := len(must(t, b.get("/api/account/me"))["certificates"].([]any)); n != 0 {
		t.Fatalf("%d certificates linked by wrong-purpose signatures", n)
	}
	// Each refused challenge was burnt: the right endpoint refuses it now.
	ch = must(t, b.post("/api/account/certificates/challenge", nil))
	sig := ivan.sign(t, e.origin, ch.str("challenge"))
	refused(t, 400, "WRONG_PURPOSE", e.browser().post("/api/account/login/certificate", sig))
	refused(t, 401, "CHALLENGE_REPLAYED", b.post("/api/account/certificates", sig))
}

func testRenewal(t *testing.T, db database) {
	e := newEnv(t, db, func(c *account.Config) { c.Renewal = true })
	old := e.pki.person(t, "Петров Пётр Петрович", "11122233344")
	renewed := e.pki.person(t, "Петров Пётр Петрович", "11122233344")
	b, _ := e.register(t, phone("+79160000008"), pw)
	ch := must(t, b.post("/api/account/certificates/challenge", nil))
	must(t, b.post("/api/account/certificates", old.sign(t, e.origin, ch.str("challenge"))))

	anon := e.browser()
	ch = must(t, anon.post("/api/account/login/certificate/challenge", nil))
	r := refused(t, 409, "CERT_RENEWED", anon.post("/api/account/login/certificate", renewed.sign(t, e.origin, ch.str("challenge"))))
	if r.str("confirm") == "" || r["certificate"].(map[string]any)["snils"] != "111-222-333 44" {
		t.Fatalf("renewal %v", r)
	}
	// Only the browser that got it may confirm.
	refused(t, 400, "CODE_EXPIRED", e.browser().post("/api/account/login/certificate/confirm", map[string]string{"confirm": r.str("confirm")}))
	acc := must(t, anon.post("/api/account/login/certificate/confirm", map[string]string{"confirm": r.str("confirm")}))["account"].(map[string]any)
	if acc["phone"] != "+79160000008" || len(acc["certificates"].([]any)) != 2 {
		t.Fatalf("account %v", acc)
	}
	refused(t, 400, "CODE_EXPIRED", anon.post("/api/account/login/certificate/confirm", map[string]string{"confirm": r.str("confirm")}))
	// Another person's SNILS: not linked, no offer.
	stranger := e.pki.person(t, "Сидоров Сидор", "99988877766")
	ch = must(t, anon.post("/api/account/login/certificate/challenge", nil))
	refused(t, 403, "CERT_NOT_LINKED", anon.post("/api/account/login/certificate", stranger.sign(t, e.origin, ch.str("challenge"))))

	// Without Config.Renewal the same SNILS is not enough.
	e2 := newEnv(t, db)
	b, _ = e2.register(t, phone("+79160000009"), pw)
	ch = must(t, b.post("/api/account/certificates/challenge", nil))
	must(t, b.post("/api/account/certificates", old.sign(t, e2.origin, ch.str("challenge"))))
	ch = must(t, anon.post("/api/account/login/certificate/challenge", nil))
	anon2 := e2.browser()
	ch = must(t, anon2.post("/api/account/login/certificate/challenge", nil))
	refused(t, 403, "CERT_NOT_LINKED", anon2.post("/api/account/login/certificate", renewed.sign(t, e2.origin, ch.str("challenge"))))
}

func testPasswordGuessing(t *testing.T, db database) {
	e := newEnv(t, db)
	e.register(t, phone("+79160000010"), pw)
	b := e.browser()
	for i := range 10 {
		refused(t, 401, "WRONG_CREDENTIALS", b.post("/api/account/login", map[string]string{"phone": "+79160000010", "password": "guess-" + string(rune('a'+i)) + "123"}))
	}
	// The 11th attempt is refused before the password is looked at: even
	// the right one.
	r := refused(t, 429, "RATE_LIMITED", b.post("/api/account/login", map[string]string{"phone": "+79160000010", "password": pw}))
	if ra := r["retryAfter"].(float64); ra <= 0 || ra > 15*60 {
		t.Fatalf("retryAfter %v", ra)
	}
	e.advance(15*time.Minute + time.Second)
	must(t, b.post("/api/account/login", map[string]string{"phone": "+79160000010", "password": pw}))

	// Spraying one password over many accounts from one address stops at
	// the per-address limit.
	for i := range 60 {
		a := b.post("/api/account/login", map[string]string{"phone": "+7916100" + pad4(i), "password": pw})
		if a.code == 429 {
			if i < 49 {
				t.Fatalf("refused after %d attempts", i)
			}
			refused(t, 429, "RATE_LIMITED", a)
			return
		}
	}
	t.Fatal("60 attempts from one address were never limited")
}

func pad4(i int) string {
	s := "0000" + itoa(i)
	return s[len(s)-4:]
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func testCodeFlood(t *testing.T, db database) {
	e := newEnv(t, db)
	e.register(t, phone("+79160000011"), pw) // one code sent
	b := e.browser()
	for range 4 {
		must(t, b.post("/api/account/code", map[string]string{"phone": "+79160000011"}))
	}
	refused(t, 429, "RATE_LIMITED", b.post("/api/account/code", map[string]string{"phone": "+79160000011"}))
	refused(t, 429, "RATE_LIMITED", b.post("/api/account/reset", map[string]string{"phone": "+79160000011"}))
	e.sms.Wait(t, "+79160000011", 5)
	time.Sleep(50 * time.Millisecond)
	if n := e.sms.Count("+79160000011"); n != 5 {
		t.Fatalf("%d SMS, want 5 (a registration and 4 codes)", n)
	}
	// Code guessing across many codes from one address stops too.
	e2 := newEnv(t, db)
	b = e2.browser()
	guesses := 0
	for i := 0; guesses < 60; i++ {
		p := must(t, b.post("/api/account/code", map[string]string{"phone": "+7916200" + pad4(i)}))
		for range 5 {
			a := b.post("/api/account/code/login", map[string]string{"pending": p.str("pending"), "code": "123456"})
			guesses++
			if a.code == 429 {
				refused(t, 429, "RATE_LIMITED", a)
				if guesses <= 50 {
					t.Fatalf("limited after %d guesses", guesses)
				}
				return
			}
		}
		e2.advance(time.Minute) // past nothing but the resend; the check limit's window is 15 min
		if i%3 == 2 {
			e2.advance(-3 * time.Minute)
		}
	}
	t.Fatal("60 code guesses from one address were never limited")
}

func testNoEnumeration(t *testing.T, db database) {
	e := newEnv(t, db)
	e.register(t, phone("+79160000012"), pw)
	// Registration: the same answer for a taken phone; its owner is told.
	known := must(t, e.browser().post("/api/account/register", map[string]string{"phone": "+79160000012", "password": newPW}))
	unknown := must(t, e.browser().post("/api/account/register", map[string]string{"phone": "+79160000013", "password": newPW}))
	sameShape(t, known, unknown)
	e.sms.Wait(t, "+79160000012", 2)
	if m := e.sms.Last(t, "+79160000012"); !strings.Contains(m.Text, "уже есть учётная запись") {
		t.Fatalf("the owner was told %q", m.Text)
	}
	b := e.browser()
	refused(t, 409, "ALREADY_REGISTERED", b.post("/api/account/confirm", map[string]string{"pending": known.str("pending"), "code": e.sms.Code(t, "+79160000012")}))

	// One-time code and reset: same answer, nothing sent to nobody, every
	// code wrong.
	for path, check := range map[string]string{"/api/account/code": "/api/account/code/login", "/api/account/reset": "/api/account/reset/confirm"} {
		k := must(t, e.browser().post(path, phone("+79160000012")))
		u := must(t, e.browser().post(path, phone("+79160000014")))
		sameShape(t, k, u)
		for _, code := range []string{"123456", "000000", "999999"} {
			refused(t, 400, "WRONG_CODE", e.browser().post(check, map[string]string{"pending": u.str("pending"), "code": code, "password": newPW}))
		}
	}
	time.Sleep(100 * time.Millisecond)
	if n := e.sms.Count("+79160000014"); n != 0 {
		t.Fatalf("%d SMS to a phone without an account", n)
	}
	// Password login: byte for byte the same refusal.
	a := e.browser().post("/api/account/login", map[string]string{"phone": "+79160000012", "password": "wrong-password"}).body
	c := e.browser().post("/api/account/login", map[string]string{"phone": "+79160000015", "password": "wrong-password"}).body
	if a.str("code") != c.str("code") || a.str("message") != c.str("message") || len(a) != len(c) {
		t.Fatalf("known %v, unknown %v", a, c)
	}
}

// sameShape: two answers with the same members and the same values but
// for the opaque pending id.
func sameShape(t testing.TB, a, b reply) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("answers differ: %v / %v", a, b)
	}
	for k, v := range a {
		if k == "pending" || k == "sentTo" {
			continue
		}
		if b[k] != v {
			t.Fatalf("answers differ in %s: %v / %v", k, a, b)
		}
	}
}

func testSeed(t *testing.T, db database) {
	e := newEnv(t, db)
	ivan := e.pki.person(t, "Иванов Иван Иванович", "12345678903")
	seed := account.SeedAccount{Phone: "+7 (900) 000-00-01", Email: "demo@podpis.test", Password: "demo-пароль-1", Certificates: []*x509.Certificate{ivan.cert}}
	a, err := e.svc.Seed(context.Background(), seed)
	if err != nil {
		t.Fatal(err)
	}
	if a.Phone != "+79000000001" || a.Email != "demo@podpis.test" || len(a.Certificates) != 1 {
		t.Fatalf("seeded %+v", a)
	}
	a2, err := e.svc.Seed(context.Background(), seed)
	if err != nil || a2.ID != a.ID || len(a2.Certificates) != 1 {
		t.Fatalf("seed again: %+v %v", a2, err)
	}
	must(t, e.browser().post("/api/account/login", map[string]string{"email": "demo@podpis.test", "password": "demo-пароль-1"}))
	b := e.browser()
	ch := must(t, b.post("/api/account/login/certificate/challenge", nil))
	acc := must(t, b.post("/api/account/login/certificate", ivan.sign(t, e.origin, ch.str("challenge"))))["account"].(map[string]any)
	if acc["id"] != a.ID {
		t.Fatalf("certificate login into %v", acc["id"])
	}
	// The Go API an OpenID Connect provider uses.
	req, _ := http.NewRequest("GET", e.srv.URL, nil)
	for _, c := range b.c.Jar.Cookies(mustURL(e.srv.URL)) {
		req.AddCookie(c)
	}
	got, sess, err := e.svc.Authenticate(context.Background(), req)
	if err != nil || got.ID != a.ID || strings.Join(sess.AMR, " ") != "hwk" {
		t.Fatalf("Authenticate: %+v %+v %v", got, sess, err)
	}
	if _, _, err := e.svc.Authenticate(context.Background(), httptest.NewRequest("GET", "/", nil)); !errors.Is(err, account.ErrNotLoggedIn) {
		t.Fatalf("Authenticate without a cookie: %v", err)
	}
}
