//go:build linux

package nativehost

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/agent/keystore/pkcs11"
	"github.com/podpis/podpis/agent/wsapi"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/internal/testtoken"
	"github.com/podpis/podpis/verify"
)

const site = "https://lk.example.ru"

var (
	env    *testtoken.Env
	ca     *testpki.Issuer
	certID string
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(otherHelper())
	}
	var err error
	env, err = testtoken.Setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	t := testpki.MainTB{}
	ca = testpki.Root(t, gost3410.CurveTC26512A, "Native test CA", time.Now())
	cert, key := ca.Person(t, gost3410.CurveTC26256A, pkix.Name{CommonName: "Нативов Натив",
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: []int{1, 2, 643, 3, 131, 1, 1}, Value: "500100732259"}}}, time.Now(), nil)
	if err := env.AddToSoftToken("nativov", key, cert); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	certID = keystore.Examine(cert, true, time.Now()).ID
	code := m.Run()
	env.Cleanup()
	os.Exit(code)
}

// prompter answers the PIN like podpis run --headless; with block, it
// holds every signature's approval until the request is cancelled.
type prompter struct{ block bool }

func (p *prompter) ConfirmOrigin(ctx context.Context, origin string) (agent.Decision, error) {
	return agent.Deny, nil
}

func (p *prompter) ConfirmSign(ctx context.Context, origin string, cert *keystore.Certificate, what agent.SignSummary) (bool, error) {
	if p.block {
		<-ctx.Done()
		return false, ctx.Err()
	}
	return true, nil
}

func (p *prompter) PIN(ctx context.Context, origin string, req keystore.PINRequest) ([]byte, bool, error) {
	return []byte(testtoken.PIN), true, nil
}

// startAgent serves an agent with the soft token, trusting site, on a
// channel in a fresh runtime folder, and returns the socket's path.
func startAgent(t testing.TB, p agent.Prompter) (string, *wsapi.API) {
	t.Helper()
	store, err := pkcs11.New(context.Background(), pkcs11.Options{Modules: []string{env.SoftToken}, OnlyModules: true})
	if err != nil {
		t.Fatal(err)
	}
	a := agent.New(agent.Config{Stores: []keystore.Store{store}, Trusted: []agent.Rule{site}, OnlyTrusted: true, Prompter: p, Version: "test"})
	api := wsapi.New(a)
	path := filepath.Join(runtimeDir(t), "podpis", "agent.sock")
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	ch := &Channel{API: api}
	go ch.Serve(l)
	t.Cleanup(func() { ch.Close() })
	return path, api
}

