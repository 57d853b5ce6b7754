package peercred

import (
	"fmt"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	iphlpapi            = windows.NewLazySystemDLL("iphlpapi.dll")
	getExtendedTcpTable = iphlpapi.NewProc("GetExtendedTcpTable")
)

// TCP_TABLE_OWNER_PID_CONNECTIONS: established (and other non-listening)
// connections with their owning process.
const tcpTableOwnerPIDConnections = 4

func self() (Account, error) {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return "", fmt.Errorf("peercred: own token: %w", err)
	}
	return Account(u.User.Sid.String()), nil
}

func owner(client, server netip.AddrPort) (Account, error) {
	pid, err := tcpOwnerPID(client, server)
	if err != nil {
		return "", err
	}
	return Process(pid)
}

// Process returns the account a process runs as: the other end of the
// agent's named pipe (GetNamedPipeClientProcessId /
// GetNamedPipeServerProcessId).
func Process(pid uint32) (Account, error) {
	// A process of another account may not be opened at all: that is an
	// unknown owner, refused like a foreign one.
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return "", fmt.Errorf("peercred: process %d: %w", pid, err)
	}
	defer windows.CloseHandle(h)
	var tok windows.Token
	if err := windows.OpenProcessToken(h, windows.TOKEN_QUERY, &tok); err != nil {
		return "", fmt.Errorf("peercred: token of process %d: %w", pid, err)
	}
	defer tok.Close()
	u, err := tok.GetTokenUser()
	if err != nil {
		return "", fmt.Errorf("peercred: user of process %d: %w", pid, err)
	}
	return Account(u.User.Sid.String()), nil
}

// tcpOwnerPID finds the process owning the socket whose own end is client
// and whose peer is server.
func tcpOwnerPID(client, server netip.AddrPort) (uint32, error) {
	af := uint32(windows.AF_INET)
	if client.Addr().Is6() {
		af = windows.AF_INET6
	}
	var buf []byte
	size := uint32(64 << 10)
	for tries := 0; ; tries++ {
		buf = make([]byte, size)
		r, _, _ := getExtendedTcpTable.Call(uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size)),
			0, uintptr(af), tcpTableOwnerPIDConnections, 0)
		if r == 0 {
			break
		}
		// The table grew between the two calls: size now says how much.
		if windows.Errno(r) != windows.ERROR_INSUFFICIENT_BUFFER || tries == 4 {
			return 0, fmt.Errorf("peercred: GetExtendedTcpTable: %w", windows.Errno(r))
		}
	}
	return ownerPID(buf, client.Addr().Is6(), client, server)
}
