// Package server is the agent's transport: a loopback listener serving the
// WebSocket protocol (agent/wsapi) over ws and wss on one port, and
// GET /v1/info for detection. It checks every connection's local account
// (against other users of the machine), Host (against DNS rebinding) and
// Origin (against unknown sites), limits connections, frame sizes, idle
// time and operation time, and never signs, prompts or touches keys
// itself: it decodes, checks and dispatches.
package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/wsapi"
)

// Server serves one Agent.
type Server struct {
	Agent *agent.Agent
	// TLS, when set, serves wss on the same port (see LoadOrCreateTLS).
	TLS *tls.Config
	Log *slog.Logger
	// MaxFrame bounds a message; zero means 1 MiB.
	MaxFrame int64
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
// detection probes. It serves only connections accepted by Serve from the
// agent's own account.
func (s *Server) Handler() http.Handler {
	s.defaults()
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/info", s.info)
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
		if !s.Agent.Serves(origin) {
			http.Error(w, "origin denied", http.StatusForbidden)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET")
			if r.Header.Get("Access-Control-Request-Private-Network") == "true" {
				h.Set("Access-Control-Allow-Private-Network", "true")
			}
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	i := s.Agent.Info()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"product": i.Product, "version": i.Version, "protocol": i.Protocol})
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
		CheckOrigin: func(r *http.Request) bool { return origin != "" && s.Agent.Serves(origin) },
	}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		s.Log.Info("refused connection", "origin", origin, "err", err)
		return
	}
	normalized, _ := agent.NormalizeOrigin(origin)
	// The connection counts as busy only while a request is in flight:
	// an open WebSocket waiting for its next message may be pushed out.
	peer := peerOf(r.Context())
	peer.end()
	defer peer.begin()
	c := &connection{s: s, ws: conn, origin: normalized, peer: peer, inflight: map[string]context.CancelFunc{}}
	c.serve()
}

type connection struct {
	s      *Server
	ws     *websocket.Conn
	origin string
	peer   *peerConn

	writeMu  sync.Mutex
	mu       sync.Mutex
	inflight map[string]context.CancelFunc
	wg       sync.WaitGroup
}

func (c *connection) serve() {
	defer c.ws.Close()
	// One consent scope per connection: «Только сейчас» covers this
	// connection's next requests (a login's certificates and
	// authenticate), never another connection's.
	ctx, cancelAll := context.WithCancel(agent.WithSession(context.Background(), agent.NewSession()))
	defer func() {
		cancelAll()
		c.wg.Wait()
	}()
	c.ws.SetReadLimit(c.s.MaxFrame)
	for {
		c.ws.SetReadDeadline(time.Now().Add(c.s.IdleTimeout))
		kind, msg, err := c.ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.s.Log.Warn("frame too large", "origin", c.origin)
			}
			return
		}
		if kind != websocket.TextMessage {
			c.reply(wsapi.Response{ID: json.RawMessage("null"), Error: &wsapi.Error{Code: wsapi.BadRequest, Message: wsapi.BadRequest.Message()}})
			continue
		}
		var req wsapi.Request
		if err := json.Unmarshal(msg, &req); err != nil || req.Method == "" || !validID(req.ID) {
			id := req.ID
			if !validID(id) {
				id = json.RawMessage("null")
			}
			c.reply(wsapi.Response{ID: id, Error: &wsapi.Error{Code: wsapi.BadRequest, Message: wsapi.BadRequest.Message()}})
			continue
		}
		c.dispatch(ctx, req)
	}
}

// validID accepts the JSON number or string ids of protocol v1.
func validID(id json.RawMessage) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	var v any
	if json.Unmarshal(id, &v) != nil {
		return false
	}
	switch v.(type) {
	case float64, string:
		return true
	}
	return false
}

func (c *connection) dispatch(ctx context.Context, req wsapi.Request) {
	if req.Method == "cancel" {
		var p struct {
			ID json.RawMessage `json:"id"`
		}
		if json.Unmarshal(req.Params, &p) != nil || !validID(p.ID) {
			c.fail(req.ID, wsapi.BadRequest)
			return
		}
		c.mu.Lock()
		cancel, ok := c.inflight[string(p.ID)]
		c.mu.Unlock()
		if ok {
			cancel()
		}
		c.reply(wsapi.Response{ID: req.ID, Result: map[string]bool{"cancelled": ok}})
		return
	}
	h, ok := wsapi.Methods[req.Method]
	if !ok {
		c.fail(req.ID, wsapi.UnknownMethod)
		return
	}
	c.mu.Lock()
	if len(c.inflight) >= c.s.MaxInFlight {
		c.mu.Unlock()
		c.fail(req.ID, wsapi.Busy)
		return
	}
	if _, dup := c.inflight[string(req.ID)]; dup {
		c.mu.Unlock()
		c.fail(req.ID, wsapi.BadRequest)
		return
	}
	opCtx, cancel := context.WithTimeout(ctx, c.s.OpTimeout)
	c.inflight[string(req.ID)] = cancel
	c.mu.Unlock()
	c.wg.Add(1)
	c.peer.begin()
	// Token calls run here, never in the read loop.
	go func() {
		defer c.wg.Done()
		defer c.peer.end()
		defer func() {
			cancel()
			c.mu.Lock()
			delete(c.inflight, string(req.ID))
			c.mu.Unlock()
		}()
		start := time.Now()
		res, err := c.call(opCtx, h, req)
		if err != nil {
			e := wsapi.ErrorOf(err)
			c.s.Log.Info("request", "origin", c.origin, "method", req.Method, "code", e.Code, "ms", time.Since(start).Milliseconds(), "err", err.Error())
			c.reply(wsapi.Response{ID: req.ID, Error: e})
			return
		}
		c.s.Log.Info("request", "origin", c.origin, "method", req.Method, "code", "OK", "ms", time.Since(start).Milliseconds())
		c.reply(wsapi.Response{ID: req.ID, Result: res})
	}()
}

// call runs a handler, turning a panic into INTERNAL so the agent keeps
// serving.
func (c *connection) call(ctx context.Context, h wsapi.Handler, req wsapi.Request) (res any, err error) {
	defer func() {
		if p := recover(); p != nil {
			c.s.Log.Error("handler panic", "method", req.Method, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			res, err = nil, errInternal
		}
	}()
	return h(ctx, c.s.Agent, c.origin, req.Params)
}

var errInternal = errors.New("server: internal error")

func (c *connection) fail(id json.RawMessage, code wsapi.Code) {
	c.reply(wsapi.Response{ID: id, Error: &wsapi.Error{Code: code, Message: code.Message()}})
}

func (c *connection) reply(r wsapi.Response) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(30 * time.Second))
	c.ws.WriteJSON(r)
}
