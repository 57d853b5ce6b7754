package peercred

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// self is the effective uid: a socket belongs to the (file-system) uid
// that created it, which follows the effective one.
func self() (Account, error) { return Account(strconv.Itoa(os.Geteuid())), nil }

func owner(client, server netip.AddrPort) (Account, error) {
	uid, err := lookup(client, server)
	if errors.Is(err, ErrNotFound) && client.Addr().Is4() {
		// A dual-stack IPv6 socket reaches 127.0.0.1 as ::ffff:127.0.0.1:
		// the kernel files it with the IPv6 sockets, under the mapped
		// addresses. No IPv4 socket has this 4-tuple, so it is the one.
		uid, err = lookup(mapped(client), mapped(server))
	}
	if err != nil {
		return "", err
	}
	return Account(strconv.FormatUint(uint64(uid), 10)), nil
}

func lookup(client, server netip.AddrPort) (uint32, error) {
	uid, err := diag(client, server)
	if errors.Is(err, errNoNetlink) {
		uid, err = procNet(client, server)
	}
	return uid, err
}

// mapped is an IPv4 address and port as IPv4-mapped IPv6.
func mapped(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom16(a.Addr().As16()), a.Port())
}

// netlinkWorks is set by the first answer that found a socket.
var netlinkWorks atomic.Bool

var errNoNetlink = errors.New("peercred: NETLINK_SOCK_DIAG unavailable")

// Sizes and offsets of <linux/inet_diag.h>: struct nlmsghdr (16 bytes),
// struct inet_diag_req_v2 (56), struct inet_diag_msg (72).
const (
	nlmsgHdrLen      = 16
	reqLen           = 56
	sockIDLen        = 48
	diagMsgLen       = 72
	diagMsgID        = 4
	sockIDAddrs      = 36 // sport, dport, src, dst of inet_diag_sockid
	diagMsgUID       = 4 + sockIDLen + 12
	diagMsgInode     = diagMsgUID + 4
	nlmsgError       = 2 // NLMSG_ERROR
	nlmsgDone        = 3 // NLMSG_DONE
	inetDiagNoCookie = ^uint32(0)
)

// diag asks the kernel for the one socket whose own end is client and
// whose peer is server (an exact lookup: the kernel hashes the 4-tuple,
// it does not walk the table, so a flood of connections does not make a
// lookup slower).
func diag(client, server netip.AddrPort) (uint32, error) {
	family := byte(unix.AF_INET)
	if client.Addr().Is6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", errNoNetlink, err)
	}
	defer unix.Close(fd)
	// The kernel answers within sendto; the timeout only guards against
	// a kernel that does not.
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 1})

	b := make([]byte, nlmsgHdrLen+reqLen)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(b[6:], unix.NLM_F_REQUEST)
	ne.PutUint32(b[8:], 1) // sequence
	r := b[nlmsgHdrLen:]
	r[0] = family
	r[1] = unix.IPPROTO_TCP
	ne.PutUint32(r[4:], ^uint32(0)) // every state
	id := r[8:]
	binary.BigEndian.PutUint16(id[0:], client.Port())
	binary.BigEndian.PutUint16(id[2:], server.Port())
	putAddr(id[4:20], client.Addr())
	putAddr(id[20:36], server.Addr())
	ne.PutUint32(id[40:], inetDiagNoCookie)
	ne.PutUint32(id[44:], inetDiagNoCookie)
	if err := unix.Sendto(fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, fmt.Errorf("%w: %v", errNoNetlink, err)
	}

	buf := make([]byte, 4096)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return 0, fmt.Errorf("peercred: netlink: %w", err)
	}
	for m := buf[:n]; len(m) >= nlmsgHdrLen; {
		l := int(ne.Uint32(m[0:]))
		if l < nlmsgHdrLen || l > len(m) {
			return 0, errors.New("peercred: netlink: malformed reply")
		}
		body := m[nlmsgHdrLen:l]
		switch ne.Uint16(m[4:]) {
		case nlmsgError:
			if len(body) < 4 {
				return 0, errors.New("peercred: netlink: malformed error")
			}
			switch errno := syscall.Errno(-int32(ne.Uint32(body))); errno {
			case unix.ENOENT:
				// Also what a kernel without inet_diag says. Once netlink
				// has answered it is there, and ENOENT is an answer:
				// a peer that resets its connections must not make every
				// lookup walk /proc.
				if netlinkWorks.Load() {
					return 0, ErrNotFound
				}
				return 0, fmt.Errorf("%w: %v", errNoNetlink, errno)
			case unix.EINVAL, unix.EOPNOTSUPP, unix.EPROTONOSUPPORT, unix.EAFNOSUPPORT:
				return 0, fmt.Errorf("%w: %v", errNoNetlink, errno)
			default:
				return 0, fmt.Errorf("peercred: netlink: %w", errno)
			}
		case unix.SOCK_DIAG_BY_FAMILY:
			if len(body) < diagMsgLen {
				return 0, errors.New("peercred: netlink: short inet_diag_msg")
			}
			// A socket no process holds any more (closed, or a
			// TIME_WAIT leftover that the kernel reports as uid 0)
			// belongs to nobody.
			netlinkWorks.Store(true)
			if ne.Uint32(body[diagMsgInode:]) == 0 {
				return 0, ErrNotFound
			}
			// With no connection of that 4-tuple, the kernel's lookup
			// falls back to a socket listening on the client's address
			// and port (after the client reset its connection, another
			// program may listen there): only the connection itself
			// answers, with our 4-tuple as its own.
			if !bytes.Equal(body[diagMsgID:diagMsgID+sockIDAddrs], id[:sockIDAddrs]) {
				return 0, ErrNotFound
			}
			return ne.Uint32(body[diagMsgUID:]), nil
		case nlmsgDone:
			return 0, ErrNotFound
		}
		m = m[(l+3)&^3:]
	}
	return 0, ErrNotFound
}

