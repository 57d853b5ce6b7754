package account_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podpis/podpis/account"
	"github.com/podpis/podpis/account/argon2id"
	"github.com/podpis/podpis/account/deliver"
	"github.com/podpis/podpis/account/deliver/delivertest"
	"github.com/podpis/podpis/account/ratelimit"
	"github.com/podpis/podpis/account/sqlstore"
	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/testpg"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/login"
	"github.com/podpis/podpis/verify"
)

// fastPassword keeps the suite quick; the cost is the benchmarks' and
// TestTimingUnknownAccount's business.
var fastPassword = argon2id.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// database opens a fresh Store of one kind for one test.
type database struct {
	name string
	open func(t testing.TB) account.Store
	dsn  func(t testing.TB) string // postgres: a fresh database's DSN
}

// sqliteDB opens a fresh SQLite database per test.
func sqliteDB() database {
	return database{name: "sqlite", open: func(t testing.TB) account.Store {
		s, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "account.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}}
}

// postgresDB starts PostgreSQL for t and opens a fresh database of it per
// test.
func postgresDB(t testing.TB) database {
	srv := testpg.Start(t)
	return database{name: "postgres", dsn: srv.NewDatabase, open: func(t testing.TB) account.Store {
		s, err := sqlstore.OpenPostgres(context.Background(), srv.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}}
}

// eachDatabase runs f on SQLite and on PostgreSQL (one server for all
// of f's subtests, a fresh database each).
func eachDatabase(t *testing.T, f func(t *testing.T, db database)) {
	t.Run("sqlite", func(t *testing.T) { f(t, sqliteDB()) })
	t.Run("postgres", func(t *testing.T) { f(t, postgresDB(t)) })
}

// pki is a GOST test CA with people under it.
type pki struct {
	root, inter *x509.Certificate
	issuing     *testpki.Issuer
}

var (
	pkiOnce sync.Once
	testPKI *pki
)

func newPKI(t testing.TB) *pki {
	pkiOnce.Do(func() {
		now := time.Now().Add(-time.Hour)
		root := testpki.Root(testpki.MainTB{TB: t}, gost3410.CurveTC26512A, "Тестовый корневой УЦ", now)
		issuing := root.SubCA(testpki.MainTB{TB: t}, gost3410.CurveTC26256A, "Тестовый УЦ", now)
		testPKI = &pki{root: root.Cert, inter: issuing.Cert, issuing: issuing}
	})
	return testPKI
}

// person is a certificate and its key.
type person struct {
	cert *x509.Certificate
	key  *gost3410.PrivateKey
}

// person issues a certificate for a new key naming snils.
func (p *pki) person(t testing.TB, name, snils string) person {
	cert, key := p.issuing.Person(t, gost3410.CurveTC26256A, pkix.Name{
		CommonName: name,
		ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: asn1.ObjectIdentifier{1, 2, 643, 100, 3}, Value: snils},
			{Type: asn1.ObjectIdentifier{1, 2, 643, 3, 131, 1, 1}, Value: "771234567890"},
		},
	}, time.Now().Add(-time.Hour), nil)
	return person{cert, key}
}

// sign signs a login of challenge for origin as the agent does, and
// returns the API's {"cms"} body.
func (p person) sign(t testing.TB, origin, challenge string) map[string]string {
	doc := login.NewDocument(origin, challenge, time.Now())
	der, err := cms.Sign(doc.Marshal(), p.cert, p.key, &cms.SignOptions{ContentType: login.OID})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"cms": base64.StdEncoding.EncodeToString(der)}
}

// env is one service under test with its delivery sinks and clock.
type env struct {
	t      testing.TB
	svc    *account.Service
	srv    *httptest.Server
	origin string
	store  account.Store
	smtp   *delivertest.SMTP
	sms    *delivertest.SMS
	pki    *pki
	skew   atomic.Int64 // added to the service's clock, ns
	// mount, when set before the server starts, makes its handler (the
	// service's and more).
	mount func(e *env) http.Handler
}

type option func(*account.Config)

func newEnv(t testing.TB, db database, opts ...option) *env {
	return newEnvMount(t, db, nil, opts...)
}

