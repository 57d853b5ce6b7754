package server

import (
	"container/list"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/podpis/podpis/internal/peercred"
)

// The agent listens where every account of the machine can connect, and
// the Origin header is only a browser's promise: another account's process
// may send any Origin it likes. So each accepted connection is mapped, once,
// to the account that owns the client's socket (internal/peercred), and
// only the agent's own account is served. The same bookkeeping bounds the
// connections: MaxConns in all, counted from Accept, and MaxConnsPerAccount
// for each account, counted from the owner lookup (the connection's first
// read, in its own goroutine), both until Close.

// conns is the connection table of one Serve.
type conns struct {
	max, perAccount int
	self            peercred.Account // "" when unknown: nobody is served
	log             *slog.Logger

	mu       sync.Mutex
	total    int
	accounts map[peercred.Account]*account

	lastFullLog atomic.Int64 // unix nanoseconds of the last "limit" log line
}

// account holds one account's connections. The ones not handling a
// request are those a newcomer of the same account may push out: fresh
// ones (no request yet) and idle ones (keep-alive between requests, or a
// WebSocket with nothing in flight), each list oldest first.
type account struct {
	n     int
	fresh list.List
	idle  list.List
}

// silentGrace is longer than any real client takes to send its request
// after connecting: a connection silent for longer is the first to go.
const silentGrace = time.Second

// pushOut picks the connection a newcomer replaces, or nil: a fresh one
// silent for over silentGrace, else the least recently active one. A
// request that has just connected is thus the last to be pushed out, and
// an idle WebSocket of the person's outlives a flood's silent sockets.
func (a *account) pushOut(now time.Time) *peerConn {
	f, i := a.fresh.Front(), a.idle.Front()
	e, l := f, &a.fresh
	switch {
	case f == nil:
		e, l = i, &a.idle
	case i == nil || now.Sub(f.Value.(*peerConn).since) > silentGrace:
	case i.Value.(*peerConn).since.Before(f.Value.(*peerConn).since):
		e, l = i, &a.idle
	}
	if e == nil {
		return nil
	}
	c := l.Remove(e).(*peerConn)
	c.elem = nil
	return c
}

func newConns(max, perAccount int, log *slog.Logger) *conns {
	cs := &conns{max: max, perAccount: perAccount, log: log, accounts: map[peercred.Account]*account{}}
	self, err := peercred.Self()
	if err != nil {
		log.Error("own account unknown: every connection will be refused", "err", err)
	}
	cs.self = self
	return cs
}

// limitListener counts connections from Accept on; a connection over
// MaxConns is closed at once, and Accept goes on to the next.
type limitListener struct {
	net.Listener
	cs *conns
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.cs.mu.Lock()
		full := l.cs.total >= l.cs.max
		if !full {
			l.cs.total++
		}
		l.cs.mu.Unlock()
		if full {
			c.Close()
			l.cs.full("connection limit reached", "max", l.cs.max)
			continue
		}
		return &peerConn{Conn: c, cs: l.cs}, nil
	}
}

// full logs a refusal for a full table, at most once a second: a flood
// must not fill the log as well.
func (cs *conns) full(msg string, args ...any) {
	now := time.Now().UnixNano()
	last := cs.lastFullLog.Load()
	if now-last > int64(time.Second) && cs.lastFullLog.CompareAndSwap(last, now) {
		cs.log.Warn(msg, args...)
	}
}

var errOverLimit = errors.New("server: too many connections from this account")

// peerConn is an accepted connection with its owner. The owner is looked
// up on the first Read (the HTTP server's first act on a connection, in
// the connection's goroutine), before the TLS sniffing: Accept never waits
// for it, and another account never gets as far as a TLS handshake's
// worth of the agent's time before its connection is counted.
type peerConn struct {
	net.Conn
	cs *conns

	lookup    sync.Once
	owner     peercred.Account // "" when unknown
	lookupErr error
	refused   bool // over the account's limit: closed

	closeOnce sync.Once
	// Guarded by cs.mu.
	acct   *account
	busy   int
	elem   *list.Element // in acct.fresh or acct.idle while not busy
	since  time.Time     // when it joined that list
	closed bool
}

func (c *peerConn) Read(p []byte) (int, error) {
	c.lookup.Do(c.identify)
	if c.refused {
		return 0, errOverLimit
	}
	return c.Conn.Read(p)
}

