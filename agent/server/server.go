// Package server is the agent's transport: a loopback listener serving the
// WebSocket protocol (agent/wsapi) over ws and wss on one port, and
// GET /v1/info for detection. It checks every connection's local account
// (against other users of the machine), Host (against DNS rebinding) and
// Origin (against unknown sites), limits connections, frame sizes, idle
// time and operation time, and never signs, prompts or touches keys
// itself: it decodes, checks and dispatches.
package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/podpis/podpis/agent/wsapi"
)

// Server carries one agent's protocol.
type Server struct {
	// API is the protocol (wsapi.New over the agent).
	API *wsapi.API
	// TLS, when set, serves wss on the same port (see LoadOrCreateTLS).
	TLS *tls.Config
	Log *slog.Logger
	// MaxFrame bounds a message; zero means 1 MiB.
	MaxFrame int64
	// MaxSkipped is the largest message answered TOO_LARGE; a larger one
	// closes the connection (1009). Zero means 64 MiB (Chrome's largest
	// native message, the same bound as the native host's).
	MaxSkipped int64
	// IdleTimeout closes a silent connection; zero means 10 minutes.
	IdleTimeout time.Duration
	// OpTimeout bounds one request, PIN entry included; zero means 3 min.
	OpTimeout time.Duration
	// MaxInFlight bounds concurrent requests per connection; zero means 8.
	MaxInFlight int
	// Prompts, when set, serves the agent's own prompt pages under
	// /prompt/ (prompt.Browser).
	Prompts http.Handler
	// MaxConns bounds open connections, from Accept to Close. Zero means
	// 256: at 23 KB (silent) to 50 KB (TLS handshake done, headers
	// pending) each (BenchmarkConnMemory), a full table costs at most
	// ~13 MB, and the agent stays under 64 MB. When it is full, a newcomer
	// of the agent's own account replaces another account's idle
	// connection; another account's newcomer may replace only a bigger
	// third account's; else it is closed at once.
	MaxConns int
	// MaxConnsPerAccount bounds one local account's connections; a
	// newcomer over it replaces one of that account's idle connections,
	// or is closed at once when all are busy. Zero means 128: a browser
	// needs one WebSocket per page using the agent and a few probes.
	MaxConnsPerAccount int

	httpServer *http.Server
	mu         sync.Mutex
	port       string
}

func (s *Server) defaults() {
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.MaxFrame == 0 {
		s.MaxFrame = 1 << 20
	}
	if s.MaxSkipped == 0 {
		s.MaxSkipped = 64 << 20
	}
	if s.IdleTimeout == 0 {
		s.IdleTimeout = 10 * time.Minute
	}
	if s.OpTimeout == 0 {
		s.OpTimeout = 3 * time.Minute
	}
	if s.MaxInFlight == 0 {
		s.MaxInFlight = 8
	}
	if s.MaxConns == 0 {
		s.MaxConns = 256
	}
	if s.MaxConnsPerAccount == 0 {
		s.MaxConnsPerAccount = 128
	}
}

// Serve serves on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	s.defaults()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	s.mu.Lock()
	s.port = port
	s.httpServer = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.Log.Handler(), slog.LevelDebug),
		ConnContext:       withPeer,
	}
	counted := &limitListener{Listener: l, cs: newConns(s.MaxConns, s.MaxConnsPerAccount, s.Log)}
	hs := s.httpServer
	s.mu.Unlock()
	err := hs.Serve(&sniffListener{Listener: counted, tls: s.TLS})
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting and closes connections.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	hs := s.httpServer
	s.mu.Unlock()
	if hs == nil {
		return nil
	}
	return hs.Shutdown(ctx)
}

// Handler is the HTTP side: "/" upgrades to WebSocket, "/v1/info" answers
// detection probes, wsapi.UploadPath takes a stream's bytes. It serves only connections accepted by Serve from the
// agent's own account.
func (s *Server) Handler() http.Handler {
	s.defaults()
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/info", s.info)
	mux.HandleFunc(wsapi.UploadPath, s.upload)
	if s.Prompts != nil {
		mux.Handle("/prompt/", s.Prompts)
	}
	mux.HandleFunc("/", s.ws)
	return s.checkPeer(s.checkHost(mux))
}

