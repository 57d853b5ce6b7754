package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/agent/keystore/pkcs11"
	"github.com/podpis/podpis/agent/wsapi"
	"github.com/podpis/podpis/certreq"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/enginetest"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/internal/testtoken"
	"github.com/podpis/podpis/verify"
)

var tokenEnv *testtoken.Env

func TestMain(m *testing.M) {
	env, err := testtoken.Setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tokenEnv = env
	code := m.Run()
	env.Cleanup()
	os.Exit(code)
}

// agreeing agrees to everything and knows the PIN; it counts the key and
// install windows.
type agreeing struct {
	mu                sync.Mutex
	newKeys, installs int
	declines          bool // answers «Отмена» to the key and install windows
}

func (p *agreeing) ConfirmOrigin(context.Context, string) (agent.Decision, error) {
	return agent.AllowAlways, nil
}
func (p *agreeing) ConfirmSign(context.Context, string, *keystore.Certificate, agent.SignSummary) (bool, error) {
	return true, nil
}
func (p *agreeing) PIN(context.Context, string, keystore.PINRequest) ([]byte, bool, error) {
	return []byte(testtoken.PIN), false, nil
}
func (p *agreeing) ConfirmNewKey(context.Context, string, agent.NewKeySummary) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.newKeys++
	return !p.declines, nil
}
func (p *agreeing) ConfirmInstall(context.Context, string, string, *keystore.Certificate) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.installs++
	return !p.declines, nil
}

