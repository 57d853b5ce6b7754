package peercred

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// ownerPID finds, in a table written by Windows' GetExtendedTcpTable with
// TCP_TABLE_OWNER_PID_CONNECTIONS, the process owning the socket whose own
// end is client and whose peer is server. It is here, not in the Windows
// file, so that its reading of the layout is tested everywhere.
//
// The table is a DWORD count and then rows: MIB_TCPROW_OWNER_PID (IPv4,
// 24 bytes: dwState, dwLocalAddr, dwLocalPort, dwRemoteAddr, dwRemotePort,
// dwOwningPid) or MIB_TCP6ROW_OWNER_PID (IPv6, 56 bytes: ucLocalAddr[16],
// dwLocalScopeId, dwLocalPort, ucRemoteAddr[16], dwRemoteScopeId,
// dwRemotePort, dwState, dwOwningPid). Addresses are in network order;
// a port is in network order in the first two bytes of its DWORD.
func ownerPID(table []byte, v6 bool, client, server netip.AddrPort) (uint32, error) {
	rowLen := 24
	if v6 {
		rowLen = 56
	}
	le := binary.LittleEndian
	if len(table) < 4 {
		return 0, errors.New("peercred: GetExtendedTcpTable: short table")
	}
	n := int(le.Uint32(table))
	rows := table[4:]
	if n < 0 || n > len(rows)/rowLen {
		return 0, errors.New("peercred: GetExtendedTcpTable: short table")
	}
	for i := 0; i < n; i++ {
		row := rows[i*rowLen : (i+1)*rowLen]
		var local, remote netip.AddrPort
		var pid uint32
		if !v6 {
			local = netip.AddrPortFrom(netip.AddrFrom4([4]byte(row[4:8])), binary.BigEndian.Uint16(row[8:]))
			remote = netip.AddrPortFrom(netip.AddrFrom4([4]byte(row[12:16])), binary.BigEndian.Uint16(row[16:]))
			pid = le.Uint32(row[20:])
		} else {
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
