package server

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// DefaultPorts are tried in order: another user's agent or another program
// may hold the first.
var DefaultPorts = []int{24730, 24731, 24732, 24733}

// Listen binds 127.0.0.1 on the first free port of ports (or the address
// given), and [::1] on the same port when the system has IPv6 loopback.
// It never binds other interfaces.
func Listen(addr string, ports []int) (net.Listener, error) {
	if addr != "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("server: %s is not a loopback address", addr)
		}
		return net.Listen("tcp", addr)
	}
	var errs []error
	for _, port := range ports {
		l4, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		l6, err := net.Listen("tcp6", fmt.Sprintf("[::1]:%d", port))
		if err != nil {
			return l4, nil // no IPv6 loopback, or the port is taken there: IPv4 suffices
		}
		return newMulti(l4, l6), nil
	}
	return nil, fmt.Errorf("server: no free port in %v: %w", ports, errors.Join(errs...))
}

// multiListener accepts on several listeners.
type multiListener struct {
	ls     []net.Listener
	conns  chan net.Conn
	errs   chan error
	closed chan struct{}
	once   sync.Once
}

func newMulti(ls ...net.Listener) *multiListener {
	m := &multiListener{ls: ls, conns: make(chan net.Conn), errs: make(chan error, len(ls)), closed: make(chan struct{})}
	for _, l := range ls {
		go func(l net.Listener) {
			for {
				c, err := l.Accept()
				if err != nil {
					m.errs <- err
					return
				}
				select {
				case m.conns <- c:
				case <-m.closed:
					c.Close()
					return
				}
			}
		}(l)
	}
	return m
}

func (m *multiListener) Accept() (net.Conn, error) {
	select {
	case c := <-m.conns:
		return c, nil
	case err := <-m.errs:
		return nil, err
	case <-m.closed:
		return nil, net.ErrClosed
	}
}

func (m *multiListener) Close() error {
	m.once.Do(func() { close(m.closed) })
	var errs []error
	for _, l := range m.ls {
		errs = append(errs, l.Close())
	}
	return errors.Join(errs...)
}

func (m *multiListener) Addr() net.Addr { return m.ls[0].Addr() }

// sniffListener serves ws and wss on one port: a connection whose first
// byte is 0x16 (a TLS handshake record) is served over TLS. The sniffing
// happens on the first read, in the connection's own goroutine, so a slow
// client never holds up Accept.
type sniffListener struct {
	net.Listener
	tls *tls.Config
}

func (l *sniffListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if l.tls == nil {
		return c, nil
	}
	return &sniffConn{Conn: c, cfg: l.tls, r: bufio.NewReader(c)}, nil
}

type sniffConn struct {
	net.Conn
	cfg  *tls.Config
	r    *bufio.Reader
	once sync.Once
	tls  *tls.Conn
	err  error
}

// handshakeTimeout bounds the first byte and the TLS handshake.
const handshakeTimeout = 10 * time.Second

func (c *sniffConn) sniff() {
	c.Conn.SetReadDeadline(time.Now().Add(handshakeTimeout))
	b, err := c.r.Peek(1)
	if err != nil {
		c.err = err
		return
	}
	if b[0] == 0x16 {
		c.tls = tls.Server(&bufferedConn{Conn: c.Conn, r: c.r}, c.cfg)
		if err := c.tls.Handshake(); err != nil {
			c.err = err
		}
	}
	// The HTTP server's own header deadline was overwritten above: give
	// the request line and headers the same bound again.
	c.Conn.SetReadDeadline(time.Now().Add(handshakeTimeout))
}

func (c *sniffConn) Read(p []byte) (int, error) {
	c.once.Do(c.sniff)
	if c.err != nil {
		return 0, c.err
	}
	if c.tls != nil {
		return c.tls.Read(p)
	}
	return c.r.Read(p)
}

func (c *sniffConn) Write(p []byte) (int, error) {
	c.once.Do(c.sniff)
	if c.err != nil {
		return 0, c.err
	}
	if c.tls != nil {
		return c.tls.Write(p)
	}
	return c.Conn.Write(p)
}

func (c *sniffConn) Close() error {
	if c.tls != nil {
		return c.tls.Close()
	}
	return c.Conn.Close()
}

type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }
