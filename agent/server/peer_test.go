package server

import (
	"bufio"
	"bytes"
	"container/list"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/prompt"
	"github.com/podpis/podpis/agent/wsapi"
	"github.com/podpis/podpis/internal/peercred"
	"github.com/podpis/podpis/internal/testdeps"
)

// The test binary doubles as the other account's attacking program: run
// with peerHelperEnv set, TestMain hands over to peerHelper before any
// test setup.
const peerHelperEnv = "PODPIS_PEER_HELPER"

// attempt is one thing the other account tried, as it saw the answer.
type attempt struct {
	What   string
	Status int
	Body   string
}

// peerHelper attacks the agent at $PODPIS_PEER_ADDR the way another
// account of the machine would: a forged trusted Origin on ws and wss
// (listing certificates, asking for a login signature), GET /v1/info, and
// answers posted to the prompt pages named in $PODPIS_PEER_PROMPTS, and
// bytes posted to the stream uploads named in $PODPIS_PEER_UPLOADS. It
// prints one JSON attempt a line.
func peerHelper() int {
	addr, origin := os.Getenv("PODPIS_PEER_ADDR"), os.Getenv("PODPIS_PEER_ORIGIN")
	if n, _ := strconv.Atoi(os.Getenv("PODPIS_PEER_FLOOD")); n > 0 {
		return floodHelper(addr, n)
	}
	out := json.NewEncoder(os.Stdout)
	insecure := &tls.Config{InsecureSkipVerify: true} // the attacker does not care whose certificate
	dial := (&net.Dialer{}).DialContext
	if os.Getenv("PODPIS_PEER_V4MAPPED") != "" {
		dial = dialV4Mapped
	}
	for _, scheme := range []string{"ws", "wss"} {
		d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, TLSClientConfig: insecure, NetDialContext: dial}
		ws, resp, err := d.Dial(scheme+"://"+addr+"/", http.Header{"Origin": {origin}})
		a := attempt{What: scheme + " upgrade"}
		if resp != nil {
			a.Status = resp.StatusCode
			b, _ := io.ReadAll(resp.Body)
			a.Body = string(b)
		} else if err != nil {
			a.Body = err.Error()
		}
		out.Encode(a)
		if err != nil {
			continue
		}
		for i, m := range []string{"certificates", "authenticate"} {
			req := map[string]any{"id": i + 1, "method": m}
			if m == "authenticate" {
				req["params"] = map[string]any{"certificate": os.Getenv("PODPIS_PEER_CERT"), "challenge": "AAAA"}
			}
			ws.WriteJSON(req)
			ws.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, msg, _ := ws.ReadMessage()
			out.Encode(attempt{What: scheme + " " + m, Status: http.StatusSwitchingProtocols, Body: string(msg)})
		}
		ws.Close()
	}
	web := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: insecure, DialContext: dial}}
	do := func(what string, req *http.Request) {
		a := attempt{What: what}
		resp, err := web.Do(req)
		if err != nil {
			a.Body = err.Error()
		} else {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			a.Status, a.Body = resp.StatusCode, string(b)
		}
		out.Encode(a)
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/v1/info", nil)
	req.Header.Set("Origin", origin)
	do("GET /v1/info", req)
	for _, u := range strings.Fields(os.Getenv("PODPIS_PEER_UPLOADS")) {
		req, _ := http.NewRequest("POST", u, strings.NewReader("another document"))
		req.Header.Set("Origin", origin)
		do("POST stream upload", req)
	}
	for _, u := range strings.Fields(os.Getenv("PODPIS_PEER_PROMPTS")) {
		req, _ := http.NewRequest("GET", u, nil)
		do("GET prompt page", req)
		pu, _ := url.Parse(u)
		for _, form := range []url.Values{{"choice": {"always"}}, {"choice": {"sign"}, "pin": {"0000"}}} {
			req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", pu.Scheme+"://"+pu.Host) // what the page's own form sends
			do("POST prompt "+form.Encode(), req)
		}
	}
	return 0
}

