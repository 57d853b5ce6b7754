package peercred

import (
	"encoding/binary"
	"errors"
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
	rowLen := 24 // MIB_TCPROW_OWNER_PID
	if client.Addr().Is6() {
		af, rowLen = windows.AF_INET6, 56 // MIB_TCP6ROW_OWNER_PID
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
	le := binary.LittleEndian
	n := int(le.Uint32(buf))
	rows := buf[4:]
	if n*rowLen > len(rows) {
		return 0, errors.New("peercred: GetExtendedTcpTable: short table")
	}
	for i := 0; i < n; i++ {
		row := rows[i*rowLen : (i+1)*rowLen]
		var local, remote netip.AddrPort
		var pid uint32
		if rowLen == 24 {
			// dwState, dwLocalAddr, dwLocalPort, dwRemoteAddr, dwRemotePort, dwOwningPid;
			// addresses in network order, ports in the low two bytes, network order.
			local = netip.AddrPortFrom(netip.AddrFrom4([4]byte(row[4:8])), binary.BigEndian.Uint16(row[8:]))
			remote = netip.AddrPortFrom(netip.AddrFrom4([4]byte(row[12:16])), binary.BigEndian.Uint16(row[16:]))
			pid = le.Uint32(row[20:])
		} else {
			// ucLocalAddr[16], dwLocalScopeId, dwLocalPort, ucRemoteAddr[16],
			// dwRemoteScopeId, dwRemotePort, dwState, dwOwningPid.
			local = netip.AddrPortFrom(netip.AddrFrom16([16]byte(row[0:16])), binary.BigEndian.Uint16(row[20:]))
			remote = netip.AddrPortFrom(netip.AddrFrom16([16]byte(row[24:40])), binary.BigEndian.Uint16(row[44:]))
			pid = le.Uint32(row[52:])
		}
		if local == client && remote == server {
			if pid == 0 {
				return 0, ErrNotFound // a closed socket no process holds
			}
			return pid, nil
		}
	}
	return 0, ErrNotFound
}
