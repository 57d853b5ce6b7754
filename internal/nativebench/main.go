// Command nativebench measures, in one run against one agent, what the
// native messaging path (`podpis native-host` → the per-user channel)
// adds to the WebSocket path: p50/p99 of info and of a login
// (certificates, then authenticate with the PIN already given), each
// over a connection already open, and of opening one (a WebSocket
// handshake vs starting the host process) with its first info.
//
//	go build -o bin/podpis ./cmd/podpis && go run ./internal/nativebench -podpis bin/podpis
package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/internal/testtoken"
	"github.com/podpis/podpis/verify"
)

const site = "https://lk.example.ru"

func main() {
	bin := flag.String("podpis", "bin/podpis", "the podpis binary")
	n := flag.Int("n", 1000, "samples of info per path")
	logins := flag.Int("logins", 200, "logins per path")
	opens := flag.Int("opens", 50, "connections opened per path")
	flag.Parse()

	env, err := testtoken.Setup()
	check(err)
	defer env.Cleanup()
	ca := testpki.Root(testpki.MainTB{}, gost3410.CurveTC26512A, "Bench CA", time.Now())
	cert, key := ca.Person(testpki.MainTB{}, gost3410.CurveTC26256A, pkix.Name{CommonName: "Бенчев"}, time.Now(), nil)
	check(env.AddToSoftToken("bench", key, cert))
	v, err := verify.New(verify.Config{Origins: []string{site}, Roots: []*x509.Certificate{ca.Cert}})
	check(err)

	runtime, err := os.MkdirTemp("", "nb")
	check(err)
	defer os.RemoveAll(runtime)
	data := filepath.Join(runtime, "data")
	l, _ := net.Listen("tcp4", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	agent := exec.Command(*bin, "run", "--headless", "--trust-origin", site, "--module", env.SoftToken, "--no-known-modules", "--listen", addr)
	agent.Env = append(os.Environ(), "PODPIS_PIN="+testtoken.PIN, "PODPIS_DATA_DIR="+data, "PODPIS_CONFIG="+filepath.Join(data, "config.json"), "XDG_RUNTIME_DIR="+runtime)
	out, _ := agent.StdoutPipe()
	check(agent.Start())
	defer agent.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.Contains(line, "listening") {
		check(fmt.Errorf("agent: %q %v", line, err))
	}

	startHost := func() (*exec.Cmd, io.WriteCloser, io.Reader) {
		h := exec.Command(*bin, "native-host")
		h.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+runtime, "PODPIS_NATIVE_NO_START=1")
		in, _ := h.StdinPipe()
		o, _ := h.StdoutPipe()
		check(h.Start())
		return h, in, bufio.NewReader(o)
	}
	dialWS := func() *websocket.Conn {
		ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", map[string][]string{"Origin": {site}})
		check(err)
		return ws
	}

	ws := dialWS()
	defer ws.Close()
	wsCall := func(msg map[string]any) json.RawMessage {
		check(ws.WriteJSON(msg))
		_, b, err := ws.ReadMessage()
		check(err)
		return b
	}
	h, in, hout := startHost()
	defer func() { in.Close(); h.Wait() }()
	nativeCall := func(msg map[string]any) json.RawMessage {
		env, _ := json.Marshal(map[string]any{"origin": site, "message": msg})
		check(writeFrame(in, env))
		b, err := readFrame(hout)
		check(err)
		var r struct{ Message json.RawMessage }
		check(json.Unmarshal(b, &r))
		if r.Message == nil {
			check(fmt.Errorf("native host: %s", b))
		}
		return r.Message
	}
	paths := []struct {
		name string
		call func(map[string]any) json.RawMessage
	}{{"websocket", wsCall}, {"native", nativeCall}}

	id := 0
	info := func(call func(map[string]any) json.RawMessage) {
		id++
		r := call(map[string]any{"id": id, "method": "info"})
		if !strings.Contains(string(r), `"protocol"`) {
			check(fmt.Errorf("info: %s", r))
		}
	}
	var certID string
	login := func(call func(map[string]any) json.RawMessage) {
		id++
		r := call(map[string]any{"id": id, "method": "certificates"})
		var c struct {
			Result struct{ Certificates []struct{ ID string } }
		}
		if json.Unmarshal(r, &c) != nil || len(c.Result.Certificates) == 0 {
			check(fmt.Errorf("certificates: %s", r))
		}
		certID = c.Result.Certificates[0].ID
		ch, _ := v.IssueChallenge(context.Background(), site)
		id++
		r = call(map[string]any{"id": id, "method": "authenticate", "params": map[string]any{"certificate": certID, "challenge": ch.Value}})
		if !strings.Contains(string(r), `"cms"`) {
			check(fmt.Errorf("authenticate: %s", r))
		}
	}
	// Warm up both (the PIN is given once, then the agent's cache holds
	// the token's session for either path).
	for _, p := range paths {
		for range 20 {
			info(p.call)
		}
		login(p.call)
	}
	fmt.Printf("%-28s %10s %10s %10s\n", "", "p50", "p99", "n")
	measure := func(what string, k int, f func(p int)) {
		for i, p := range paths {
			var d []time.Duration
			for range k {
				start := time.Now()
				f(i)
				d = append(d, time.Since(start))
			}
			slices.Sort(d)
			fmt.Printf("%-28s %10v %10v %10d\n", what+" / "+p.name, d[len(d)/2].Round(time.Microsecond), d[len(d)*99/100].Round(time.Microsecond), k)
		}
	}
	measure("info", *n, func(p int) { info(paths[p].call) })
	measure("login, PIN cached", *logins, func(p int) { login(paths[p].call) })
	measure("open + first info", *opens, func(p int) {
		if p == 0 {
			c := dialWS()
			id++
			c.WriteJSON(map[string]any{"id": id, "method": "info"})
			_, _, err := c.ReadMessage()
			check(err)
			c.Close()
			return
		}
		h, in, o := startHost()
		env, _ := json.Marshal(map[string]any{"origin": site, "message": map[string]any{"id": 1, "method": "info"}})
		check(writeFrame(in, env))
		_, err := readFrame(o)
		check(err)
		in.Close()
		h.Wait()
	})
}

func writeFrame(w io.Writer, b []byte) error {
	_, err := w.Write(append(binary.NativeEndian.AppendUint32(nil, uint32(len(b))), b...))
	return err
}

func readFrame(r io.Reader) ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.NativeEndian.Uint32(h[:]))
	_, err := io.ReadFull(r, b)
	return b, err
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "nativebench:", err)
		os.Exit(1)
	}
}