// dialV4Mapped reaches an IPv4 address from a dual-stack IPv6 socket, as
// ::ffff:a.b.c.d: the kernel files that socket with the IPv6 ones. (Go's
// dialer makes an IPv4 socket for such an address: the socket is made by
// hand.)
func dialV4Mapped(_ context.Context, _, addr string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, err
	}
	fd, err := syscall.Socket(syscall.AF_INET6, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "v4-mapped")
	defer f.Close() // FileConn holds its own copy
	if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 0); err != nil {
		return nil, err
	}
	if err := syscall.Connect(fd, &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}); err != nil {
		return nil, err
	}
	return net.FileConn(f)
}

// asOther runs the helper as the other account and returns what it saw.
func asOther(t *testing.T, env ...string) []attempt {
	t.Helper()
	cmd := otherCmd(t, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper as uid %d: %v: %s", cmd.SysProcAttr.Credential.Uid, err, stderr.Bytes())
	}
	var as []attempt
	for s := bufio.NewScanner(bytes.NewReader(out)); s.Scan(); {
		var a attempt
		if err := json.Unmarshal(s.Bytes(), &a); err != nil {
			t.Fatalf("helper said %q", s.Text())
		}
		as = append(as, a)
	}
	return as
}

// otherCmd prepares the helper to run as the other account.
func otherCmd(t *testing.T, env ...string) *exec.Cmd {
	t.Helper()
	return testdeps.AsOther(t, append([]string{peerHelperEnv + "=1"}, env...)...)
}

// logBuffer collects the server's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// refusedUIDs lists the uids of the "refused peer" log lines.
func (l *logBuffer) refusedUIDs() map[string]int {
	uids := map[string]int{}
	for _, line := range strings.Split(l.String(), "\n") {
		var e struct{ Msg, UID string }
		if json.Unmarshal([]byte(line), &e) == nil && strings.HasPrefix(e.Msg, "refused peer") {
			uids[e.UID]++
		}
	}
	return uids
}

// checkRefused fails unless every attempt got 403 and nothing else: no
// certificate, no signature, no version.
func checkRefused(t *testing.T, as []attempt, want int) {
	t.Helper()
	if len(as) != want {
		t.Errorf("the other account made %d attempts, want %d: %+v", len(as), want, as)
	}
	for _, a := range as {
		if a.Status != http.StatusForbidden || strings.TrimSpace(a.Body) != "forbidden" {
			t.Errorf("another account: %s: %d %q, want 403 forbidden", a.What, a.Status, a.Body)
		}
	}
}

// TestOtherAccount: another account of the machine connects with a forged
// trusted Origin to a headless agent whose PIN is known (the case where a
// login signature needs no prompt at all): every door is shut — ws and
// wss upgrades, /v1/info, an upload into the person's open stream — with
// a bare 403, and the agent's log names its uid (and not the stream); the
// agent's own account is served as before, its stream untouched.
func TestOtherAccount(t *testing.T) {
	defer env.ResetPIN()
	var log logBuffer
	l, err := Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	h := serve(t, headless(site), l, &Server{Log: slog.New(slog.NewJSONHandler(&log, nil))})

	own := connect(t, h, site, false)
	b := result[wsapi.StreamBeginResult](t, own.call("streamBegin", wsapi.StreamBeginParams{Name: "договор.pdf"}))
	uid, _ := testdeps.OtherAccount(t)
	checkRefused(t, asOther(t, "PODPIS_PEER_ADDR="+h.addr, "PODPIS_PEER_ORIGIN="+site, "PODPIS_PEER_CERT="+certID,
		"PODPIS_PEER_UPLOADS=http://"+h.addr+b.Upload), 4)
	if n := log.refusedUIDs()[strconv.Itoa(int(uid))]; n != 4 {
		t.Errorf("log lines naming uid %d: %d, want 4:\n%s", uid, n, log.String())
	}
	if strings.Contains(log.String(), b.Stream) {
		t.Errorf("the log names the stream's id:\n%s", log.String())
	}
	if r := result[wsapi.StreamChunkResult](t, own.call("streamChunk", wsapi.StreamChunkParams{Stream: b.Stream, Data: "AAAA"})); r.Received != 3 {
		t.Errorf("the person's stream after the attack: %+v", r)
	}

	// The agent's own account.
	for _, tlsOn := range []bool{false, true} {
		c := connect(t, h, site, tlsOn)
		if r := c.call("certificates", nil); r.Error != nil {
			t.Errorf("own account, tls=%v: %+v", tlsOn, r.Error)
		}
	}
	resp, err := http.Get("http://" + h.addr + "/v1/info")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("own account's /v1/info: %v %v", err, resp)
	}
	resp.Body.Close()
	if n := len(log.refusedUIDs()); n != 1 {
		t.Errorf("refusals for %d accounts, want only the other one: %v", n, log.refusedUIDs())
	}
}