// newEnvMount is newEnv whose server serves mount's handler.
func newEnvMount(t testing.TB, db database, mount func(e *env) http.Handler, opts ...option) *env {
	t.Helper()
	e := &env{t: t, store: db.open(t), smtp: delivertest.StartSMTP(t), sms: delivertest.StartSMS(t, "gw-token"), pki: newPKI(t), mount: mount}
	e.srv = httptest.NewUnstartedServer(nil)
	e.origin = "http://" + e.srv.Listener.Addr().String()
	v, err := verify.New(verify.Config{Origins: []string{e.origin}, Roots: []*x509.Certificate{e.pki.root},
		Intermediates: []*x509.Certificate{e.pki.inter}, Revocation: verify.RevocationOff})
	if err != nil {
		t.Fatal(err)
	}
	cfg := account.Config{
		Store: e.store, Origin: e.origin, Verifier: v, Password: fastPassword,
		Sender: &deliver.Router{
			SMS:   &deliver.SMSGateway{URL: e.sms.URL, Token: "gw-token"},
			Email: &deliver.SMTP{Addr: e.smtp.Addr, From: "noreply@podpis.test"},
		},
		Now:     e.now,
		Log:     quiet,
		Limiter: &ratelimit.Memory{Now: e.now},
	}
	for _, o := range opts {
		o(&cfg)
	}
	if e.svc, err = account.New(cfg); err != nil {
		t.Fatal(err)
	}
	e.srv.Config.Handler = e.svc.Handler()
	if e.mount != nil {
		e.srv.Config.Handler = e.mount(e)
	}
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) now() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) }

// advance moves the service's clock (codes, resend, rate limits).
func (e *env) advance(d time.Duration) { e.skew.Add(int64(d)) }

// browser is one browser: its cookies and CSRF token.
type browser struct {
	t    testing.TB
	base string
	c    *http.Client
	csrf string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: e.t, base: e.srv.URL, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	a := b.get("/api/account/state")
	if a.code != 200 || a.body.str("csrf") == "" {
		e.t.Fatalf("state: %d %v", a.code, a.body)
	}
	return b
}

type reply map[string]any

func (r reply) str(k string) string { s, _ := r[k].(string); return s }

// answer is a call's status and JSON body.
type answer struct {
	code int
	body reply
}

func (b *browser) do(req *http.Request) answer {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	var out reply
	raw, _ := io.ReadAll(res.Body)
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out); err != nil {
			b.t.Fatalf("%s %s: %v: %s", req.Method, req.URL.Path, err, raw)
		}
	}
	if c := out.str("csrf"); c != "" {
		b.csrf = c
	}
	return answer{res.StatusCode, out}
}

func (b *browser) get(path string) answer {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	return b.do(req)
}

// post posts body as JSON with the browser's CSRF token.
func (b *browser) post(path string, body any) answer {
	b.t.Helper()
	return b.postWith(path, body, b.csrf)
}

func (b *browser) postWith(path string, body any, csrf string) answer {
	b.t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, b.base+path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	return b.do(req)
}

// must fails t unless the call answered 200.
func must(t testing.TB, a answer) reply {
	t.Helper()
	if a.code != 200 {
		t.Fatalf("answer %d %v", a.code, a.body)
	}
	return a.body
}

// refused fails t unless the call answered status with code and a
// Russian message.
func refused(t testing.TB, status int, want string, a answer) reply {
	t.Helper()
	code, r := a.code, a.body
	if code != status || r.str("code") != want {
		t.Fatalf("answer %d %v; want %d %s", code, r, status, want)
	}
	if m := r.str("message"); m == "" || !bytes.ContainsAny([]byte(m), "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ") {
		t.Fatalf("%s without a Russian message: %q", want, m)
	}
	return r
}

// register registers phone (or e-mail) with password through the API,
// reading the code from the sink, and returns the browser, logged in.
func (e *env) register(t testing.TB, who map[string]string, password string) (*browser, reply) {
	t.Helper()
	b := e.browser()
	body := map[string]string{"password": password}
	for k, v := range who {
		body[k] = v
	}
	p := must(t, b.post("/api/account/register", body))
	code := e.code(t, p, who)
	r := must(t, b.post("/api/account/confirm", map[string]string{"pending": p.str("pending"), "code": code}))
	return b, r
}

// code reads the last code sent to who (normalised as the sinks see it).
func (e *env) code(t testing.TB, p reply, who map[string]string) string {
	t.Helper()
	if _, ok := who["email"]; ok {
		return e.smtp.Code(t, normEmail(who["email"]))
	}
	return e.sms.Code(t, normPhone(who["phone"]))
}

func normPhone(s string) string {
	var d []byte
	for _, c := range []byte(s) {
		if c >= '0' && c <= '9' {
			d = append(d, c)
		}
	}
	if len(d) == 11 && d[0] == '8' {
		d[0] = '7'
	}
	return "+" + string(d)
}

func normEmail(s string) string {
	return string(bytes.ToLower(bytes.TrimSpace([]byte(s))))
}

func phone(p string) map[string]string { return map[string]string{"phone": p} }
func email(a string) map[string]string { return map[string]string{"email": a} }
