package server

import (
	"container/list"
	"context"
	"errors"
	"github.com/podpis/podpis/agent/wsapi"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/podpis/podpis/internal/peercred"
)

// The agent listens where every account of the machine can connect, and
// the Origin header is only a browser's promise: another account's process
// may send any Origin it likes. So each accepted connection is mapped, once,
// to the account that owns the client's socket (internal/peercred), and
// only the agent's own account is served.
//
// The lookup happens in Accept: it is a question to the kernel, keyed by
// the 4-tuple, that no peer can slow down (~7 µs on Linux), and it lets
// the connection table know every connection's account from the start.
// The table bounds connections from Accept to Close: MaxConnsPerAccount
// for each account, MaxConns in all. A connection over a limit replaces
// an idle one of the crowding account, or is closed at once — before the
// HTTP server spends a goroutine or a buffer on it.

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
// request are those a newcomer may push out: fresh ones (no request yet)
// and idle ones (keep-alive between requests, or a WebSocket with nothing
// in flight), each list oldest first.
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

// limitListener looks up each accepted connection's owner and admits it
// to the table; one over a limit is closed at once, and Accept goes on to
// the next.
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
		pc := &peerConn{Conn: c, cs: l.cs}
		pc.owner, pc.lookupErr = peercred.Owner(c.LocalAddr(), c.RemoteAddr())
		if pc.lookupErr != nil {
			pc.owner = "" // unknown owners share one account, and are refused service
		}
		victim, why := l.cs.admit(pc, time.Now())
		if victim != nil {
			victim.Close()
		}
		if why != "" {
			c.Close()
			l.cs.full(why, "uid", string(pc.owner))
			continue
		}
		return pc, nil
	}
}

// admit enters c in the table, returning the connection it replaces, or
// why it is refused. At the account's limit c replaces one of that
// account's idle connections. At the global limit it replaces an idle
// connection of the biggest other account: for the person's own
// connection, any other account's (they are only ever refused anyway);
// for another account's, one of a third account holding more than c's
// would, never the person's. So no account can crowd out the person, and
// flooding accounts share what is left.
func (cs *conns) admit(c *peerConn, now time.Time) (victim *peerConn, refused string) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	a := cs.accounts[c.owner]
	if a == nil {
		a = &account{}
		cs.accounts[c.owner] = a
	}
	switch {
	case a.n >= cs.perAccount:
		if victim = a.pushOut(now); victim == nil {
			refused = "connection limit reached for an account"
		}
	case cs.total >= cs.max:
		mine := cs.self != "" && c.owner == cs.self
		var big *account
		for owner, b := range cs.accounts {
			if b == a || (!mine && owner == cs.self) {
				continue
			}
			if big == nil || b.n > big.n {
				big = b
			}
		}
		if big != nil && (mine || big.n > a.n+1) {
			victim = big.pushOut(now)
		}
		if victim == nil {
			refused = "connection limit reached"
		}
	}
	if refused != "" {
		if a.n == 0 {
			delete(cs.accounts, c.owner)
		}
		return nil, refused
	}
	cs.total++
	a.n++
	c.acct = a
	c.elem, c.since = a.fresh.PushBack(c), now
	return victim, ""
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

// peerConn is an accepted connection with its owner.
type peerConn struct {
	net.Conn
	cs        *conns
	owner     peercred.Account // "" when unknown
	lookupErr error

	closeOnce sync.Once
	// Guarded by cs.mu.
	acct   *account
	busy   int
	elem   *list.Element // in acct.fresh or acct.idle while not busy
	since  time.Time     // when it joined that list
	closed bool
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
		if a := c.acct; a != nil {
			cs.total--
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
			path := r.URL.Path
			if strings.HasPrefix(path, "/prompt/") {
				path = "/prompt/…" // the rest is a prompt's secret
			}
			if strings.HasPrefix(path, wsapi.UploadPath) {
				path = wsapi.UploadPath + "…" // the rest is a stream's
			}
			args := []any{"uid", uid, "remote", r.RemoteAddr, "path", path, "origin", r.Header.Get("Origin")}
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
