package nativehost

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/podpis/podpis/agent/wsapi"
)

// Channel serves the protocol to native hosts over a per-user channel
// (Listen). It trusts its client, a native host of the same account, for
// the origin each envelope names: the browser attested it to the
// extension; the page never writes it.
type Channel struct {
	API *wsapi.API
	Log *slog.Logger
	// OpTimeout and MaxInFlight are as for the WebSocket server (zero:
	// 3 minutes, 8); MaxInFlight applies per origin of a connection.
	OpTimeout   time.Duration
	MaxInFlight int
	// MaxOrigins bounds the origins one connection speaks for; zero
	// means 16. A native host serves one extension port, normally one page.
	MaxOrigins int

	mu     sync.Mutex
	l      net.Listener
	conns  map[net.Conn]struct{}
	closed bool
}

// Serve serves on l (from Listen, which refuses other accounts) until
// Close.
func (ch *Channel) Serve(l net.Listener) error {
	if ch.Log == nil {
		ch.Log = slog.New(slog.DiscardHandler)
	}
	if ch.MaxOrigins == 0 {
		ch.MaxOrigins = 16
	}
	ch.mu.Lock()
	if ch.closed {
		ch.mu.Unlock()
		return net.ErrClosed
	}
	ch.l = l
	ch.conns = map[net.Conn]struct{}{}
	ch.mu.Unlock()
	for {
		c, err := l.Accept()
		if err != nil {
			ch.mu.Lock()
			closed := ch.closed
			ch.mu.Unlock()
			if closed {
				return nil
			}
			if errors.Is(err, errRefused) {
				ch.Log.Warn("native channel: refused", "err", err)
				continue
			}
			return err
		}
		ch.mu.Lock()
		if ch.closed {
			ch.mu.Unlock()
			c.Close()
			return nil
		}
		ch.conns[c] = struct{}{}
		ch.mu.Unlock()
		go func() {
			ch.serveConn(c)
			ch.mu.Lock()
			delete(ch.conns, c)
			ch.mu.Unlock()
		}()
	}
}

// Close stops accepting and closes every connection, which cancels their
// requests in flight.
func (ch *Channel) Close() error {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ch.closed = true
	for c := range ch.conns {
		c.Close()
	}
	if ch.l != nil {
		return ch.l.Close()
	}
	return nil
}

// chConn is one native host's connection: a wsapi.Conn per origin, so
// that consent «Только сейчас» and cancel stay within an origin.
type chConn struct {
	ch    *Channel
	c     net.Conn
	conns map[string]*wsapi.Conn

	writeMu sync.Mutex
	wg      sync.WaitGroup
}

func (ch *Channel) serveConn(c net.Conn) {
	cc := &chConn{ch: ch, c: c, conns: map[string]*wsapi.Conn{}}
	defer c.Close()
	defer func() {
		for _, p := range cc.conns {
			p.Close()
		}
		cc.wg.Wait()
	}()
	for {
		env, err := ReadFrame(c, MaxEnvelope)
		switch {
		case errors.Is(err, ErrTooLarge), errors.Is(err, ErrEmpty):
			cc.write(transportError("", nil, TooLarge))
			continue
		case err != nil:
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				ch.Log.Info("native channel: read", "err", err)
			}
			return
		}
		cc.receive(env)
	}
}

func (cc *chConn) receive(env []byte) {
	var e Envelope
	if err := json.Unmarshal(env, &e); err != nil || e.Origin == "" || len(e.Message) == 0 {
		origin, id := peek(env)
		cc.write(transportError(origin, id, BadEnvelope))
		return
	}
	p, ok := cc.conns[e.Origin]
	if !ok {
		if !cc.ch.API.Serves(e.Origin) {
			_, id := peek(env)
			cc.reply(e.Origin, wsapi.Response{ID: orNull(id), Error: &wsapi.Error{Code: wsapi.OriginDenied, Message: wsapi.OriginDenied.Message()}})
			return
		}
		if len(cc.conns) >= cc.ch.MaxOrigins {
			_, id := peek(env)
			cc.reply(e.Origin, wsapi.Response{ID: orNull(id), Error: &wsapi.Error{Code: wsapi.Busy, Message: wsapi.Busy.Message()}})
			return
		}
		p = cc.ch.API.NewConn(e.Origin, wsapi.Limits{MaxInFlight: cc.ch.MaxInFlight, OpTimeout: cc.ch.OpTimeout})
		cc.conns[e.Origin] = p
	}
	call, reply := p.Receive(e.Message)
	if reply != nil {
		cc.reply(e.Origin, *reply)
		return
	}
	cc.wg.Add(1)
	go func() {
		defer cc.wg.Done()
		start := time.Now()
		call.Notify = func(r wsapi.Response) { cc.reply(e.Origin, r) }
		r, err := call.Run()
		ms := time.Since(start).Milliseconds()
		if pe := (*wsapi.PanicError)(nil); errors.As(err, &pe) {
			cc.ch.Log.Error("handler panic", "method", pe.Method, "panic", fmt.Sprint(pe.Value), "stack", string(pe.Stack))
		}
		if err != nil {
			cc.ch.Log.Info("request", "via", "native", "origin", p.Origin(), "method", call.Method, "code", r.Error.Code, "ms", ms, "err", err.Error())
		} else {
			cc.ch.Log.Info("request", "via", "native", "origin", p.Origin(), "method", call.Method, "code", "OK", "ms", ms)
		}
		cc.reply(e.Origin, r)
	}()
}

func orNull(id json.RawMessage) json.RawMessage {
	if len(id) == 0 {
		return json.RawMessage("null")
	}
	return id
}

func (cc *chConn) reply(origin string, r wsapi.Response) {
	msg, err := json.Marshal(r)
	if err != nil {
		cc.write(transportError(origin, r.ID, wsapi.Internal))
		return
	}
	b, _ := json.Marshal(Reply{Origin: origin, Message: msg})
	cc.write(b)
}

func (cc *chConn) write(b []byte) {
	cc.writeMu.Lock()
	defer cc.writeMu.Unlock()
	cc.c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	// A reply over the channel's limit cannot reach the browser either:
	// the host turns anything over MaxToBrowser into TOO_LARGE.
	if err := WriteFrame(cc.c, b, MaxFromBrowser); err != nil {
		cc.ch.Log.Info("native channel: write", "err", err)
	}
}
