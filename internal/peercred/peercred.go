// Package peercred finds the local account behind the other end of a
// loopback TCP connection: the agent listens on 127.0.0.1, where every
// account of the machine can connect, and the Origin header is only a
// browser's promise. The answer comes from the operating system's socket
// table, keyed by the connection's exact 4-tuple, never from anything the
// peer sends.
//
// Linux asks the kernel over NETLINK_SOCK_DIAG (an exact lookup, no table
// dump; a second one under IPv4-mapped addresses when an IPv4 peer is not
// found) and reads /proc/net/tcp{,6} only where netlink is unavailable;
// Windows walks GetExtendedTcpTable to the owning process and reads its
// token's user SID. Other systems have no implementation: Owner fails, and
// the caller refuses (fail closed).
package peercred

import (
	"errors"
	"net"
	"net/netip"
)

// Account names a local account: the decimal uid on Linux, the user's SID
// (S-1-5-21-…) on Windows. Two connections come from the same account
// exactly when their Accounts are equal.
type Account string

var (
	// ErrNotFound: no local socket has that 4-tuple (the peer is gone,
	// or it is not on this machine).
	ErrNotFound = errors.New("peercred: no local socket for this connection")
	// ErrUnsupported: this system has no way to ask.
	ErrUnsupported = errors.New("peercred: not supported on this system")
)

// Owner returns the account that owns the client's socket of a TCP
// connection accepted by this process: local is the accepted connection's
// LocalAddr, remote its RemoteAddr (the client's address and port).
func Owner(local, remote net.Addr) (Account, error) {
	l, err := addrPort(local)
	if err != nil {
		return "", err
	}
	r, err := addrPort(remote)
	if err != nil {
		return "", err
	}
	// The client's socket: its own end is our remote, its peer our local.
	return owner(r, l)
}

// Self returns the account this process runs as.
func Self() (Account, error) { return self() }

func addrPort(a net.Addr) (netip.AddrPort, error) {
	t, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.AddrPort{}, errors.New("peercred: not a TCP address")
	}
	ap := t.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port()), nil
}
