package control

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/podpis/podpis/agent/nativehost"
)

// MaxRequest bounds a control request: they are a few bytes.
const MaxRequest = 4 << 10

// MaxResponse bounds a response: a status with many certificates.
const MaxResponse = 16 << 20

// Server answers control requests on a listener from nativehost.Listen
// (which refuses other accounts). The agent's wiring (cmd/podpis) fills
// in what it knows.
type Server struct {
	// Status describes the running agent.
	Status func(ctx context.Context) (*Status, error)
	// OpenSettings opens the settings window. Nil: NOT_AVAILABLE (a
	// headless agent, or one built before the window).
	OpenSettings func(ctx context.Context) error
	// Timeout bounds one request; zero means 30 s.
	Timeout time.Duration
	Log     *slog.Logger

	mu     sync.Mutex
	l      net.Listener
	conns  map[net.Conn]struct{}
	closed bool
}

// Serve answers on l until Close.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return net.ErrClosed
	}
	s.l, s.conns = l, map[net.Conn]struct{}{}
	s.mu.Unlock()
	for {
		c, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Another account's connection (refused at Accept): logged,
			// and the channel goes on serving its own.
			s.log().Warn("control channel: refused", "err", err)
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return nil
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		go func() {
			s.serveConn(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// Close stops serving and closes every connection.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	if s.l != nil {
		return s.l.Close()
	}
	return nil
}

func (s *Server) serveConn(c net.Conn) {
	defer c.Close()
	for {
		// A client that says nothing for a minute is gone.
		c.SetReadDeadline(time.Now().Add(time.Minute))
		b, err := nativehost.ReadFrame(c, MaxRequest)
		switch {
		case errors.Is(err, nativehost.ErrTooLarge), errors.Is(err, nativehost.ErrEmpty):
			if !s.write(c, Response{Error: ErrBadRequest}) {
				return
			}
			continue
		case err != nil:
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.log().Info("control channel: read", "err", err)
			}
			return
		}
		if !s.write(c, s.Handle(b)) {
			return
		}
	}
}

// Handle answers one request frame: the dispatch, apart from the
// transport so that tests reach it directly.
func (s *Server) Handle(frame []byte) Response {
	kind, e := parseRequest(frame)
	if e != nil {
		s.log().Info("control request", "code", e.Code)
		return Response{Error: e}
	}
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var r Response
	switch kind {
	case KindStatus:
		if s.Status == nil {
			r.Error = ErrNotAvailable
			break
		}
		st, err := s.Status(ctx)
		if err != nil {
			s.log().Warn("control: status", "err", err)
			r.Error = ErrFailed
			break
		}
		r.Status = st
	case KindOpenSettings:
		if s.OpenSettings == nil {
			r.Error = ErrNotAvailable
			break
		}
		if err := s.OpenSettings(ctx); err != nil {
			s.log().Warn("control: openSettings", "err", err)
			r.Error = ErrFailed
			if errors.Is(err, ErrNotAvailable) {
				r.Error = ErrNotAvailable
			}
		}
	}
	code := "OK"
	if r.Error != nil {
		code = string(r.Error.Code)
	}
	s.log().Info("control request", "request", kind, "code", code)
	return r
}

func (s *Server) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func (s *Server) write(c net.Conn, r Response) bool {
	b, err := json.Marshal(r)
	if err != nil {
		b, _ = json.Marshal(Response{Error: ErrFailed})
	}
	c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if err := nativehost.WriteFrame(c, b, MaxResponse); err != nil {
		s.log().Info("control channel: write", "err", err)
		return false
	}
	return true
}
