package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/wsapi"
	"github.com/podpis/podpis/verify"
)

func openFDs() int {
	fds, _ := os.ReadDir("/proc/self/fd")
	return len(fds)
}

// TestAbuse: while a hostile page floods the agent — half-open and
// silent connections, hundreds of WebSockets, requests and prompts from an
// origin nobody trusts — the person's own site still logs in promptly; the
// flood is refused with BUSY or ORIGIN_DENIED; and once it ends no
// goroutine or file descriptor is left behind.
func TestAbuse(t *testing.T) {
	fdsBefore, goBefore := openFDs(), runtime.NumGoroutine()
	held := &asking{decision: agent.Deny, hold: make(chan struct{})}
	h := start(t, agent.Config{Trusted: []agent.Rule{site}, Prompter: held})
	const evil = "https://evil.example"

	// Silent TCP connections (slowloris): they must not hold up Accept.
	var silent []net.Conn
	for i := 0; i < 200; i++ {
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			c.Write([]byte("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")) // headers never finished
		}
		silent = append(silent, c)
	}

	// 200 WebSockets from the hostile origin, each firing requests.
	var wg sync.WaitGroup
	var mu sync.Mutex
	answers := map[string]int{}
	var flood []*websocket.Conn
	for i := 0; i < 200; i++ {
		ws, _, err := h.dial(t, evil, false)
		if err != nil {
			t.Fatal(err)
		}
		flood = append(flood, ws)
		wg.Add(1)
		go func(ws *websocket.Conn) {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				ws.WriteJSON(map[string]any{"id": j, "method": "certificates"})
			}
			ws.SetReadDeadline(time.Now().Add(3 * time.Second))
			for j := 0; j < 5; j++ {
				var r wsapi.Response
				if ws.ReadJSON(&r) != nil {
					return // still waiting on the held prompt: fine
				}
				if r.Error != nil {
					mu.Lock()
					answers[string(r.Error.Code)]++
					mu.Unlock()
				}
			}
		}(ws)
	}

	// The person's site, meanwhile.
	began := time.Now()
	c := connect(t, h, site, false)
	r := c.call("certificates", nil)
	if r.Error != nil || time.Since(began) > 3*time.Second {
		t.Fatalf("the trusted site during the flood: %+v after %v", r.Error, time.Since(began))
	}
	t.Logf("trusted site answered in %v during the flood", time.Since(began))
	wg.Wait()
	if held.origins.Load() != 1 {
		t.Errorf("the person was asked %d times about the hostile origin, want once", held.origins.Load())
	}
	if answers["BUSY"] == 0 {
		t.Errorf("the flood was not refused with BUSY: %v", answers)
	}
	close(held.hold) // the person says no
	c2 := connect(t, h, evil, false)
	if r := c2.call("certificates", nil); r.Error == nil || (r.Error.Code != wsapi.OriginDenied && r.Error.Code != wsapi.Busy) {
		t.Errorf("hostile origin after the refusal: %+v", r.Error)
	}

	for _, s := range silent {
		s.Close()
	}
	for _, ws := range flood {
		ws.Close()
	}
	c.ws.Close()
	c2.ws.Close()
	// The server notices closed connections on its next read.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && (openFDs() > fdsBefore+10 || runtime.NumGoroutine() > goBefore+20) {
		time.Sleep(100 * time.Millisecond)
	}
	if fds, g := openFDs(), runtime.NumGoroutine(); fds > fdsBefore+10 || g > goBefore+20 {
		t.Errorf("after the flood: %d fds (was %d), %d goroutines (was %d)", fds, fdsBefore, g, goBefore)
	}
}

// TestFragmentedFrames: a request split over many continuation frames is
// one message; the frame limit counts the whole message, not a fragment.
func TestFragmentedFrames(t *testing.T) {
	h := start(t, headless(site)) // the default message limit: 1 MiB
	// A 64-byte write buffer: every 64 bytes a frame.
	d := websocket.Dialer{WriteBufferSize: 64, HandshakeTimeout: 5 * time.Second}
	ws, _, err := d.Dial("ws://"+h.addr+"/", http.Header{"Origin": {site}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	req := `{"id":1,"method":"certificates","params":{"issuer":"` + strings.Repeat("x", 1000) + `"}}`
	ws.WriteMessage(websocket.TextMessage, []byte(req))
	var r wsapi.Response
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := ws.ReadJSON(&r); err != nil || r.Error != nil && r.Error.Code == wsapi.BadRequest {
		t.Fatalf("fragmented request: %v %+v", err, r.Error)
	}
	big := bytes.Repeat([]byte("A"), 3<<19) // 24,576 fragments of 64 bytes, 1.5 MiB in all
	ws.WriteMessage(websocket.TextMessage, big)
	if err := ws.ReadJSON(&r); err != nil || r.Error == nil || r.Error.Code != wsapi.TooLargeCode {
		t.Errorf("a message over the limit in small fragments: %v %+v", err, r.Error)
	}
}

// TestOwnerOnlyFiles: the TLS key, the CA and the data folder are the
// person's alone.
func TestOwnerOnlyFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "podpis")
	if _, _, err := LoadOrCreateTLS(dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"", ServerKeyFile, ServerCertFile, CAFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: mode %v, want no access for others", filepath.Join(dir, f), fi.Mode().Perm())
		}
	}
}

