//go:build unix

package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podpis/podpis/agent/nativehost"
	"github.com/podpis/podpis/internal/testdeps"
)

// The test binary, re-run as another local account with helperEnv set,
// asks the control channel at $PODPIS_CONTROL_SOCKET for the status, as
// any process of that account could.
const helperEnv = "PODPIS_CONTROL_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(otherHelper())
	}
	os.Exit(m.Run())
}

// server serves s on a fresh control socket of this account's and returns
// its path and how many times the status hook ran.
func server(t *testing.T, s *Server) (path string, calls *atomic.Int32) {
	t.Helper()
	calls = &atomic.Int32{}
	if s.Status == nil {
		s.Status = func(context.Context) (*Status, error) {
			calls.Add(1)
			return &Status{Product: "podpis", Version: "1.2.3", Listen: "127.0.0.1:24730", PID: os.Getpid()}, nil
		}
	}
	rt, err := os.MkdirTemp("", "pc")
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(rt, "podpis", "control.sock")
	l, err := nativehost.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() {
		s.Close()
		os.RemoveAll(rt)
	})
	return path, calls
}

func client(path string) *Client {
	return &Client{Dial: func() (net.Conn, error) { return nativehost.Dial(path) }}
}

// TestStatusRoundTrip: a program of the agent's own account gets its
// status over the socket; settings without a window is NOT_AVAILABLE, a
// clear code rather than a silent nothing.
func TestStatusRoundTrip(t *testing.T) {
	path, calls := server(t, &Server{})
	c := client(path)
	st, err := c.Status(context.Background())
	if err != nil || st.Version != "1.2.3" || st.Listen != "127.0.0.1:24730" || calls.Load() != 1 {
		t.Fatalf("status %+v, %v (%d calls)", st, err, calls.Load())
	}
	if err := c.OpenSettings(context.Background()); !errors.Is(err, ErrNotAvailable) {
		t.Fatalf("openSettings with no window: %v, want NOT_AVAILABLE", err)
	}
	opened := 0
	path, _ = server(t, &Server{OpenSettings: func(context.Context) error { opened++; return nil }})
	if err := client(path).OpenSettings(context.Background()); err != nil || opened != 1 {
		t.Fatalf("openSettings: %v, opened %d times", err, opened)
	}
}

// TestNotRunning: no socket, or one nobody serves, is ErrNotRunning, for
// doctor to fall back on its own scan.
func TestNotRunning(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "podpis")
	os.Mkdir(dir, 0o700)
	if _, err := client(filepath.Join(dir, "control.sock")).Status(context.Background()); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("no agent: %v", err)
	}
}

// TestHandleRefusesBrowserShapes: what the browser extension sends — a
// native messaging envelope, a protocol message, or either with a
// "request" member added — is BAD_REQUEST and the status hook never
// runs. A control request is exactly {"request": KIND}.
func TestHandleRefusesBrowserShapes(t *testing.T) {
	s := &Server{}
	_, calls := server(t, s)
	for _, c := range []struct {
		frame string
		want  Code
	}{
		{`{"origin":"https://lk.example.ru","message":{"id":1,"method":"status"}}`, BadRequest},
		{`{"origin":"https://lk.example.ru","message":{"request":"status"}}`, BadRequest},
		{`{"origin":"https://lk.example.ru","request":"status"}`, BadRequest},
		{`{"request":"status","message":{"id":1,"method":"certificates"}}`, BadRequest},
		{`{"id":1,"method":"status"}`, BadRequest},
		{`{"id":1,"request":"status"}`, BadRequest},
		{`{"Request":"status"}`, BadRequest},
		{`{"request":""}`, BadRequest},
		{`{"request":1}`, BadRequest},
		{`["status"]`, BadRequest},
		{`"status"`, BadRequest},
		{`status`, BadRequest},
		{`{"request":"certificates"}`, UnknownRequest},
		{`{"request":"STATUS"}`, UnknownRequest},
	} {
		r := s.Handle([]byte(c.frame))
		if r.Error == nil || r.Error.Code != c.want || r.Status != nil {
			t.Errorf("%s: %+v, want %s", c.frame, r, c.want)
		}
	}
	if calls.Load() != 0 {
		t.Fatalf("the status hook ran %d times for refused frames", calls.Load())
	}
	if r := s.Handle([]byte(`{"request":"status"}`)); r.Error != nil || r.Status == nil || calls.Load() != 1 {
		t.Fatalf("a real request: %+v", r)
	}
}

