package peercred

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/podpis/podpis/internal/testdeps"
	"golang.org/x/sys/unix"
)

// accepted returns both ends of a fresh loopback connection on network
// ("tcp4" or "tcp6").
func accepted(t testing.TB, network, addr string) (server, client net.Conn) {
	t.Helper()
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("no %s loopback: %v", network, err)
	}
	defer l.Close()
	client, err = net.Dial(network, l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

var loopbacks = []struct{ network, addr string }{{"tcp4", "127.0.0.1:0"}, {"tcp6", "[::1]:0"}}

// TestOwnerSelf: a connection this process made is this process's
// account, by netlink and by /proc alike.
func TestOwnerSelf(t *testing.T) {
	me, _ := Self()
	for _, lb := range loopbacks {
		t.Run(lb.network, func(t *testing.T) {
			s, _ := accepted(t, lb.network, lb.addr)
			got, err := Owner(s.LocalAddr(), s.RemoteAddr())
			if err != nil || got != me {
				t.Fatalf("Owner = %q, %v; want %q", got, err, me)
			}
			l, _ := addrPort(s.LocalAddr())
			r, _ := addrPort(s.RemoteAddr())
			nl, err := diag(r, l)
			if err != nil {
				t.Fatalf("netlink: %v", err)
			}
			pn, err := procNet(r, l)
			if err != nil || pn != nl {
				t.Fatalf("/proc says %d, %v; netlink %d", pn, err, nl)
			}
		})
	}
}

// TestOwnerOtherAccount: a connection made by another account is that
// account's, though it reaches this process's listener; the socket of the
// same 4-tuple seen from our side (ours) is not what is reported.
func TestOwnerOtherAccount(t *testing.T) {
	testdeps.Need(t, "bash")
	uid, gid := testdeps.OtherAccount(t)
	for _, lb := range loopbacks {
		t.Run(lb.network, func(t *testing.T) {
			l, err := net.Listen(lb.network, lb.addr)
			if err != nil {
				t.Skipf("no %s loopback: %v", lb.network, err)
			}
			defer l.Close()
			ap := netip.MustParseAddrPort(l.Addr().String())
			cmd := exec.Command("bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/%s/%d; read -t 10 <&3", ap.Addr(), ap.Port()))
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Wait()
			defer cmd.Process.Kill()
			l.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
			c, err := l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			got, err := Owner(c.LocalAddr(), c.RemoteAddr())
			if err != nil || got != Account(strconv.Itoa(int(uid))) {
				t.Fatalf("Owner = %q, %v; want uid %d", got, err, uid)
			}
			if got == Account(strconv.Itoa(os.Getuid())) {
				t.Fatal("another account's connection is reported as ours")
			}
		})
	}
}

// TestOwnerGone: once the client has closed its socket, the connection
// belongs to nobody — not to uid 0, which the kernel reports for sockets
// in TIME_WAIT — so a request left behind by a closed peer is refused.
func TestOwnerGone(t *testing.T) {
	for _, lb := range loopbacks {
		t.Run(lb.network, func(t *testing.T) {
			s, c := accepted(t, lb.network, lb.addr)
			c.Close() // FIN_WAIT2, orphaned
			time.Sleep(20 * time.Millisecond)
			if got, err := Owner(s.LocalAddr(), s.RemoteAddr()); !errors.Is(err, ErrNotFound) {
				t.Errorf("client closed: Owner = %q, %v; want ErrNotFound", got, err)
			}
			s.Close() // the client's socket goes to TIME_WAIT
			time.Sleep(20 * time.Millisecond)
			if got, err := Owner(s.LocalAddr(), s.RemoteAddr()); !errors.Is(err, ErrNotFound) {
				t.Errorf("TIME_WAIT: Owner = %q, %v; want ErrNotFound", got, err)
			}
		})
	}
}