// TestOtherAccountAddresses: the other account comes over IPv6 loopback,
// and from a dual-stack IPv6 socket to 127.0.0.1 (::ffff:127.0.0.1, which
// the kernel files with the IPv6 sockets). Each time it is refused, and
// the log names its uid: it was recognised, not merely unknown.
func TestOtherAccountAddresses(t *testing.T) {
	defer env.ResetPIN()
	uid, _ := testdeps.OtherAccount(t)
	for _, tc := range []struct{ name, listen, dial string }{
		{"IPv6 loopback", "[::1]:0", ""},
		{"v4-mapped", "127.0.0.1:0", "PODPIS_PEER_V4MAPPED=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log logBuffer
			l, err := Listen(tc.listen, nil)
			if err != nil {
				t.Skipf("no loopback at %s: %v", tc.listen, err)
			}
			serve(t, headless(site), l, &Server{Log: slog.New(slog.NewJSONHandler(&log, nil))})
			env := []string{"PODPIS_PEER_ADDR=" + l.Addr().String(), "PODPIS_PEER_ORIGIN=" + site, "PODPIS_PEER_CERT=" + certID}
			if tc.dial != "" {
				env = append(env, tc.dial)
			}
			checkRefused(t, asOther(t, env...), 3)
			if n := log.refusedUIDs()[strconv.Itoa(int(uid))]; n != 3 {
				t.Errorf("log lines naming uid %d: %d, want 3:\n%s", uid, n, log.String())
			}
		})
	}
}