// agentConn is the agent over the soft token, as a page at origin talks
// to it.
func agentConn(t *testing.T, origin string, who agent.Prompter) func(method string, params any) (json.RawMessage, *wsapi.Error) {
	t.Helper()
	store, err := pkcs11.New(context.Background(), pkcs11.Options{Modules: []string{tokenEnv.SoftToken}, OnlyModules: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	conn := wsapi.New(agent.New(agent.Config{Stores: []keystore.Store{store}, Prompter: who})).NewConn(origin, wsapi.Limits{})
	t.Cleanup(conn.Close)
	id := 0
	return func(method string, params any) (json.RawMessage, *wsapi.Error) {
		t.Helper()
		id++
		msg, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
		call, reply := conn.Receive(msg)
		if reply != nil {
			return nil, reply.Error
		}
		r, _ := call.Run()
		if r.Error != nil {
			return nil, r.Error
		}
		b, _ := json.Marshal(r.Result)
		return b, nil
	}
}

// site is the demo site with its CA, as podpis-demo init and serve make
// them.
func site(t *testing.T) (*httptest.Server, *demo) {
	t.Helper()
	dir := t.TempDir()
	if err := runInit([]string{"--dir", dir}); err != nil {
		t.Fatal(err)
	}
	roots, err := readCertificates(filepath.Join(dir, "roots.pem"))
	if err != nil {
		t.Fatal(err)
	}
	inters, err := readCertificates(filepath.Join(dir, "intermediates.pem"))
	if err != nil {
		t.Fatal(err)
	}
	d := &demo{install: &installer{}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if d.ca, err = loadCA(filepath.Join(dir, "intermediates.pem"), filepath.Join(dir, caKeyFile)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(nil)
	d.origin = srv.URL
	if d.v, err = verify.New(verify.Config{Origins: []string{srv.URL}, Roots: roots, Intermediates: inters}); err != nil {
		t.Fatal(err)
	}
	af := accountFlags{outbox: true, seed: true, renewal: true}
	svc, closeStore, err := af.open(context.Background(), dir, srv.URL, d.v, nil, d.log, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeStore() })
	d.account = svc
	srv.Config.Handler = d.routes()
	t.Cleanup(srv.Close)
	return srv, d
}

// accountClient is a browser of the account service: its cookies and the
// CSRF token the state gave.
type accountClient struct {
	*http.Client
	base, csrf string
}

func newAccountClient(t *testing.T, base string) *accountClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &accountClient{Client: &http.Client{Jar: jar}, base: base}
	resp, err := c.Get(base + "/api/account/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct{ CSRF string }
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || st.CSRF == "" {
		t.Fatalf("state: %v %+v", err, st)
	}
	c.csrf = st.CSRF
	return c
}

func (c *accountClient) post(t *testing.T, path string, in, out any) int {
	t.Helper()
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, c.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", c.csrf)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	json.NewDecoder(resp.Body).Decode(out)
	return resp.StatusCode
}

func postJSON(t *testing.T, url string, in, out any) int {
	t.Helper()
	b, _ := json.Marshal(in)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	json.NewDecoder(resp.Body).Decode(out)
	return resp.StatusCode
}

var newOwner = map[string]string{"CN": "Кузнецова Анна Павловна", "SN": "Кузнецова", "G": "Анна Павловна",
	"SNILS": "11223344595", "INN": "500100732259", "E": "kuznetsova@example.ru", "C": "RU", "KPP": "773301001"}

// TestIssueAndLogin is «Выпуск сертификата» without the browser: the
// agent makes the key and the request on the soft token (createRequest),
// the demo CA issues the certificate, the agent installs it
// (installCertificate), and its login signature verifies — and is refused
// by the account service until the certificate is linked to an account.
func TestIssueAndLogin(t *testing.T) {
	srv, _ := site(t)
	for _, alg := range []string{"tc26-256-a", "tc26-512-c", "cryptopro-xchb"} {
		t.Run(alg, func(t *testing.T) {
			who := &agreeing{}
			call := agentConn(t, srv.URL, who)
			owner := map[string]string{}
			for k, v := range newOwner {
				owner[k] = v
			}
			owner["CN"] += " " + alg
			res, perr := call("createRequest", map[string]any{"algorithm": alg, "subject": owner, "keyUsage": []string{"digitalSignature", "nonRepudiation", "keyEncipherment"}})
			if perr != nil {
				t.Fatalf("createRequest: %+v", perr)
			}
			var made wsapi.CreateRequestResult
			json.Unmarshal(res, &made)
			var issued struct{ Certificate, Message string }
			if code := postJSON(t, srv.URL+"/api/issue", map[string]string{"request": made.Request}, &issued); code != 200 {
				t.Fatalf("/api/issue: %d %s", code, issued.Message)
			}
			der, _ := base64.StdEncoding.DecodeString(issued.Certificate)
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			// The CA's own usage, not the request's keyEncipherment; and
			// KPP (unstructuredName), which it does not copy, is gone.
			if cert.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment || bytes.Contains(cert.RawSubject, []byte("773301001")) {
				t.Errorf("the CA copied what it should not: usage %v, subject %v", cert.KeyUsage, cert.Subject)
			}
			res, perr = call("installCertificate", map[string]any{"certificate": issued.Certificate})
			if perr != nil {
				t.Fatalf("installCertificate: %+v", perr)
			}
			var inst wsapi.Certificate
			json.Unmarshal(res, &inst)
			if !inst.HasKey || inst.Identity.SNILS != "11223344595" || inst.Identity.CommonName != owner["CN"] {
				t.Fatalf("installed %+v", inst)
			}
			if _, perr := call("installCertificate", map[string]any{"certificate": issued.Certificate}); perr == nil || perr.Code != wsapi.AlreadyInstalled {
				t.Errorf("installed twice: %+v", perr)
			}
			browser := newAccountClient(t, srv.URL)
			var ch struct{ Challenge string }
			if code := browser.post(t, "/api/account/login/certificate/challenge", nil, &ch); code != 200 {
				t.Fatalf("login challenge: %d", code)
			}
			res, perr = call("authenticate", map[string]any{"certificate": inst.ID, "challenge": ch.Challenge})
			if perr != nil {
				t.Fatalf("authenticate: %+v", perr)
			}
			var auth wsapi.AuthenticateResult
			json.Unmarshal(res, &auth)
			// The signature verifies and the certificate chains to the
			// demo CA (else BAD_SIGNATURE or UNTRUSTED); a new
			// certificate is linked to no account yet.
			var refused struct{ Code, Message string }
			if code := browser.post(t, "/api/account/login/certificate", map[string]string{"cms": auth.CMS}, &refused); code != http.StatusForbidden || refused.Code != "CERT_NOT_LINKED" {
				t.Fatalf("login with the new, unlinked certificate: %d %s %s", code, refused.Code, refused.Message)
			}
			// Nor does the demo's old certificate login, which took any
			// certificate of the roots, let it in by another door.
			var old map[string]any
			if code := postJSON(t, srv.URL+"/api/login", map[string]string{"cms": auth.CMS}, &old); code/100 == 2 {
				t.Errorf("/api/login answered %d: the unlinked certificate has a way around the account service", code)
			}
			if who.newKeys != 1 || who.installs != 1 {
				t.Errorf("%d key windows and %d install windows, want one each", who.newKeys, who.installs)
			}
		})
	}
}

// TestIssueRefusesForeignSignature: the CA issues only for a request
// signed by the key it carries — else anyone could get a certificate in
// their name for a key they saw (a request replayed with another key).
func TestIssueRefusesForeignSignature(t *testing.T) {
	_, d := site(t)
	key, _ := gost3410.GenerateKey(gost3410.CurveTC26256A, nil)
	other, _ := gost3410.GenerateKey(gost3410.CurveTC26256A, nil)
	subj, _ := certreq.ParseSubject("CN=Иванов Иван")
	der, err := certreq.Create(nil, &certreq.Request{Subject: subj}, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ca.issue(der, time.Now()); err != nil {
		t.Fatalf("a good request refused: %v", err)
	}
	theirs, _ := certreq.Create(nil, &certreq.Request{Subject: subj}, other)
	// The other key's signature on this key's request body.
	var a, b certificationRequest
	if _, err := asn1Unmarshal(der, &a); err != nil {
		t.Fatal(err)
	}
	asn1Unmarshal(theirs, &b)
	a.Signature = b.Signature
	forged, err := asn1Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ca.issue(forged, time.Now()); err == nil {
		t.Fatal("the CA issued for a request its key did not sign")
	}
	if _, err := d.ca.issue([]byte("junk"), time.Now()); err == nil {
		t.Fatal("the CA issued for junk")
	}
}

// TestEngineIssuesFromProtocolRequest: OpenSSL's GOST engine, as a CA
// (openssl ca), issues from a request made through the protocol on the
// soft token; podpis installs that certificate and a login with it
// verifies.
func TestEngineIssuesFromProtocolRequest(t *testing.T) {
	enginetest.Require(t)
	dir := t.TempDir()
	caKey := enginetest.GenKey(t, dir, enginetest.Paramset{Algorithm: "gost2012_256", Name: "TCA"})
	caCert := filepath.Join(dir, "ca.pem")
	enginetest.Run(t, nil, "req", "-engine", "gost", "-x509", "-new", "-key", caKey, "-subj", "/CN=OpenSSL CA", "-days", "30",
		"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", caCert)
	os.MkdirAll(filepath.Join(dir, "new"), 0o700)
	os.WriteFile(filepath.Join(dir, "index.txt"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, "serial"), []byte("1000\n"), 0o600)
	conf := filepath.Join(dir, "ca.cnf")
	os.WriteFile(conf, []byte("[ca]\ndefault_ca = x\n[x]\ndatabase = "+dir+"/index.txt\nnew_certs_dir = "+dir+"/new\nserial = "+dir+
		"/serial\ndefault_md = default\ndefault_days = 30\npolicy = any\ncopy_extensions = copy\nunique_subject = no\n[any]\ncommonName = supplied\n"), 0o600)

	const origin = "https://lk.example.ru"
	call := agentConn(t, origin, &agreeing{})
	owner := map[string]string{"CN": "Орлов Олег (OpenSSL)", "SNILS": "11223344595", "INN": "500100732259"}
	res, perr := call("createRequest", map[string]any{"algorithm": "gost2012_512", "paramSet": "A", "subject": owner})
	if perr != nil {
		t.Fatalf("createRequest: %+v", perr)
	}
	var made wsapi.CreateRequestResult
	json.Unmarshal(res, &made)
	der, _ := base64.StdEncoding.DecodeString(made.Request)
	csr := filepath.Join(dir, "req.pem")
	os.WriteFile(csr, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), 0o600)
	out := filepath.Join(dir, "cert.pem")
	enginetest.Run(t, nil, "ca", "-engine", "gost", "-batch", "-config", conf, "-cert", caCert, "-keyfile", caKey, "-preserveDN", "-notext", "-in", csr, "-out", out)
	pemText, _ := os.ReadFile(out)
	res, perr = call("installCertificate", map[string]any{"certificate": string(pemText)})
	if perr != nil {
		t.Fatalf("installCertificate of openssl ca's PEM: %+v", perr)
	}
	var inst wsapi.Certificate
	json.Unmarshal(res, &inst)
	root, err := x509.ParseCertificate(enginetest.ReadPEM(t, caCert))
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.New(verify.Config{Origins: []string{origin}, Roots: []*x509.Certificate{root}, Revocation: verify.RevocationOff})
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := v.IssueChallenge(context.Background(), origin)
	res, perr = call("authenticate", map[string]any{"certificate": inst.ID, "challenge": ch.Value})
	if perr != nil {
		t.Fatalf("authenticate: %+v", perr)
	}
	var auth wsapi.AuthenticateResult
	json.Unmarshal(res, &auth)
	cms, _ := base64.StdEncoding.DecodeString(auth.CMS)
	r, err := v.VerifyLogin(context.Background(), cms, origin)
	if err != nil || !strings.HasPrefix(r.Identity.CommonName, "Орлов Олег") {
		t.Fatalf("verify: %v %+v", err, r)
	}
}

func asn1Unmarshal(b []byte, v any) ([]byte, error) { return asn1.Unmarshal(b, v) }
func asn1Marshal(v any) ([]byte, error)             { return asn1.Marshal(v) }

// TestRefusedBeforeAnyWindow: on the real soft token, what the page got
// wrong and a certificate that is not the person's are refused before
// any window or PIN; «Отмена» leaves no key and no certificate behind.
func TestRefusedBeforeAnyWindow(t *testing.T) {
	srv, _ := site(t)
	keys := func() int {
		n := 0
		entries, _ := os.ReadDir(tokenEnv.SoftTokenDir)
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".key") {
				n++
			}
		}
		return n
	}
	who := &agreeing{declines: true}
	call := agentConn(t, srv.URL, who)
	before := keys()
	bad := map[string]string{"CN": "Иванов Иван", "INN": "500100732258"}
	if _, perr := call("createRequest", map[string]any{"algorithm": "tc26-256-a", "subject": bad}); perr == nil || perr.Code != wsapi.InvalidRequest || perr.Field != "INN" || perr.Message != "ИНН: неверное контрольное число" {
		t.Errorf("a wrong INN: %+v", perr)
	}
	if _, perr := call("createRequest", map[string]any{"algorithm": "tc26-256-z", "subject": newOwner}); perr == nil || perr.Code != wsapi.InvalidRequest || perr.Field != "algorithm" {
		t.Errorf("an unknown parameter set: %+v", perr)
	}
	if _, perr := call("createRequest", map[string]any{"algorithm": "tc26-256-a", "subject": newOwner, "token": "чужой"}); perr == nil || perr.Code != wsapi.TokenNotFound {
		t.Errorf("no such token: %+v", perr)
	}
	if who.newKeys != 0 {
		t.Fatalf("%d key windows for refused requests", who.newKeys)
	}
	if _, perr := call("createRequest", map[string]any{"algorithm": "tc26-256-a", "subject": newOwner}); perr == nil || perr.Code != wsapi.UserCancelled {
		t.Errorf("declined: %+v", perr)
	}
	if who.newKeys != 1 || keys() != before {
		t.Errorf("%d windows; %d keys after «Отмена», %d before", who.newKeys, keys(), before)
	}

	ca := testpki.Root(t, gost3410.CurveTC26256A, "Чужой УЦ", time.Now())
	foreign, _ := ca.Person(t, gost3410.CurveTC26256A, pkix.Name{CommonName: "Чужой"}, time.Now(), nil)
	for name, tc := range map[string]struct {
		cert string
		code wsapi.Code
	}{
		"someone else's certificate": {base64.StdEncoding.EncodeToString(foreign.Raw), wsapi.NoMatchingKey},
		"not a certificate":          {base64.StdEncoding.EncodeToString([]byte("это не сертификат")), wsapi.BadCertificate},
		"PEM of nothing":             {"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", wsapi.BadCertificate},
	} {
		if _, perr := call("installCertificate", map[string]any{"certificate": tc.cert}); perr == nil || perr.Code != tc.code {
			t.Errorf("%s: %+v, want %s", name, perr, tc.code)
		}
	}
	if who.installs != 0 {
		t.Errorf("%d install windows for refused certificates", who.installs)
	}
}

// TestInfoKeygen: info tells a page which algorithms the token makes, so
// that it offers only those; the token's label (which may name its owner)
// only once the person allowed the site.
func TestInfoKeygen(t *testing.T) {
	call := agentConn(t, "https://ca.example.ru", &agreeing{})
	keygen := func() []wsapi.KeygenToken {
		res, perr := call("info", nil)
		if perr != nil {
			t.Fatal(perr)
		}
		var info wsapi.InfoResult
		json.Unmarshal(res, &info)
		return info.Keygen
	}
	k := keygen()
	if len(k) != 1 || k[0].Token != "" || !slices.Contains(k[0].Algorithms, "tc26-256-a") || !slices.Contains(k[0].Algorithms, "tc26-512-c") {
		t.Fatalf("before the site was allowed: %+v", k)
	}
	call("certificates", nil) // the person answers «Разрешить всегда»
	if k := keygen(); len(k) != 1 || k[0].Token != "podpis soft token" {
		t.Fatalf("after the site was allowed: %+v", k)
	}
}