// TestRacingOrigins: two sites log in through one token at the same
// moment, many times over: every login verifies for its own site only.
// Methods out of order get their stable codes.
func TestRacingOrigins(t *testing.T) {
	defer env.ResetPIN()
	const other = "https://other.example.ru"
	h := start(t, headless(site, other))
	v, _ := verify.New(verify.Config{Origins: []string{site, other}, Roots: []*x509.Certificate{ca.Cert}})
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 20; i++ {
		for _, origin := range []string{site, other} {
			wg.Add(1)
			go func(origin string) {
				defer wg.Done()
				ch, _ := v.IssueChallenge(context.Background(), origin)
				ws, _, err := h.dial(t, origin, false)
				if err != nil {
					errs <- err
					return
				}
				defer ws.Close()
				ws.WriteJSON(wsapi.Request{ID: json.RawMessage("1"), Method: "authenticate",
					Params: mustJSON(wsapi.AuthenticateParams{Certificate: certID, Challenge: ch.Value})})
				var r struct {
					Result wsapi.AuthenticateResult
					Error  *wsapi.Error
				}
				ws.SetReadDeadline(time.Now().Add(30 * time.Second))
				if err := ws.ReadJSON(&r); err != nil || r.Error != nil {
					errs <- fmt.Errorf("%s: %v %+v", origin, err, r.Error)
					return
				}
				der, _ := base64.StdEncoding.DecodeString(r.Result.CMS)
				wrong := map[string]string{site: other, other: site}[origin]
				if _, err := v.VerifyLogin(context.Background(), der, wrong); err == nil {
					errs <- fmt.Errorf("%s's login accepted for %s", origin, wrong)
				}
				if _, err := v.VerifyLogin(context.Background(), der, origin); err != nil {
					errs <- fmt.Errorf("%s: own login: %w", origin, err)
				}
			}(origin)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// Out of order: signing with a certificate never listed, cancelling
	// what was never sent.
	c := connect(t, h, site, false)
	if r := c.call("authenticate", wsapi.AuthenticateParams{Certificate: strings.Repeat("0", 40), Challenge: "x"}); r.Error == nil || r.Error.Code != wsapi.CertNotFound {
		t.Errorf("unknown certificate: %+v", r.Error)
	}
	if r := c.call("cancel", map[string]any{"id": 99}); r.Error != nil || !strings.Contains(string(r.Result.(json.RawMessage)), `"cancelled":false`) {
		t.Errorf("cancel of nothing: %+v %s", r.Error, r.Result)
	}
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// raiseFDLimit lets the test hold n descriptors (both ends of every
// loopback connection live in this process).
func raiseFDLimit(t testing.TB, n uint64) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		t.Fatal(err)
	}
	if l.Cur >= n {
		return
	}
	l.Cur = min(n, l.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil || l.Cur < n {
		t.Skipf("the test needs %d file descriptors, the limit is %d (%v)", n, l.Cur, err)
	}
}

// alive counts the connections the server has not closed: a read on a
// closed one ends at once (EOF or reset), on a live one it times out.
func alive(conns []net.Conn) int {
	var n, next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 256; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(len(conns)); i = next.Add(1) - 1 {
				c := conns[i]
				c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
				var b [1]byte
				if _, err := c.Read(b[:]); err != nil {
					if ne, ok := err.(net.Error); ok && ne.Timeout() {
						n.Add(1)
					}
				}
			}
		}()
	}
	wg.Wait()
	return int(n.Load())
}