func (c *peerConn) Write(p []byte) (int, error) {
	c.lookup.Do(c.identify)
	if c.refused {
		return 0, errOverLimit
	}
	return c.Conn.Write(p)
}

// identify looks up the owner and joins its account's table; at the
// account's limit the newcomer pushes out that account's least recently
// idle connection (a silent one, or one between requests), or is closed
// itself when all are busy. An account can thus crowd out only itself,
// and a flood from the person's own account (a hostile page) cannot keep
// a real request out: the flood's idle connections go first.
func (c *peerConn) identify() {
	c.owner, c.lookupErr = peercred.Owner(c.Conn.LocalAddr(), c.Conn.RemoteAddr())
	if c.lookupErr != nil {
		c.owner = "" // unknown owners share one table, and are refused service
	}
	cs := c.cs
	var victim *peerConn
	cs.mu.Lock()
	if c.closed {
		cs.mu.Unlock()
		return
	}
	a := cs.accounts[c.owner]
	if a == nil {
		a = &account{}
		cs.accounts[c.owner] = a
	}
	now := time.Now()
	if a.n >= cs.perAccount {
		if victim = a.pushOut(now); victim == nil {
			c.refused = true
		}
	}
	if !c.refused {
		a.n++
		c.acct = a
		c.elem, c.since = a.fresh.PushBack(c), now
	}
	cs.mu.Unlock()
	if victim != nil {
		victim.Close()
	}
	if c.refused {
		cs.full("connection limit reached for an account", "uid", string(c.owner), "max", cs.perAccount)
		c.Close()
	}
}

// begin and end bracket the handling of a request: a connection in a
// request is never pushed out.
func (c *peerConn) begin() {
	if c == nil {
		return
	}
	c.cs.mu.Lock()
	c.busy++
	c.unlist()
	c.cs.mu.Unlock()
}

func (c *peerConn) end() {
	if c == nil {
		return
	}
	c.cs.mu.Lock()
	c.busy--
	if c.busy == 0 && c.acct != nil && !c.closed {
		c.elem, c.since = c.acct.idle.PushBack(c), time.Now()
	}
	c.cs.mu.Unlock()
}

func (c *peerConn) Close() error {
	err := net.ErrClosed
	c.closeOnce.Do(func() {
		cs := c.cs
		cs.mu.Lock()
		c.closed = true
		cs.total--
		if a := c.acct; a != nil {
			c.unlist()
			if a.n--; a.n == 0 {
				delete(cs.accounts, c.owner)
			}
		}
		cs.mu.Unlock()
		err = c.Conn.Close()
	})
	return err
}

// unlist takes the connection off its account's lists; cs.mu is held.
func (c *peerConn) unlist() {
	if c.elem != nil {
		// Remove ignores an element of another list.
		c.acct.fresh.Remove(c.elem)
		c.acct.idle.Remove(c.elem)
		c.elem = nil
	}
}

// served says whether the connection's owner is the agent's own account.
func (c *peerConn) served() bool {
	return c.lookupErr == nil && c.owner != "" && c.owner == c.cs.self
}

type peerKey struct{}

// withPeer is the HTTP server's ConnContext: it puts the connection's
// peerConn where the handlers find it.
func withPeer(ctx context.Context, c net.Conn) context.Context {
	for {
		switch cc := c.(type) {
		case *peerConn:
			return context.WithValue(ctx, peerKey{}, cc)
		case *sniffConn:
			c = cc.Conn
		default:
			return ctx
		}
	}
}

func peerOf(ctx context.Context) *peerConn {
	c, _ := ctx.Value(peerKey{}).(*peerConn)
	return c
}

// checkPeer serves only connections of the agent's own account; any
// other, or one whose owner is unknown, gets 403 and nothing more (the
// log says who). A request that did not come through Serve has no known
// owner and is refused too.
func (s *Server) checkPeer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := peerOf(r.Context())
		if c == nil || !c.served() {
			uid, err := "", errors.New("server: connection did not come through Serve")
			if c != nil {
				uid, err = string(c.owner), c.lookupErr
			}
			args := []any{"uid", uid, "remote", r.RemoteAddr, "path", r.URL.Path, "origin", r.Header.Get("Origin")}
			if err != nil {
				args = append(args, "err", err.Error())
			}
			s.Log.Warn("refused peer: not this agent's account", args...)
			w.Header().Set("Connection", "close")
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		c.begin()
		defer c.end()
		next.ServeHTTP(w, r)
	})
}
