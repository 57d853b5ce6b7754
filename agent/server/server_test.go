package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/doctor"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/agent/keystore/pkcs11"
	"github.com/podpis/podpis/agent/prompt"
	"github.com/podpis/podpis/agent/wsapi"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/enginetest"
	"github.com/podpis/podpis/internal/testdeps"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/internal/testtoken"
	"github.com/podpis/podpis/verify"
)

const site = "https://lk.example.ru"

var (
	env     *testtoken.Env
	ca      *testpki.Issuer
	certID  string
	hsmCert *x509.Certificate
)

func TestMain(m *testing.M) {
	if os.Getenv(peerHelperEnv) != "" {
		os.Exit(peerHelper())
	}
	var err error
	env, err = testtoken.Setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	t := testpki.MainTB{}
	ca = testpki.Root(t, gost3410.CurveTC26512A, "Agent test CA", time.Now())
	cert, key := ca.Person(t, gost3410.CurveTC26256A, pkix.Name{CommonName: "Агентов Агент",
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: []int{1, 2, 643, 3, 131, 1, 1}, Value: "500100732259"}}}, time.Now(), nil)
	if err := env.AddToSoftToken("agentov", key, cert); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	certID = keystore.Examine(cert, true, time.Now()).ID
	if env.SoftHSM != "" {
		ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		hsmCert = testpki.Issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "HSM ECDSA"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature},
			ca.Cert, ek.Public(), ca.Key)
		if err := env.AddToSoftHSM("0a", "hsm-ecdsa", ek, hsmCert); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	env.Cleanup()
	os.Exit(code)
}

type harness struct {
	addr  string
	ca    *x509.Certificate
	agent *agent.Agent
	srv   *Server
}

// start runs a server on a loopback port with the soft token.
func start(t *testing.T, cfg agent.Config) *harness {
	t.Helper()
	l, err := Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, cfg, l, &Server{})
}