// runtimeDir is a short folder (a socket's path has ~108 bytes at most).
func runtimeDir(t testing.TB) string {
	d, err := os.MkdirTemp("", "pn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// browser is the extension's end of a host: it writes envelopes to the
// host's stdin and reads its stdout.
type browser struct {
	t    testing.TB
	in   *io.PipeWriter
	out  *io.PipeReader
	done chan error
}

func startHost(t testing.TB, h *Host) *browser {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	b := &browser{t: t, in: inW, out: outR, done: make(chan error, 1)}
	go func() {
		err := h.Run(inR, outW)
		outW.CloseWithError(fmt.Errorf("host ended: %v", err))
		b.done <- err
	}()
	t.Cleanup(func() { inW.Close(); outR.Close() })
	return b
}

func hostFor(path string) *Host {
	return &Host{Dial: func() (net.Conn, error) { return Dial(path) }}
}

func (b *browser) send(origin string, id int, method string, params any) {
	b.t.Helper()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	env, _ := json.Marshal(map[string]any{"origin": origin, "message": msg})
	if err := WriteFrame(b.in, env, MaxFromBrowser); err != nil {
		b.t.Fatal(err)
	}
}

type reply struct {
	Origin  string          `json:"origin"`
	Message *wsapi.Response `json:"message"`
	Error   *wsapi.Error    `json:"error"`
	ID      json.RawMessage `json:"id"`
	result  json.RawMessage
}

func (b *browser) recv() reply {
	b.t.Helper()
	raw, err := ReadFrame(b.out, MaxToBrowser)
	if err != nil {
		b.t.Fatalf("reading the host: %v", err)
	}
	var r reply
	var res struct {
		Message struct {
			Result json.RawMessage `json:"result"`
		} `json:"message"`
	}
	if err := json.Unmarshal(raw, &r); err != nil || json.Unmarshal(raw, &res) != nil {
		b.t.Fatalf("host said %q: %v", raw, err)
	}
	r.result = res.Message.Result
	return r
}

// call sends one request and waits for its reply.
func (b *browser) call(origin string, id int, method string, params any) reply {
	b.t.Helper()
	b.send(origin, id, method, params)
	r := b.recv()
	if r.Message == nil {
		b.t.Fatalf("%s: transport error %+v", method, r.Error)
	}
	if r.Origin != origin || string(r.Message.ID) != fmt.Sprint(id) {
		b.t.Fatalf("%s: reply for %q id %s, want %q id %d", method, r.Origin, r.Message.ID, origin, id)
	}
	return r
}

func TestHostInfo(t *testing.T) {
	path, _ := startAgent(t, &prompter{})
	b := startHost(t, hostFor(path))
	r := b.call(site, 1, "info", nil)
	var info wsapi.InfoResult
	if r.Message.Error != nil || json.Unmarshal(r.result, &info) != nil || info.Protocol != 2 || info.Version != "test" {
		t.Fatalf("info: %+v %s", r.Message.Error, r.result)
	}
}

// TestHostLogin: certificates and authenticate through the host, and the
// CMS accepted by verify for the origin the envelope carried.
func TestHostLogin(t *testing.T) {
	defer env.ResetPIN()
	path, _ := startAgent(t, &prompter{})
	b := startHost(t, hostFor(path))
	r := b.call(site, 1, "certificates", map[string]any{"onlyValid": true})
	var certs wsapi.CertificatesResult
	if r.Message.Error != nil || json.Unmarshal(r.result, &certs) != nil || len(certs.Certificates) != 1 || certs.Certificates[0].ID != certID {
		t.Fatalf("certificates: %+v %s", r.Message.Error, r.result)
	}
	v, _ := verify.New(verify.Config{Origins: []string{site}, Roots: []*x509.Certificate{ca.Cert}})
	ch, _ := v.IssueChallenge(context.Background(), site)
	r = b.call(site, 2, "authenticate", wsapi.AuthenticateParams{Certificate: certID, Challenge: ch.Value})
	var auth wsapi.AuthenticateResult
	if r.Message.Error != nil || json.Unmarshal(r.result, &auth) != nil {
		t.Fatalf("authenticate: %+v", r.Message.Error)
	}
	der, _ := base64.StdEncoding.DecodeString(auth.CMS)
	res, err := v.VerifyLogin(context.Background(), der, site)
	if err != nil || res.Identity.INN != "500100732259" {
		t.Fatalf("login does not verify: %v", err)
	}
}

// An origin the agent does not serve is refused before any method runs,
// whatever the message asks.
func TestHostOriginDenied(t *testing.T) {
	path, _ := startAgent(t, &prompter{})
	b := startHost(t, hostFor(path))
	for i, m := range []string{"certificates", "authenticate", "sign"} {
		r := b.call("https://evil.example", i+1, m, nil)
		if r.Message.Error == nil || r.Message.Error.Code != wsapi.OriginDenied {
			t.Fatalf("%s from an unknown origin: %+v %s", m, r.Message.Error, r.result)
		}
	}
}

// TestHostCancel: cancel reaches the request in flight of the same origin
// and page, through the host and the channel.
func TestHostCancel(t *testing.T) {
	path, _ := startAgent(t, &prompter{block: true})
	b := startHost(t, hostFor(path))
	b.send(site, 7, "sign", wsapi.SignParams{Certificate: certID, Data: base64.StdEncoding.EncodeToString([]byte("Договор")), Description: "Договор"})
	time.Sleep(100 * time.Millisecond) // the approval is being asked
	b.send(site, 8, "cancel", wsapi.CancelParams{ID: json.RawMessage("7")})
	got := map[string]reply{}
	for range 2 {
		r := b.recv()
		got[string(r.Message.ID)] = r
	}
	if c := got["8"]; c.Message == nil || string(c.result) != `{"cancelled":true}` {
		t.Fatalf("cancel: %+v %s", c.Message, c.result)
	}
	if s := got["7"]; s.Message == nil || s.Message.Error == nil || s.Message.Error.Code != wsapi.UserCancelled {
		t.Fatalf("cancelled sign: %+v", s.Message)
	}
}

// Another origin on the same port cannot cancel a page's request: cancel
// finds requests by id within an origin only.
func TestHostCancelOtherOrigin(t *testing.T) {
	const other = "https://other.example.ru"
	store, err := pkcs11.New(context.Background(), pkcs11.Options{Modules: []string{env.SoftToken}, OnlyModules: true})
	if err != nil {
		t.Fatal(err)
	}
	a := agent.New(agent.Config{Stores: []keystore.Store{store}, Trusted: []agent.Rule{site, other}, OnlyTrusted: true, Prompter: &prompter{block: true}, Version: "test"})
	path := filepath.Join(runtimeDir(t), "podpis", "agent.sock")
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	ch := &Channel{API: wsapi.New(a)}
	go ch.Serve(l)
	defer ch.Close()
	b := startHost(t, hostFor(path))
	b.send(site, 7, "sign", wsapi.SignParams{Certificate: certID, Data: base64.StdEncoding.EncodeToString([]byte("x")), Description: "x"})
	time.Sleep(100 * time.Millisecond)
	if r := b.call(other, 8, "cancel", wsapi.CancelParams{ID: json.RawMessage("7")}); string(r.result) != `{"cancelled":false}` {
		t.Fatalf("another origin's cancel: %s", r.result)
	}
	b.send(site, 9, "cancel", wsapi.CancelParams{ID: json.RawMessage("7")})
	got := map[string]reply{}
	for range 2 {
		r := b.recv()
		got[string(r.Message.ID)] = r
	}
	if string(got["9"].result) != `{"cancelled":true}` {
		t.Fatalf("own cancel: %s", got["9"].result)
	}
	if s := got["7"]; s.Message == nil || s.Message.Error == nil || s.Message.Error.Code != wsapi.UserCancelled {
		t.Fatalf("cancelled sign: %+v", s.Message)
	}
}

// Without an agent, each message is answered NOT_RUNNING with its origin
// and id, and the host keeps trying: once the agent is up, the next
// message reaches it.
func TestHostNotRunning(t *testing.T) {
	path := filepath.Join(runtimeDir(t), "podpis", "agent.sock")
	b := startHost(t, hostFor(path))
	for id := 1; id <= 2; id++ {
		b.send(site, id, "info", nil)
		r := b.recv()
		if r.Error == nil || r.Error.Code != NotRunning || r.Origin != site || string(r.ID) != fmt.Sprint(id) || r.Error.Message == "" {
			t.Fatalf("without an agent: %+v", r)
		}
	}
	store, err := pkcs11.New(context.Background(), pkcs11.Options{Modules: []string{env.SoftToken}, OnlyModules: true})
	if err != nil {
		t.Fatal(err)
	}
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	ch := &Channel{API: wsapi.New(agent.New(agent.Config{Stores: []keystore.Store{store}, Trusted: []agent.Rule{site}, OnlyTrusted: true, Prompter: &prompter{}, Version: "test"}))}
	go ch.Serve(l)
	defer ch.Close()
	if r := b.call(site, 3, "info", nil); r.Message.Error != nil {
		t.Fatalf("info once the agent runs: %+v", r.Message.Error)
	}
}

// Start is called when the agent is not there, and the host then reaches
// the agent it started.
func TestHostStartsAgent(t *testing.T) {
	path := filepath.Join(runtimeDir(t), "podpis", "agent.sock")
	started := 0
	h := hostFor(path)
	h.Start = func() error {
		started++
		go func() {
			time.Sleep(100 * time.Millisecond)
			store, _ := pkcs11.New(context.Background(), pkcs11.Options{Modules: []string{env.SoftToken}, OnlyModules: true})
			l, err := Listen(path)
			if err != nil {
				return
			}
			ch := &Channel{API: wsapi.New(agent.New(agent.Config{Stores: []keystore.Store{store}, Trusted: []agent.Rule{site}, OnlyTrusted: true, Prompter: &prompter{}, Version: "test"}))}
			t.Cleanup(func() { ch.Close() })
			ch.Serve(l)
		}()
		return nil
	}
	b := startHost(t, h)
	if r := b.call(site, 1, "info", nil); r.Message.Error != nil || started != 1 {
		t.Fatalf("info: %+v, started %d times", r.Message.Error, started)
	}
}

// A message over 1 MiB is answered TOO_LARGE and skipped; the port keeps
// working. So is an empty one (BAD_REQUEST).
func TestHostOversize(t *testing.T) {
	path, _ := startAgent(t, &prompter{})
	b := startHost(t, hostFor(path))
	big, _ := json.Marshal(map[string]any{"origin": site, "message": map[string]any{"id": 1, "method": "sign",
		"params": map[string]any{"data": strings.Repeat("A", MaxEnvelope)}}})
	if err := WriteFrame(b.in, big, MaxFromBrowser); err != nil {
		t.Fatal(err)
	}
	if r := b.recv(); r.Error == nil || r.Error.Code != TooLarge {
		t.Fatalf("oversize: %+v", r)
	}
	b.in.Write(frame(0, nil))
	if r := b.recv(); r.Error == nil || r.Error.Code != BadEnvelope {
		t.Fatalf("empty: %+v", r)
	}
	if r := b.call(site, 2, "info", nil); r.Message.Error != nil {
		t.Fatalf("info after: %+v", r.Message.Error)
	}
}

// Envelopes without an origin or a message are refused by the agent's
// side: the channel has no default origin to fall back on.
func TestChannelBadEnvelope(t *testing.T) {
	path, _ := startAgent(t, &prompter{})
	b := startHost(t, hostFor(path))
	for _, env := range []string{`{"message":{"id":1,"method":"certificates"}}`, `{"origin":"","message":{"id":1,"method":"certificates"}}`,
		`{"origin":"` + site + `"}`, `[1]`, `{"origin":"` + site + `","message":{"id":1,"method":"certificates"}`} {
		WriteFrame(b.in, []byte(env), MaxFromBrowser)
		if r := b.recv(); r.Error == nil || r.Error.Code != BadEnvelope || r.Message != nil {
			t.Fatalf("%s: %+v", env, r)
		}
	}
}

// A reply bigger than a browser takes is replaced by TOO_LARGE for its
// origin and id.
func TestHostReplyTooLarge(t *testing.T) {
	srv, cli := net.Pipe()
	b := startHost(t, &Host{Dial: func() (net.Conn, error) { return cli, nil }})
	b.send(site, 5, "info", nil)
	if _, err := ReadFrame(srv, MaxEnvelope); err != nil {
		t.Fatal(err)
	}
	huge, _ := json.Marshal(Reply{Origin: site, Message: json.RawMessage(`{"id":5,"result":"` + strings.Repeat("A", MaxToBrowser) + `"}`)})
	go WriteFrame(srv, huge, MaxFromBrowser)
	if r := b.recv(); r.Error == nil || r.Error.Code != TooLarge || r.Origin != site || string(r.ID) != "5" {
		t.Fatalf("huge reply: %+v", r)
	}
}

// When the agent goes away, the host ends (the extension sees its port
// close) rather than answer from nowhere.
func TestHostEndsWithAgent(t *testing.T) {
	srv, cli := net.Pipe()
	b := startHost(t, &Host{Dial: func() (net.Conn, error) { return cli, nil }})
	b.send(site, 1, "info", nil)
	ReadFrame(srv, MaxEnvelope)
	srv.Close()
	select {
	case err := <-b.done:
		if err == nil {
			t.Fatal("host ended without an error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("host still runs after the agent left")
	}
}

func TestListenErrRunning(t *testing.T) {
	path, _ := startAgent(t, &prompter{})
	if _, err := Listen(path); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Listen: %v", err)
	}
}

// noticing is a prompter whose PIN question nothing could show: it tells
// the page so, then the person (having opened it by hand) answers.
type noticing struct{ prompter }

func (p *noticing) PIN(ctx context.Context, origin string, req keystore.PINRequest) ([]byte, bool, error) {
	agent.Notify(ctx, agent.NoticePromptNotShown)
	return p.prompter.PIN(ctx, origin, req)
}

// TestHostNotice: a notice about a request in flight reaches the page
// through the channel and the host, in the envelope of the page's origin,
// before the request's own reply.
func TestHostNotice(t *testing.T) {
	defer env.ResetPIN()
	path, _ := startAgent(t, &noticing{})
	b := startHost(t, hostFor(path))
	v, _ := verify.New(verify.Config{Origins: []string{site}, Roots: []*x509.Certificate{ca.Cert}})
	ch, _ := v.IssueChallenge(context.Background(), site)
	b.send(site, 5, "authenticate", wsapi.AuthenticateParams{Certificate: certID, Challenge: ch.Value})
	r := b.recv()
	if r.Origin != site || r.Message == nil || r.Message.ID != nil || r.Message.Notice == nil ||
		string(r.Message.Notice.Request) != "5" || r.Message.Notice.Code != string(agent.NoticePromptNotShown) || r.Message.Notice.Message == "" {
		t.Fatalf("first from the host: %+v %+v", r, r.Message)
	}
	r = b.recv()
	if r.Message == nil || string(r.Message.ID) != "5" || r.Message.Error != nil || len(r.result) == 0 {
		t.Fatalf("the request's own reply: %+v", r.Message)
	}
}