// putAddr writes an address as the kernel's __be32[4]: IPv4 in the first
// word.
func putAddr(b []byte, a netip.Addr) {
	if a.Is4() {
		v := a.As4()
		copy(b, v[:])
		return
	}
	v := a.As16()
	copy(b, v[:])
}

// procNet reads /proc/net/tcp or tcp6: a walk of the whole table, for
// kernels without inet_diag only.
func procNet(client, server netip.AddrPort) (uint32, error) {
	name := "/proc/net/tcp"
	if client.Addr().Is6() {
		name = "/proc/net/tcp6"
	}
	f, err := os.Open(name)
	if err != nil {
		return 0, fmt.Errorf("peercred: %w", err)
	}
	defer f.Close()
	want, peer := procAddr(client), procAddr(server)
	s := bufio.NewScanner(f)
	s.Scan() // the header
	for s.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		fs := strings.Fields(s.Text())
		if len(fs) < 10 || fs[1] != want || fs[2] != peer {
			continue
		}
		if fs[9] == "0" {
			return 0, ErrNotFound // nobody holds it (see diag)
		}
		uid, err := strconv.ParseUint(fs[7], 10, 32)
		if err != nil {
			return 0, fmt.Errorf("peercred: %s: bad uid %q", name, fs[7])
		}
		return uint32(uid), nil
	}
	if err := s.Err(); err != nil {
		return 0, fmt.Errorf("peercred: %w", err)
	}
	return 0, ErrNotFound
}

// procAddr formats an address as /proc/net/tcp does: each 32-bit word of
// the network-order address printed as a native integer in hex, then the
// port in hex.
func procAddr(a netip.AddrPort) string {
	var raw []byte
	if a.Addr().Is4() {
		v := a.Addr().As4()
		raw = v[:]
	} else {
		v := a.Addr().As16()
		raw = v[:]
	}
	var sb strings.Builder
	for i := 0; i < len(raw); i += 4 {
		fmt.Fprintf(&sb, "%08X", binary.NativeEndian.Uint32(raw[i:]))
	}
	fmt.Fprintf(&sb, ":%04X", a.Port())
	return sb.String()
}