// serve is start on l, with what srv already holds (a log, the prompt
// pages) kept.
func serve(t *testing.T, cfg agent.Config, l net.Listener, srv *Server) *harness {
	t.Helper()
	p, err := pkcs11.New(context.Background(), pkcs11.Options{Modules: []string{env.SoftToken}, OnlyModules: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Stores = []keystore.Store{p}
	if cfg.Prompter == nil {
		cfg.Prompter = &prompt.NonInteractive{Secret: []byte(testtoken.PIN)}
	}
	cfg.Version = "test"
	a := agent.New(cfg)
	tlsCfg, caCert, err := LoadOrCreateTLS(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv.API, srv.TLS = wsapi.New(a), tlsCfg
	go srv.Serve(l)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return &harness{addr: l.Addr().String(), ca: caCert, agent: a, srv: srv}
}

func headless(trusted ...agent.Rule) agent.Config {
	return agent.Config{Trusted: trusted, OnlyTrusted: true}
}

func (h *harness) dial(t *testing.T, origin string, tlsOn bool) (*websocket.Conn, *http.Response, error) {
	hdr := http.Header{}
	if origin != "" {
		hdr.Set("Origin", origin)
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	url := "ws://" + h.addr + "/"
	if tlsOn {
		pool := x509.NewCertPool()
		pool.AddCert(h.ca)
		d.TLSClientConfig = &tls.Config{RootCAs: pool}
		url = "wss://" + h.addr + "/"
	}
	return d.Dial(url, hdr)
}

type client struct {
	t  *testing.T
	ws *websocket.Conn
	id int
}

func (c *client) call(method string, params any) wsapi.Response {
	c.t.Helper()
	c.id++
	raw, _ := json.Marshal(params)
	if err := c.ws.WriteJSON(wsapi.Request{ID: json.RawMessage(fmt.Sprint(c.id)), Method: method, Params: raw}); err != nil {
		c.t.Fatal(err)
	}
	var r struct {
		ID     json.RawMessage
		Result json.RawMessage
		Error  *wsapi.Error
	}
	c.ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for len(r.ID) == 0 { // notices (a batch's progress) have no id
		if err := c.ws.ReadJSON(&r); err != nil {
			c.t.Fatal(err)
		}
	}
	if string(r.ID) != fmt.Sprint(c.id) {
		c.t.Fatalf("response id %s to request %d", r.ID, c.id)
	}
	return wsapi.Response{ID: r.ID, Result: r.Result, Error: r.Error}
}

func connect(t *testing.T, h *harness, origin string, tlsOn bool) *client {
	t.Helper()
	ws, _, err := h.dial(t, origin, tlsOn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return &client{t: t, ws: ws}
}

// TestLoginFlow: info, certificates and authenticate over ws and wss, the
// CMS accepted by verify for the origin of the connection.
func TestLoginFlow(t *testing.T) {
	defer env.ResetPIN()
	h := start(t, headless(site))
	for _, tlsOn := range []bool{false, true} {
		c := connect(t, h, site, tlsOn)
		if r := c.call("info", nil); r.Error != nil || !strings.Contains(string(r.Result.(json.RawMessage)), `"protocol":2`) {
			t.Fatalf("info: %+v %s", r.Error, r.Result)
		}
		r := c.call("certificates", map[string]any{"onlyValid": true})
		var certs wsapi.CertificatesResult
		if r.Error != nil || json.Unmarshal(r.Result.(json.RawMessage), &certs) != nil || len(certs.Certificates) != 1 || certs.Certificates[0].ID != certID {
			t.Fatalf("certificates: %+v %s", r.Error, r.Result)
		}
		v, _ := verify.New(verify.Config{Origins: []string{site}, Roots: []*x509.Certificate{ca.Cert}})
		ch, _ := v.IssueChallenge(context.Background(), site)
		r = c.call("authenticate", wsapi.AuthenticateParams{Certificate: certID, Challenge: ch.Value})
		var auth wsapi.AuthenticateResult
		if r.Error != nil || json.Unmarshal(r.Result.(json.RawMessage), &auth) != nil {
			t.Fatalf("authenticate: %+v", r.Error)
		}
		der, _ := base64.StdEncoding.DecodeString(auth.CMS)
		res, err := v.VerifyLogin(context.Background(), der, site)
		if err != nil || res.Identity.INN != "500100732259" {
			t.Fatalf("tls=%v: login does not verify: %v", tlsOn, err)
		}
	}
}

func TestSignMethod(t *testing.T) {
	h := start(t, headless(site))
	c := connect(t, h, site, false)
	data := []byte("Платёжное поручение № 7")
	r := c.call("sign", wsapi.SignParams{Certificate: certID, Data: base64.StdEncoding.EncodeToString(data), Detached: true, Description: "Платёжка"})
	var res wsapi.SignResult
	if r.Error != nil || json.Unmarshal(r.Result.(json.RawMessage), &res) != nil {
		t.Fatalf("sign: %+v", r.Error)
	}
	der, _ := base64.StdEncoding.DecodeString(res.CMS)
	v, _ := verify.New(verify.Config{Roots: []*x509.Certificate{ca.Cert}})
	if _, err := v.VerifySignature(context.Background(), der, data); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []any{
		wsapi.SignParams{Certificate: certID, Data: "not base64!"},
		wsapi.SignParams{Certificate: certID, Data: ""},
		map[string]any{"certificate": certID, "data": "AA==", "unexpected": 1},
		wsapi.SignParams{Certificate: certID, Data: "AA==", Description: strings.Repeat("я", 501)},
	} {
		if r := c.call("sign", bad); r.Error == nil || r.Error.Code != wsapi.BadRequest {
			t.Errorf("%+v: %+v", bad, r.Error)
		}
	}
	if r := c.call("sign", wsapi.SignParams{Certificate: strings.Repeat("0", 40), Data: "AA=="}); r.Error == nil || r.Error.Code != wsapi.CertNotFound {
		t.Errorf("unknown certificate: %+v", r.Error)
	}
}

// TestRefusals: the table of what must not get through.
func TestRefusals(t *testing.T) {
	h := start(t, headless(site, "https://*.gosuslugi.example"))
	for _, o := range []struct {
		origin string
		ok     bool
	}{
		{site, true}, {"https://lk.example.ru:443", true}, {"https://esia.gosuslugi.example", true},
		{"https://evil.example", false}, {"", false}, {"http://lk.example.ru", false}, {"null", false},
		{"https://gosuslugi.example", false}, {"https://lk.example.ru.evil.example", false},
	} {
		ws, resp, err := h.dial(t, o.origin, false)
		if (err == nil) != o.ok {
			t.Errorf("origin %q: connected=%v, want %v", o.origin, err == nil, o.ok)
		}
		if err == nil {
			ws.Close()
		} else if resp != nil && resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q: status %d", o.origin, resp.StatusCode)
		}
	}
	// DNS rebinding: the right origin, a Host that is a name.
	req, _ := http.NewRequest("GET", "http://"+h.addr+"/v1/info", nil)
	req.Host = "evil.example:" + strings.Split(h.addr, ":")[1]
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("rebinding Host: %v %v", err, resp)
	}
	c := connect(t, h, site, false)
	if r := c.call("frobnicate", nil); r.Error == nil || r.Error.Code != wsapi.UnknownMethod {
		t.Errorf("unknown method: %+v", r.Error)
	}
	c.ws.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"method":`))
	var bad wsapi.Response
	c.ws.ReadJSON(&bad)
	if bad.Error == nil || bad.Error.Code != wsapi.BadRequest {
		t.Errorf("malformed JSON: %+v", bad)
	}
	// An oversize frame is answered TOO_LARGE, with its id (issue 24).
	big := fmt.Sprintf(`{"id":2,"method":"sign","params":{"data":%q}}`, strings.Repeat("A", 2<<20))
	c.ws.WriteMessage(websocket.TextMessage, []byte(big))
	c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var tl wsapi.Response
	if err := c.ws.ReadJSON(&tl); err != nil || string(tl.ID) != "2" || tl.Error == nil || tl.Error.Code != wsapi.TooLargeCode {
		t.Errorf("oversize frame: %v %s %+v", err, tl.ID, tl.Error)
	}
}

func TestInfoEndpoint(t *testing.T) {
	h := start(t, headless(site))
	req, _ := http.NewRequest("OPTIONS", "http://"+h.addr+"/v1/info", nil)
	req.Header.Set("Origin", site)
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Private-Network", "true")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.Header.Get("Access-Control-Allow-Private-Network") != "true" || resp.Header.Get("Access-Control-Allow-Origin") != site {
		t.Fatalf("preflight: %v %v", err, resp.Header)
	}
	req, _ = http.NewRequest("GET", "http://"+h.addr+"/v1/info", nil)
	req.Header.Set("Origin", "https://evil.example")
	if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("evil origin got CORS: %v", resp.Header)
	}
	resp, err = http.Get("http://" + h.addr + "/v1/info")
	var info map[string]any
	if err != nil || json.NewDecoder(resp.Body).Decode(&info) != nil || info["product"] != "podpis" || info["protocol"] != float64(2) {
		t.Fatalf("info: %v %v", err, info)
	}
}

// TestPINAndToken: a wrong PIN is reported (the counter moves once) and a
// token removed mid-operation gives TOKEN_REMOVED.
func TestPINAndToken(t *testing.T) {
	defer env.ResetPIN()
	h := start(t, agent.Config{Trusted: []agent.Rule{site}, OnlyTrusted: true, Prompter: &prompt.NonInteractive{Secret: []byte("0000")}})
	c := connect(t, h, site, false)
	r := c.call("authenticate", wsapi.AuthenticateParams{Certificate: certID, Challenge: "abc"})
	if r.Error == nil || r.Error.Code != wsapi.PINIncorrect || r.Error.Message != "Неверный PIN-код" || env.PINFailures() != 1 {
		t.Fatalf("wrong PIN: %+v, counter %d", r.Error, env.PINFailures())
	}
	// The headless PIN was refused: it is not offered to the token again,
	// however many requests follow (tokens lock after three).
	for i := 0; i < 3; i++ {
		r = c.call("authenticate", wsapi.AuthenticateParams{Certificate: certID, Challenge: "abc"})
		if r.Error == nil || r.Error.Code != wsapi.PINRequired || env.PINFailures() != 1 {
			t.Fatalf("after a refused headless PIN: %+v, counter %d", r.Error, env.PINFailures())
		}
	}
	env.ResetPIN()
	h2 := start(t, agent.Config{Trusted: []agent.Rule{site}, OnlyTrusted: true, Prompter: &removing{}})
	c2 := connect(t, h2, site, false)
	defer env.Marker(".removed", false)
	if r := c2.call("authenticate", wsapi.AuthenticateParams{Certificate: certID, Challenge: "abc"}); r.Error == nil || r.Error.Code != wsapi.TokenRemoved {
		t.Fatalf("token removed: %+v", r.Error)
	}
}

// removing pulls the token out while the PIN is being asked.
type removing struct{ prompt.NonInteractive }

func (*removing) PIN(ctx context.Context, origin string, req keystore.PINRequest) ([]byte, bool, error) {
	env.Marker(".removed", true)
	return []byte(testtoken.PIN), false, nil
}

// asking is a prompter that records and answers as told.
type asking struct {
	decision agent.Decision
	origins  atomic.Int32
	hold     chan struct{}
}

func (a *asking) ConfirmOrigin(ctx context.Context, origin string) (agent.Decision, error) {
	a.origins.Add(1)
	if a.hold != nil {
		select {
		case <-a.hold:
		case <-ctx.Done():
			return agent.Deny, ctx.Err()
		}
	}
	return a.decision, nil
}
func (a *asking) ConfirmSign(context.Context, string, *keystore.Certificate, agent.SignSummary) (bool, error) {
	return false, nil
}
func (a *asking) PIN(context.Context, string, keystore.PINRequest) ([]byte, bool, error) {
	return []byte(testtoken.PIN), false, nil
}

// TestConsent: an untrusted origin is asked about once when remembered,
// refused when denied; a second prompt while one is open is BUSY; cancel
// ends a waiting request; a document from an untrusted origin needs the
// person's approval.
func TestConsent(t *testing.T) {
	p := &asking{decision: agent.AllowAlways}
	h := start(t, agent.Config{Prompter: p})
	c := connect(t, h, "https://new.example", false)
	for i := 0; i < 3; i++ {
		if r := c.call("certificates", nil); r.Error != nil {
			t.Fatal(r.Error)
		}
	}
	if p.origins.Load() != 1 {
		t.Fatalf("asked %d times", p.origins.Load())
	}
	if r := c.call("sign", wsapi.SignParams{Certificate: certID, Data: "AA=="}); r.Error == nil || r.Error.Code != wsapi.UserCancelled {
		t.Fatalf("document without approval: %+v", r.Error)
	}
	deny := &asking{decision: agent.Deny}
	c2 := connect(t, start(t, agent.Config{Prompter: deny}), "https://other.example", false)
	if r := c2.call("certificates", nil); r.Error == nil || r.Error.Code != wsapi.OriginDenied {
		t.Fatalf("denied: %+v", r.Error)
	}

	held := &asking{decision: agent.AllowOnce, hold: make(chan struct{})}
	hh := start(t, agent.Config{Prompter: held})
	c3 := connect(t, hh, "https://slow.example", false)
	c3.ws.WriteJSON(wsapi.Request{ID: json.RawMessage("100"), Method: "certificates"})
	for held.origins.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	c4 := connect(t, hh, "https://slow.example", false)
	if r := c4.call("certificates", nil); r.Error == nil || r.Error.Code != wsapi.Busy {
		t.Fatalf("second prompt: %+v", r.Error)
	}
	c3.ws.WriteJSON(wsapi.Request{ID: json.RawMessage("101"), Method: "cancel", Params: json.RawMessage(`{"id":100}`)})
	got := map[string]wsapi.Code{}
	for i := 0; i < 2; i++ {
		var r struct {
			ID    json.RawMessage
			Error *wsapi.Error
		}
		c3.ws.ReadJSON(&r)
		if r.Error != nil {
			got[string(r.ID)] = r.Error.Code
		} else {
			got[string(r.ID)] = "OK"
		}
	}
	if got["100"] != wsapi.UserCancelled || got["101"] != "OK" {
		t.Fatalf("cancel: %v", got)
	}
}

func TestPortFallback(t *testing.T) {
	taken, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	free, _ := net.Listen("tcp4", "127.0.0.1:0")
	freePort := free.Addr().(*net.TCPAddr).Port
	free.Close()
	l, err := Listen("", []int{taken.Addr().(*net.TCPAddr).Port, freePort})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if !strings.HasSuffix(l.Addr().String(), fmt.Sprint(freePort)) || !strings.HasPrefix(l.Addr().String(), "127.0.0.1:") {
		t.Fatalf("listening on %s", l.Addr())
	}
	if _, err := Listen("0.0.0.0:0", nil); err == nil {
		t.Fatal("listened on every interface")
	}
}

func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1:24730": true, "127.0.0.1": true, "[::1]:24730": true, "[::1]": true,
		"localhost:24730": false, "evil.example:24730": false, "127.0.0.1.evil.example": false,
		"127.1:24730": false, "0x7f000001:24730": false, "127.0.0.2:24730": false, "": false, "127.0.0.1:": false,
	} {
		if got := loopbackHost(host); got != want {
			t.Errorf("loopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestSoftHSMThroughAgent: a SoftHSM2 ECDSA key signs through the agent
// next to the soft token; OpenSSL verifies what both produce.
func TestSoftHSMThroughAgent(t *testing.T) {
	if env.SoftHSM == "" {
		testdeps.Deps.Missing(t, "SoftHSM2 is not installed (Debian softhsm2)")
	}
	enginetest.Require(t)
	p, err := pkcs11.New(context.Background(), pkcs11.Options{Modules: []string{env.SoftToken, env.SoftHSM}, OnlyModules: true})
	if err != nil {
		t.Fatal(err)
	}
	a := agent.New(agent.Config{Stores: []keystore.Store{p}, Prompter: &prompt.NonInteractive{Secret: []byte(testtoken.PIN)},
		Trusted: []agent.Rule{site}, OnlyTrusted: true})
	l, _ := Listen("127.0.0.1:0", nil)
	srv := &Server{API: wsapi.New(a)}
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())
	c := connect(t, &harness{addr: l.Addr().String()}, site, false)
	dir := t.TempDir()
	caPath := filepath.Join(dir, "ca.pem")
	os.WriteFile(caPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw}), 0o600)
	data := []byte("подписано через агент")
	for _, id := range []string{certID, keystore.Examine(hsmCert, true, time.Now()).ID} {
		r := c.call("sign", wsapi.SignParams{Certificate: id, Data: base64.StdEncoding.EncodeToString(data)})
		var res wsapi.SignResult
		if r.Error != nil || json.Unmarshal(r.Result.(json.RawMessage), &res) != nil {
			t.Fatalf("%s: %+v", id, r.Error)
		}
		der, _ := base64.StdEncoding.DecodeString(res.CMS)
		sig := filepath.Join(dir, "sig.der")
		os.WriteFile(sig, der, 0o600)
		if out, err := enginetest.Try(nil, "cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER", "-in", sig,
			"-CAfile", caPath, "-purpose", "any", "-out", os.DevNull); err != nil {
			t.Fatalf("%s: OpenSSL rejects the agent's CMS: %v\n%s", id, err, out)
		}
	}
}

// panicky is a key store with a bug.
type panicky struct{ keystore.Store }

func (panicky) Name() string { return "panicky" }
func (panicky) Certificates(context.Context) ([]*keystore.Certificate, error) {
	panic("a bug in a store")
}

// TestHandlerPanic: a crashing handler answers INTERNAL and the agent
// keeps serving the same connection.
func TestHandlerPanic(t *testing.T) {
	a := agent.New(agent.Config{Stores: []keystore.Store{panicky{}}, Trusted: []agent.Rule{site}, OnlyTrusted: true})
	l, _ := Listen("127.0.0.1:0", nil)
	srv := &Server{API: wsapi.New(a)}
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())
	c := connect(t, &harness{addr: l.Addr().String()}, site, false)
	if r := c.call("certificates", nil); r.Error == nil || r.Error.Code != wsapi.Internal {
		t.Fatalf("panic: %+v", r.Error)
	}
	if r := c.call("info", nil); r.Error != nil {
		t.Fatalf("after a panic: %+v", r.Error)
	}
}

// TestInfoFindings: info carries doctor's findings, so the page can say why
// login cannot work, and a site the person has not trusted learns nothing
// personal from them.
func TestInfoFindings(t *testing.T) {
	h := start(t, agent.Config{Diagnose: func(ctx context.Context) agent.Diagnosis {
		return doctor.Examine(ctx, doctor.Options{Candidates: pkcs11.CandidatePaths([]string{env.SoftToken})}).Diagnosis()
	}})
	var info wsapi.InfoResult
	r := connect(t, h, "https://any.example", false).call("info", nil)
	if r.Error != nil || json.Unmarshal(r.Result.(json.RawMessage), &info) != nil || !info.Ready || !hasCode(info.Findings, "READY") {
		t.Fatalf("healthy soft token: %+v %s", r.Error, r.Result)
	}

	expired := agent.Finding{Code: "CERT_EXPIRED", Severity: "warning", Title: "Сертификат «Агентов Агент» истёк", Personal: true}
	broken := agent.Finding{Code: "MODULE_NOT_LOADABLE", Severity: "problem", Title: "Модуль Rutoken не загружается",
		Cause: "/usr/lib/librtpkcs11ecp.so: built for EM_386"}
	h = start(t, agent.Config{Trusted: []agent.Rule{site},
		Diagnose: func(context.Context) agent.Diagnosis {
			return agent.Diagnosis{Findings: []agent.Finding{expired, broken}}
		}})
	sent := func(f agent.Finding) wsapi.Finding { // Personal is not sent
		return wsapi.Finding{Code: f.Code, Severity: f.Severity, Title: f.Title, Cause: f.Cause, Fix: f.Fix}
	}
	for origin, want := range map[string][]wsapi.Finding{
		site:                  {sent(expired), sent(broken)},
		"https://any.example": {{Code: broken.Code, Severity: broken.Severity, Title: broken.Title}},
	} {
		r := connect(t, h, origin, false).call("info", nil)
		info = wsapi.InfoResult{}
		if r.Error != nil || json.Unmarshal(r.Result.(json.RawMessage), &info) != nil || info.Ready {
			t.Fatalf("%s: %+v %s", origin, r.Error, r.Result)
		}
		if !reflect.DeepEqual(info.Findings, want) {
			t.Errorf("%s: findings %+v, want %+v", origin, info.Findings, want)
		}
	}
}

func hasCode(fs []wsapi.Finding, code string) bool {
	return slices.ContainsFunc(fs, func(f wsapi.Finding) bool { return f.Code == code })
}