// checkHost refuses requests whose Host is not the loopback address by
// number: a page on evil.example whose name resolves to 127.0.0.1 (DNS
// rebinding) sends Host: evil.example.
func (s *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			s.Log.Warn("refused host", "host", r.Host, "origin", r.Header.Get("Origin"))
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func loopbackHost(host string) bool {
	h := host
	if hh, port, err := net.SplitHostPort(host); err == nil {
		if port == "" {
			return false
		}
		h = hh
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		h = host[1 : len(host)-1]
	}
	return h == "127.0.0.1" || h == "::1"
}

// info answers GET /v1/info with CORS for origins the agent serves, and
// the Private Network Access preflight Chrome sends before a public page
// may reach 127.0.0.1.
func (s *Server) info(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin != "" {
		if !s.API.Serves(origin) {
			http.Error(w, "origin denied", http.StatusForbidden)
			return
		}
		if allowCORS(w, r, origin, http.MethodGet) {
			return
		}
	}
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(s.API.Detection())
}

// allowCORS lets a page of origin (one the agent serves) read the answer,
// and answers its preflight for method (true: nothing more to write).
func allowCORS(w http.ResponseWriter, r *http.Request, origin, method string) bool {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	if r.Method != http.MethodOptions {
		return false
	}
	h.Set("Access-Control-Allow-Methods", method)
	if r.Header.Get("Access-Control-Request-Private-Network") == "true" {
		h.Set("Access-Control-Allow-Private-Network", "true")
	}
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}

func (s *Server) ws(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	origin := r.Header.Get("Origin")
	up := websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		// The origin is the browser's, so a page cannot lie about it;
		// a missing Origin (not a browser) is refused too.
		CheckOrigin: func(r *http.Request) bool { return origin != "" && s.API.Serves(origin) },
	}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		s.Log.Info("refused connection", "origin", origin, "err", err)
		return
	}
	// The connection counts as busy only while a request is in flight:
	// an open WebSocket waiting for its next message may be pushed out.
	peer := peerOf(r.Context())
	peer.end()
	defer peer.begin()
	c := &connection{s: s, ws: conn, proto: s.API.NewConn(origin, wsapi.Limits{MaxInFlight: s.MaxInFlight, OpTimeout: s.OpTimeout, Uploads: true}), peer: peer}
	c.serve()
}

// connection carries one WebSocket's frames to and from its wsapi.Conn.
type connection struct {
	s     *Server
	ws    *websocket.Conn
	proto *wsapi.Conn
	peer  *peerConn

	writeMu sync.Mutex
	wg      sync.WaitGroup
	buf     bytes.Buffer // the message being read
}

func (c *connection) serve() {
	defer c.ws.Close()
	defer func() {
		c.proto.Close()
		c.wg.Wait()
	}()
	// A message over MaxFrame is read on to its end and answered with
	// TOO_LARGE, the connection kept: a page that sends a big document
	// whole learns why, and streams it. Only past MaxSkipped is the
	// connection closed (1009), not to read without end.
	c.ws.SetReadLimit(c.s.MaxSkipped)
	for {
		c.ws.SetReadDeadline(time.Now().Add(c.s.IdleTimeout))
		kind, msg, err := c.read()
		if errors.Is(err, errFrameTooLarge) {
			c.s.Log.Info("frame too large", "origin", c.proto.Origin())
			if kind == websocket.BinaryMessage {
				c.reply(wsapi.BinaryTooLarge(msg))
			} else {
				c.reply(wsapi.TooLarge(msg))
			}
			continue
		}
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.s.Log.Warn("frame too large", "origin", c.proto.Origin())
			}
			return
		}
		if kind == websocket.BinaryMessage {
			// A binary message is a document's chunk and nothing else
			// (docs/protocol.md): hashed here like streamChunk.
			c.reply(c.proto.ReceiveBinary(msg))
			continue
		}
		call, reply := c.proto.Receive(msg)
		if reply != nil {
			c.reply(*reply)
			continue
		}
		c.run(call)
	}
}

var errFrameTooLarge = errors.New("server: frame over the limit")

// read reads one message of at most MaxFrame bytes; a longer one is
// skipped to its end and errFrameTooLarge returned with its beginning.
func (c *connection) read() (int, []byte, error) {
	kind, r, err := c.ws.NextReader()
	if err != nil {
		return 0, nil, err
	}
	// One buffer per connection, reused: a streamed document's chunks
	// (700 KB of base64 each) are not allocated anew every time.
	// Receive copies what it keeps.
	c.buf.Reset()
	if _, err := c.buf.ReadFrom(io.LimitReader(r, c.s.MaxFrame+1)); err != nil {
		return 0, nil, err
	}
	msg := c.buf.Bytes()
	if int64(len(msg)) > c.s.MaxFrame {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return 0, nil, err
		}
		return kind, msg[:min(len(msg), 256)], errFrameTooLarge
	}
	return kind, msg, nil
}

// run runs a request in its own goroutine: token calls and prompts never
// hold up the read loop (nor cancel).
func (c *connection) run(call *wsapi.Call) {
	c.wg.Add(1)
	c.peer.begin()
	go func() {
		defer c.wg.Done()
		defer c.peer.end()
		start := time.Now()
		call.Notify = c.reply
		r, err := call.Run()
		ms := time.Since(start).Milliseconds()
		if p := (*wsapi.PanicError)(nil); errors.As(err, &p) {
			c.s.Log.Error("handler panic", "method", p.Method, "panic", fmt.Sprint(p.Value), "stack", string(p.Stack))
		}
		switch {
		case err != nil:
			c.s.Log.Info("request", "origin", c.proto.Origin(), "method", call.Method, "code", r.Error.Code, "ms", ms, "err", err.Error())
		default:
			c.s.Log.Info("request", "origin", c.proto.Origin(), "method", call.Method, "code", "OK", "ms", ms)
		}
		c.reply(r)
	}()
}

func (c *connection) reply(r wsapi.Response) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(30 * time.Second))
	c.ws.WriteJSON(r)
}