// TestFlood: 10,000 connections at once — from another account of the
// machine silent and half-open ones, still arriving while the person's
// site asks; from the person's own account (a stray program, a hostile
// page) silent ones, half-open requests and open WebSockets — and the
// site's request is answered, while the agent keeps no more of them than
// its caps: the surplus is closed at once, the oldest idle connections of
// the crowding account first.
func TestFlood(t *testing.T) {
	raiseFDLimit(t, 16000)
	h := start(t, headless(site))
	const others, silent, halfOpen, sockets = 6000, 2000, 1000, 1000

	other := otherCmd(t, "PODPIS_PEER_ADDR="+h.addr, fmt.Sprintf("PODPIS_PEER_FLOOD=%d", others))
	hold, _ := other.StdinPipe()
	out, _ := other.StdoutPipe()
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer other.Wait()
	defer hold.Close()

	var mu sync.Mutex
	var own []net.Conn
	var ownWS []*websocket.Conn
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < silent+halfOpen+sockets; i += 16 {
				if i >= silent+halfOpen {
					ws, _, err := h.dial(t, site, false)
					if err == nil {
						mu.Lock()
						ownWS = append(ownWS, ws)
						mu.Unlock()
					}
					continue
				}
				c, err := net.Dial("tcp", h.addr)
				if err != nil {
					continue
				}
				if i >= silent {
					c.Write([]byte("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"))
				}
				mu.Lock()
				own = append(own, c)
				mu.Unlock()
			}
		}(w)
	}
	var held attempt
	if err := json.NewDecoder(out).Decode(&held); err != nil {
		t.Fatalf("the other account's flood: %v", err)
	}
	wg.Wait()
	t.Logf("flood: %d connections of the other account, %d + %d WebSockets of our own", held.Status, len(own), len(ownWS))
	if total := held.Status + len(own) + len(ownWS); total < 9000 {
		t.Fatalf("only %d connections of the flood were made", total)
	}

	// The other account keeps opening more while the site asks.
	for i := 0; i < 5; i++ {
		began := time.Now()
		c := connect(t, h, site, false)
		if r := c.call("certificates", nil); r.Error != nil {
			t.Fatalf("the person's site during the flood: %+v", r.Error)
		}
		t.Logf("the person's site answered in %v during the flood", time.Since(began))
	}
	for _, ws := range ownWS {
		own = append(own, ws.NetConn())
	}
	max := h.srv.MaxConnsPerAccount + 1 // one replaced, being closed
	if n := alive(own); n > max {
		t.Errorf("the agent holds %d of our account's %d flood connections, want at most %d", n, len(own), max)
	}
	for _, c := range own {
		c.Close()
	}
}

// BenchmarkConnMemory: what one held connection costs the agent (heap and
// goroutine stacks, measured in this process), by kind — the figure
// behind MaxConns: run with -benchtime 512x for a full table.
func BenchmarkConnMemory(b *testing.B) {
	for _, kind := range []string{"silent", "half-open", "tls-half-open", "websocket"} {
		b.Run(kind, func(b *testing.B) {
			raiseFDLimit(b, uint64(2*b.N+256))
			a := agent.New(headless(site))
			tlsCfg, _, err := LoadOrCreateTLS(b.TempDir(), time.Now())
			if err != nil {
				b.Fatal(err)
			}
			l, err := Listen("127.0.0.1:0", nil)
			if err != nil {
				b.Fatal(err)
			}
			srv := &Server{API: wsapi.New(a), TLS: tlsCfg, MaxConns: b.N + 16, MaxConnsPerAccount: b.N + 16}
			go srv.Serve(l)
			defer srv.Shutdown(context.Background())
			addr := l.Addr().String()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var held []net.Conn
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var c net.Conn
				switch kind {
				case "websocket":
					ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", http.Header{"Origin": {site}})
					if err != nil {
						b.Fatal(err)
					}
					c = ws.NetConn()
				case "tls-half-open":
					tc, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
					if err != nil {
						b.Fatal(err)
					}
					tc.Write([]byte("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"))
					c = tc
				default:
					if c, err = net.Dial("tcp", addr); err != nil {
						b.Fatal(err)
					}
					if kind == "half-open" {
						c.Write([]byte("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"))
					}
				}
				held = append(held, c)
			}
			time.Sleep(200 * time.Millisecond) // the server side catches up
			b.StopTimer()
			runtime.GC()
			runtime.ReadMemStats(&after)
			// Both ends live in this process: the client's share is
			// small (a socket, and for websocket and TLS their buffers)
			// and counted too, so the figure errs high.
			used := float64(after.HeapInuse+after.StackInuse) - float64(before.HeapInuse+before.StackInuse)
			b.ReportMetric(used/float64(b.N), "B/conn")
			for _, c := range held {
				c.Close()
			}
		})
	}
}
