package server

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/wsapi"
)

// FuzzProtocol sends arbitrary text frames to a running agent over a real
// WebSocket: every frame gets exactly one well-formed answer — a result or
// an error with a known code, carrying the request's id or null — and the
// connection keeps serving.
func FuzzProtocol(f *testing.F) {
	for _, s := range []string{
		`{"id":1,"method":"info"}`,
		`{"id":"a","method":"certificates","params":{"onlyValid":true,"issuer":"x"}}`,
		`{"id":2,"method":"authenticate","params":{"certificate":"00","challenge":"AAAA"}}`,
		`{"id":3,"method":"sign","params":{"certificate":"00","data":"AAAA","detached":true}}`,
		`{"id":4,"method":"cancel","params":{"id":2}}`,
		`{"id":[1],"method":"info"}`, `{"method":"info"}`, `[]`, `null`, `{"id":1e999,"method":"info"}`,
		`{"id":5,"method":"certificates","params":{"unknown":1}}`,
	} {
		f.Add([]byte(s))
	}
	a := agent.New(agent.Config{Trusted: []agent.Rule{site}, OnlyTrusted: true, Version: "fuzz"})
	l, err := Listen("127.0.0.1:0", nil)
	if err != nil {
		f.Fatal(err)
	}
	srv := &Server{API: wsapi.New(a)}
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())
	codes := map[string]bool{}
	for _, c := range []string{"BAD_REQUEST", "UNKNOWN_METHOD", "NO_PROVIDER", "NO_CERTIFICATES", "CERT_NOT_FOUND", "BUSY", "INTERNAL", "TIMEOUT"} {
		codes[c] = true
	}
	var ws *websocket.Conn
	dial := func(t *testing.T) {
		var err error
		ws, _, err = websocket.DefaultDialer.Dial("ws://"+l.Addr().String()+"/", http.Header{"Origin": {site}})
		if err != nil {
			t.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		if len(frame) > 64<<10 {
			return // over the frame limit: the agent closes, tested elsewhere
		}
		if ws == nil {
			dial(t)
		}
		if err := ws.WriteMessage(websocket.TextMessage, frame); err != nil {
			t.Fatal(err)
		}
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("no answer to %q: %v", frame, err)
		}
		var r struct {
			ID     json.RawMessage
			Result json.RawMessage
			Error  *struct{ Code, Message string }
		}
		if err := json.Unmarshal(msg, &r); err != nil || len(r.ID) == 0 {
			t.Fatalf("answer %q to %q is not a response", msg, frame)
		}
		if (r.Error == nil) == (len(r.Result) == 0) {
			t.Fatalf("answer %q to %q: want exactly one of result and error", msg, frame)
		}
		if r.Error != nil && (!codes[r.Error.Code] || r.Error.Message == "") {
			t.Fatalf("answer %q to %q: unexpected error", msg, frame)
		}
	})
}