// TestOtherAccountPrompt: the agent's prompt page is open for the person
// (a site asks for certificates); another account that knows its URL (it
// was in the opener's argv) can neither read it nor answer it — not
// «Разрешить всегда», not a PIN guess — and the person's own answer still
// counts.
func TestOtherAccountPrompt(t *testing.T) {
	defer env.ResetPIN()
	testdeps.OtherAccount(t)
	var log logBuffer
	l, err := Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	base := "https://" + l.Addr().String()
	urls := make(chan string, 1)
	forward := regexp.MustCompile(`url=([^"]+)"`)
	bp := &prompt.Browser{BaseURL: base, Dir: t.TempDir(), Open: func(path string) error {
		content, err := os.ReadFile(path)
		if m := forward.FindSubmatch(content); err == nil && m != nil {
			urls <- html.UnescapeString(string(m[1]))
		}
		return err
	}}
	h := serve(t, agent.Config{Prompter: bp}, l, &Server{Prompts: bp, Log: slog.New(slog.NewJSONHandler(&log, nil))})

	c := connect(t, h, "https://new.example", false)
	answered := make(chan []byte, 1)
	go func() {
		// The site asks; the prompt waits for an answer.
		raw, _ := json.Marshal(map[string]any{"id": 1, "method": "certificates"})
		c.ws.WriteMessage(websocket.TextMessage, raw)
		c.ws.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, msg, _ := c.ws.ReadMessage()
		answered <- msg
	}()
	var u string
	select {
	case u = <-urls:
	case <-time.After(10 * time.Second):
		t.Fatal("no prompt page was opened")
	}
	as := asOther(t, "PODPIS_PEER_ADDR="+h.addr, "PODPIS_PEER_ORIGIN=https://new.example", "PODPIS_PEER_PROMPTS="+u)
	checkRefused(t, as, 6)
	select {
	case msg := <-answered:
		t.Fatalf("the other account's answer was taken: %s", msg)
	case <-time.After(200 * time.Millisecond):
	}

	// The person answers «Запретить» on the same page.
	pool := x509Pool(h.ca)
	jar, _ := cookiejar.New(nil)
	web := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Jar: jar}
	page, err := web.Get(u)
	if err != nil || page.StatusCode != http.StatusOK {
		t.Fatalf("the person loads the page: %v %v", err, page)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindSubmatch(body)
	if csrf == nil {
		t.Fatalf("no token on the page: %s", body)
	}
	req, _ := http.NewRequest("POST", u, strings.NewReader(url.Values{"choice": {"deny"}, "csrf": {string(csrf[1])}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := web.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the person's own answer: %v %v", err, resp)
	}
	resp.Body.Close()
	select {
	case msg := <-answered:
		if !bytes.Contains(msg, []byte(`"ORIGIN_DENIED"`)) {
			t.Errorf("after the person's «Запретить»: %s", msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the person's answer was not taken")
	}
	uid, _ := testdeps.OtherAccount(t)
	if n := log.refusedUIDs()[fmt.Sprint(uid)]; n != 6 {
		t.Errorf("log lines naming uid %d: %d, want 6", uid, n)
	}
	if secret := strings.TrimPrefix(u, base+"/prompt/"); strings.Contains(log.String(), secret) {
		t.Error("the log holds the prompt page's secret")
	}
}

func x509Pool(certs ...*x509.Certificate) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool
}

// floodHelper opens n connections, half of them silent and half sending
// headers that never end, says how many it holds, and holds them until
// its stdin closes, opening new ones all the while (and closing its
// oldest, to stay within its descriptors).
func floodHelper(addr string, n int) int {
	conns := make(chan net.Conn, n)
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += 16 {
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					continue
				}
				if i%2 == 1 {
					c.Write([]byte("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"))
				}
				conns <- c
			}
		}(w)
	}
	wg.Wait()
	close(conns)
	var held []net.Conn
	for c := range conns {
		held = append(held, c)
	}
	json.NewEncoder(os.Stdout).Encode(attempt{What: "flood", Status: len(held)})
	var done atomic.Bool
	go func() {
		io.Copy(io.Discard, os.Stdin)
		done.Store(true)
	}()
	for i := 0; !done.Load(); i++ {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			continue
		}
		c.Write([]byte("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"))
		held[i%len(held)].Close()
		held[i%len(held)] = c
	}
	return 0
}