// TestEnvelopeOverSocket: an envelope written to the control socket
// itself (as a native host would write it) gets BAD_REQUEST, and the
// connection keeps serving real requests after it.
func TestEnvelopeOverSocket(t *testing.T) {
	path, calls := server(t, &Server{})
	c, err := nativehost.Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	ask := func(frame string) Response {
		t.Helper()
		if err := nativehost.WriteFrame(c, []byte(frame), nativehost.MaxEnvelope); err != nil {
			t.Fatal(err)
		}
		b, err := nativehost.ReadFrame(c, MaxResponse)
		var r Response
		if err != nil || json.Unmarshal(b, &r) != nil {
			t.Fatalf("%q %v", b, err)
		}
		return r
	}
	if r := ask(`{"origin":"https://lk.example.ru","message":{"id":1,"method":"status"}}`); r.Error == nil || r.Error.Code != BadRequest || r.Status != nil {
		t.Fatalf("envelope: %+v", r)
	}
	if r := ask(strings.Repeat(" ", MaxRequest+1)); r.Error == nil || r.Error.Code != BadRequest {
		t.Fatalf("oversized: %+v", r)
	}
	if r := ask(`{"request":"status"}`); r.Error != nil || r.Status == nil || calls.Load() != 1 {
		t.Fatalf("status after refusals: %+v (%d calls)", r, calls.Load())
	}
}

// A status hook that fails is FAILED, its error only in the agent's log.
func TestStatusFails(t *testing.T) {
	s := &Server{Status: func(context.Context) (*Status, error) {
		return nil, errors.New("secret detail /home/anna")
	}}
	path, _ := server(t, s)
	_, err := client(path).Status(context.Background())
	if !errors.Is(err, ErrFailed) || strings.Contains(err.Error(), "anna") {
		t.Fatalf("%v", err)
	}
}

type attack struct {
	Dial  string `json:"dial,omitempty"`
	Reply string `json:"reply,omitempty"`
	Read  string `json:"read,omitempty"`
}

func otherHelper() int {
	var a attack
	defer func() { json.NewEncoder(os.Stdout).Encode(a) }()
	c, err := net.DialTimeout("unix", os.Getenv("PODPIS_CONTROL_SOCKET"), 5*time.Second)
	if err != nil {
		a.Dial = err.Error()
		return 0
	}
	defer c.Close()
	nativehost.WriteFrame(c, []byte(`{"request":"status"}`), MaxRequest)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := nativehost.ReadFrame(c, MaxResponse)
	if err != nil {
		a.Read = err.Error()
	}
	a.Reply = string(b)
	return 0
}

func asOther(t *testing.T, socket string) attack {
	t.Helper()
	cmd := testdeps.AsOther(t, helperEnv+"=1", "PODPIS_CONTROL_SOCKET="+socket)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var a attack
	if err != nil || json.Unmarshal(out, &a) != nil {
		t.Fatalf("helper as %s: %v: %s %s", testdeps.OtherUser, err, out, stderr.Bytes())
	}
	return a
}

// TestOtherAccountCannotOpen: the folder (0700) and socket (0600) keep
// another account from connecting at all.
func TestOtherAccountCannotOpen(t *testing.T) {
	path, calls := server(t, &Server{})
	os.Chmod(filepath.Dir(filepath.Dir(path)), 0o755) // as /run/user is
	a := asOther(t, path)
	if !strings.Contains(a.Dial, "permission denied") || a.Reply != "" || calls.Load() != 0 {
		t.Fatalf("another account reached the control channel: %+v", a)
	}
}

// TestOtherAccountRefusedByPeerCred: should the file system let another
// account through (folder and socket opened by mistake), SO_PEERCRED at
// Accept still refuses it: no status, the hook never runs.
func TestOtherAccountRefusedByPeerCred(t *testing.T) {
	path, calls := server(t, &Server{})
	for _, p := range []string{filepath.Dir(filepath.Dir(path)), filepath.Dir(path), path} {
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	a := asOther(t, path)
	if a.Dial != "" {
		t.Fatalf("the weakened socket did not accept the connection (%s): the test does not reach the check", a.Dial)
	}
	if a.Reply != "" || a.Read == "" || calls.Load() != 0 {
		t.Fatalf("another account got an answer: %+v (%d calls)", a, calls.Load())
	}
}