// TestProcAddr: the /proc/net/tcp spelling of addresses (little-endian
// words on this machine's byte order), as read in the kernel's output.
func TestProcAddr(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"127.0.0.1:8080", "0100007F:1F90"},
		{"[::1]:24730", "00000000000000000000000001000000:609A"},
	} {
		if got := procAddr(netip.MustParseAddrPort(tc.in)); got != tc.want {
			t.Errorf("procAddr(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// BenchmarkOwner: one lookup, as each accepted connection pays it once.
func BenchmarkOwner(b *testing.B) {
	s, _ := accepted(b, "tcp4", "127.0.0.1:0")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Owner(s.LocalAddr(), s.RemoteAddr()); err != nil {
			b.Fatal(err)
		}
	}
}

// TestOwnerNotAListener: the kernel's exact lookup falls back to listening
// sockets when no connection has the 4-tuple, so once the client has reset
// its connection (no TIME_WAIT left), a listener bound to the client's old
// address and port — another program's, another account's — would answer
// for the request the client left behind: on that very address, or on the
// IPv6 wildcard, which also takes IPv4 (and the v4-mapped second lookup).
// The connection belongs to nobody.
func TestOwnerNotAListener(t *testing.T) {
	for _, tc := range []struct{ name, network, addr, listen string }{
		{"tcp4 same address", "tcp4", "127.0.0.1:0", "%s"},
		{"tcp4 IPv6 wildcard", "tcp4", "127.0.0.1:0", "[::]:%d"},
		{"tcp6 same address", "tcp6", "[::1]:0", "%s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := accepted(t, tc.network, tc.addr)
			c.(*net.TCPConn).SetLinger(0)
			client := c.LocalAddr().String()
			at := fmt.Sprintf(tc.listen, client)
			if tc.listen != "%s" {
				at = fmt.Sprintf(tc.listen, c.LocalAddr().(*net.TCPAddr).Port)
			}
			c.Close() // RST: the client's socket is gone at once
			time.Sleep(20 * time.Millisecond)
			l, err := net.Listen("tcp", at)
			if err != nil {
				t.Skipf("listening on %s, where the client was: %v", at, err)
			}
			defer l.Close()
			if got, err := Owner(s.LocalAddr(), s.RemoteAddr()); !errors.Is(err, ErrNotFound) {
				t.Errorf("client reset, a listener on %s: Owner = %q, %v; want ErrNotFound", at, got, err)
			}
			lo, _ := addrPort(s.LocalAddr())
			r, _ := addrPort(s.RemoteAddr())
			if got, err := procNet(r, lo); !errors.Is(err, ErrNotFound) {
				t.Errorf("/proc: %d, %v; want ErrNotFound", got, err)
			}
		})
	}
}

// TestOwnerV4Mapped: a dual-stack IPv6 socket (what a client that opens
// AF_INET6 sockets for everything makes) reaches the IPv4 listener as
// ::ffff:127.0.0.1. The agent sees an IPv4 peer; the kernel files the
// client's socket with the IPv6 ones. It is still found — by netlink and
// by /proc — and is still its owner's, not nobody's.
func TestOwnerV4Mapped(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no IPv6: %v", err)
	}
	defer unix.Close(fd)
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0); err != nil {
		t.Fatal(err)
	}
	to := &unix.SockaddrInet6{Port: l.Addr().(*net.TCPAddr).Port}
	copy(to.Addr[:], net.ParseIP("::ffff:127.0.0.1").To16())
	if err := unix.Connect(fd, to); err != nil {
		t.Fatal(err)
	}
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	me, _ := Self()
	if got, err := Owner(s.LocalAddr(), s.RemoteAddr()); err != nil || got != me {
		t.Fatalf("Owner of a v4-mapped client = %q, %v; want %q", got, err, me)
	}
	l4, _ := addrPort(s.LocalAddr())
	r4, _ := addrPort(s.RemoteAddr())
	if pn, err := procNet(mapped(r4), mapped(l4)); err != nil || Account(strconv.Itoa(int(pn))) != me {
		t.Fatalf("/proc: %d, %v", pn, err)
	}
}