// TestPushOut: which connection a newcomer over its account's cap
// replaces. Ages are how long ago a connection joined its list.
func TestPushOut(t *testing.T) {
	now := time.Now()
	type conn struct {
		name string
		age  time.Duration
	}
	for _, tc := range []struct {
		name        string
		fresh, idle []conn
		want        string
	}{
		{"nothing to push out", nil, nil, ""},
		{"the oldest silent one", []conn{{"a", 300 * time.Millisecond}, {"b", 100 * time.Millisecond}}, nil, "a"},
		{"the least recently active WebSocket", nil, []conn{{"ws1", time.Minute}, {"ws2", time.Second}}, "ws1"},
		{"an idle one older than a just-connected request", []conn{{"new", 5 * time.Millisecond}}, []conn{{"ws", 200 * time.Millisecond}}, "ws"},
		{"a just-connected one older than an idle one", []conn{{"new", 300 * time.Millisecond}}, []conn{{"ws", 5 * time.Millisecond}}, "new"},
		{"silent past the grace before any idle one", []conn{{"silent", 2 * silentGrace}}, []conn{{"ws", time.Hour}}, "silent"},
	} {
		var a account
		for _, l := range []struct {
			cs   []conn
			list *list.List
		}{{tc.fresh, &a.fresh}, {tc.idle, &a.idle}} {
			for _, c := range l.cs {
				pc := &peerConn{owner: peercred.Account(c.name), since: now.Add(-c.age), acct: &a}
				pc.elem = l.list.PushBack(pc)
			}
		}
		got := ""
		if c := a.pushOut(now); c != nil {
			got = string(c.owner)
			if c.elem != nil {
				t.Errorf("%s: pushed-out connection still listed", tc.name)
			}
		}
		if got != tc.want {
			t.Errorf("%s: pushed out %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestBusyStays: a connection handling a request is never pushed out; it
// may be again once the request is done.
func TestBusyStays(t *testing.T) {
	cs := &conns{accounts: map[peercred.Account]*account{}}
	a := &account{}
	c := &peerConn{cs: cs, acct: a, since: time.Now().Add(-time.Hour)}
	c.elem = a.fresh.PushBack(c)
	c.begin()
	c.begin() // two requests in flight on one WebSocket
	c.end()
	if v := a.pushOut(time.Now()); v != nil {
		t.Fatal("a connection with a request in flight was pushed out")
	}
	c.end()
	if v := a.pushOut(time.Now()); v != c {
		t.Fatal("an idle connection could not be pushed out")
	}
}

// TestAdmit: the table's decisions, one newcomer at a time, in a table of
// 4 connections at most and 3 per account, where every connection held
// is idle and the agent runs as uid 1000.
func TestAdmit(t *testing.T) {
	for _, tc := range []struct {
		name     string
		held     map[peercred.Account]int
		newcomer peercred.Account
		replaced peercred.Account // "" for none
		refused  bool
	}{
		{"room", map[peercred.Account]int{"1000": 1}, "1000", "", false},
		{"over its account's limit: its own idle one goes", map[peercred.Account]int{"1000": 3}, "1000", "1000", false},
		{"over its account's limit, another account", map[peercred.Account]int{"999": 3}, "999", "999", false},
		{"full: the person takes from the biggest other account", map[peercred.Account]int{"999": 3, "1000": 1}, "1000", "999", false},
		{"full: the person takes even from a small one", map[peercred.Account]int{"999": 2, "998": 1, "1000": 1}, "1000", "999", false},
		{"full: another takes from a bigger third", map[peercred.Account]int{"999": 3, "998": 1}, "997", "999", false},
		{"full: another never takes the person's", map[peercred.Account]int{"1000": 3, "999": 1}, "998", "", true},
		{"full: another, no third account bigger than it would be", map[peercred.Account]int{"998": 2, "999": 2}, "999", "", true},
	} {
		cs := &conns{max: 4, perAccount: 3, self: "1000", accounts: map[peercred.Account]*account{}}
		now := time.Now()
		for _, owner := range []peercred.Account{"997", "998", "999", "1000"} {
			for i := 0; i < tc.held[owner]; i++ {
				c := &peerConn{cs: cs, owner: owner}
				if v, why := cs.admit(c, now.Add(-time.Minute)); v != nil || why != "" {
					t.Fatalf("%s: setting up: %v %q", tc.name, v, why)
				}
			}
		}
		victim, why := cs.admit(&peerConn{cs: cs, owner: tc.newcomer}, now)
		got := peercred.Account("")
		if victim != nil {
			got = victim.owner
		}
		if got != tc.replaced || (why != "") != tc.refused {
			t.Errorf("%s: replaced %q, refused %q; want %q, %v", tc.name, got, why, tc.replaced, tc.refused)
		}
	}
}
