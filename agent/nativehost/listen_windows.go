package nativehost

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"
	"unsafe"

	"github.com/podpis/podpis/internal/peercred"
	"golang.org/x/sys/windows"
)

// errRefused: a connection from another account, closed at Accept.
var errRefused = errors.New("nativehost: connection from another account")

// ErrRunning: another agent already serves the channel.
var ErrRunning = errors.New("nativehost: an agent already serves this channel")

// SocketPath is the agent's channel for this account: a named pipe whose
// name carries the user's SID.
func SocketPath() (string, error) {
	self, err := peercred.Self()
	if err != nil {
		return "", fmt.Errorf("nativehost: %w", err)
	}
	return `\\.\pipe\podpis-agent-` + string(self), nil
}

// ControlPath is the agent's control channel (agent/control) for local
// programs of this account: a pipe of its own, which a native host never
// opens, with the same DACL and checks as SocketPath's.
func ControlPath() (string, error) {
	self, err := peercred.Self()
	if err != nil {
		return "", fmt.Errorf("nativehost: %w", err)
	}
	return `\\.\pipe\podpis-control-` + string(self), nil
}

// Listen opens the named pipe at path with a DACL that lets only this
// account (and no one over the network) open it. The first instance is
// created with FILE_FLAG_FIRST_PIPE_INSTANCE: if another process already
// holds the name — an agent, or a squatter of another account — Listen
// fails rather than share it. Accept checks the client process's account
// as well.
func Listen(path string) (net.Listener, error) {
	self, err := peercred.Self()
	if err != nil {
		return nil, fmt.Errorf("nativehost: %w", err)
	}
	sd, err := windows.SecurityDescriptorFromString("D:P(A;;GA;;;" + string(self) + ")")
	if err != nil {
		return nil, fmt.Errorf("nativehost: %w", err)
	}
	l := &pipeListener{path: path, self: self, sa: &windows.SecurityAttributes{SecurityDescriptor: sd}}
	l.sa.Length = uint32(unsafe.Sizeof(*l.sa))
	h, err := l.create(true)
	if err != nil {
		if errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_PIPE_BUSY) {
			return nil, ErrRunning
		}
		return nil, err
	}
	l.next = h
	return l, nil
}

type pipeListener struct {
	path string
	self peercred.Account
	sa   *windows.SecurityAttributes

	mu     sync.Mutex
	next   windows.Handle
	closed bool
}

func (l *pipeListener) create(first bool) (windows.Handle, error) {
	name, err := windows.UTF16PtrFromString(l.path)
	if err != nil {
		return 0, err
	}
	flags := uint32(windows.PIPE_ACCESS_DUPLEX | windows.FILE_FLAG_OVERLAPPED)
	if first {
		flags |= windows.FILE_FLAG_FIRST_PIPE_INSTANCE
	}
	h, err := windows.CreateNamedPipe(name, flags,
		windows.PIPE_TYPE_BYTE|windows.PIPE_READMODE_BYTE|windows.PIPE_WAIT|windows.PIPE_REJECT_REMOTE_CLIENTS,
		windows.PIPE_UNLIMITED_INSTANCES, 64<<10, 64<<10, 0, l.sa)
	if err != nil {
		return 0, fmt.Errorf("nativehost: CreateNamedPipe: %w", err)
	}
	return h, nil
}

func (l *pipeListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, net.ErrClosed
	}
	h := l.next
	l.mu.Unlock()
	ev, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		return nil, fmt.Errorf("nativehost: %w", err)
	}
	defer windows.CloseHandle(ev)
	ov := &windows.Overlapped{HEvent: ev}
	err = windows.ConnectNamedPipe(h, ov)
	if errors.Is(err, windows.ERROR_IO_PENDING) {
		var n uint32
		err = windows.GetOverlappedResult(h, ov, &n, true)
	}
	if err != nil && !errors.Is(err, windows.ERROR_PIPE_CONNECTED) {
		l.mu.Lock()
		closed := l.closed
		l.mu.Unlock()
		if closed {
			return nil, net.ErrClosed
		}
		return nil, fmt.Errorf("nativehost: ConnectNamedPipe: %w", err)
	}
	next, err := l.create(false)
	l.mu.Lock()
	if err == nil {
		l.next = next
	}
	l.mu.Unlock()
	if err != nil {
		windows.CloseHandle(h)
		return nil, err
	}
	var pid uint32
	if err := windows.GetNamedPipeClientProcessId(h, &pid); err != nil {
		windows.CloseHandle(h)
		return nil, fmt.Errorf("%w: %v", errRefused, err)
	}
	if who, err := peercred.Process(pid); err != nil || who != l.self {
		windows.CloseHandle(h)
		return nil, fmt.Errorf("%w: %q (%v)", errRefused, who, err)
	}
	return newPipeConn(h, l.path), nil
}

func (l *pipeListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	windows.CancelIoEx(l.next, nil)
	return windows.CloseHandle(l.next)
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr(l.path) }

// Dial opens this account's agent pipe and checks that the process
// serving it runs as this account: a squatter of another account that
// took the name first gets no page's message.
func Dial(path string) (net.Conn, error) {
	name, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, err
	}
	h, err := windows.CreateFile(name, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil, windows.OPEN_EXISTING,
		windows.FILE_FLAG_OVERLAPPED|windows.SECURITY_SQOS_PRESENT|windows.SECURITY_IDENTIFICATION, 0)
	if err != nil {
		return nil, fmt.Errorf("nativehost: %w", err)
	}
	self, err := peercred.Self()
	if err != nil {
		windows.CloseHandle(h)
		return nil, fmt.Errorf("nativehost: %w", err)
	}
	var pid uint32
	if err := windows.GetNamedPipeServerProcessId(h, &pid); err != nil {
		windows.CloseHandle(h)
		return nil, fmt.Errorf("nativehost: %w", err)
	}
	if who, err := peercred.Process(pid); err != nil || who != self {
		windows.CloseHandle(h)
		return nil, fmt.Errorf("%w: the agent's pipe belongs to %q (%v)", errRefused, who, err)
	}
	return newPipeConn(h, path), nil
}

type pipeAddr string

func (a pipeAddr) Network() string { return "pipe" }
func (a pipeAddr) String() string  { return string(a) }

// pipeConn is a pipe handle opened for overlapped I/O, which os.File
// reads and writes concurrently (a synchronous handle would hold a write
// behind a pending read).
type pipeConn struct {
	*os.File
	addr pipeAddr
}

func newPipeConn(h windows.Handle, path string) *pipeConn {
	return &pipeConn{File: os.NewFile(uintptr(h), path), addr: pipeAddr(path)}
}

func (c *pipeConn) LocalAddr() net.Addr  { return c.addr }
func (c *pipeConn) RemoteAddr() net.Addr { return c.addr }

// Deadlines are best effort: os.File has them only for pollable handles.
func (c *pipeConn) SetDeadline(t time.Time) error      { c.File.SetDeadline(t); return nil }
func (c *pipeConn) SetReadDeadline(t time.Time) error  { c.File.SetReadDeadline(t); return nil }
func (c *pipeConn) SetWriteDeadline(t time.Time) error { c.File.SetWriteDeadline(t); return nil }
