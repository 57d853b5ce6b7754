package peercred

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// TestOwnerPID reads tables laid out as GetExtendedTcpTable writes them
// (MIB_TCPTABLE_OWNER_PID, MIB_TCP6TABLE_OWNER_PID in the Windows SDK's
// tcpmib.h), byte by byte: the server's own row of the connection, with
// the 4-tuple reversed, must not be taken for the client's.
func TestOwnerPID(t *testing.T) {
	h := func(s string) []byte {
		b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// 127.0.0.1:50000 (0xC350) → 127.0.0.1:24730 (0x609A) owned by pid 4660
	// (0x1234); the agent's row (reversed) owned by pid 8 comes first.
	v4 := h(`02000000
		05000000 7f000001 609a0000 7f000001 c3500000 08000000
		05000000 7f000001 c3500000 7f000001 609a0000 34120000`)
	// [::1]:50000 → [::1]:24730, pid 4660, after the agent's row.
	v6 := h(`02000000
		00000000000000000000000000000001 00000000 609a0000 00000000000000000000000000000001 00000000 c3500000 05000000 08000000
		00000000000000000000000000000001 00000000 c3500000 00000000000000000000000000000001 00000000 609a0000 05000000 34120000`)
	c4, s4 := netip.MustParseAddrPort("127.0.0.1:50000"), netip.MustParseAddrPort("127.0.0.1:24730")
	c6, s6 := netip.MustParseAddrPort("[::1]:50000"), netip.MustParseAddrPort("[::1]:24730")
	for _, tc := range []struct {
		name           string
		table          []byte
		v6             bool
		client, server netip.AddrPort
		pid            uint32
		err            error
	}{
		{"v4 client", v4, false, c4, s4, 0x1234, nil},
		{"v4 server side", v4, false, s4, c4, 8, nil},
		{"v4 absent", v4, false, netip.MustParseAddrPort("127.0.0.1:50001"), s4, 0, ErrNotFound},
		{"v6 client", v6, true, c6, s6, 0x1234, nil},
		{"v6 absent", v6, true, c6, netip.MustParseAddrPort("[::1]:24731"), 0, ErrNotFound},
		{"count beyond the rows", h("03000000"), false, c4, s4, 0, nil},
		{"empty", nil, false, c4, s4, 0, nil},
	} {
		pid, err := ownerPID(tc.table, tc.v6, tc.client, tc.server)
		switch {
		case tc.err != nil && !errors.Is(err, tc.err), tc.err == nil && tc.pid != 0 && err != nil, pid != tc.pid:
			t.Errorf("%s: pid %d, %v; want %d, %v", tc.name, pid, err, tc.pid, tc.err)
		case tc.pid == 0 && tc.err == nil && err == nil:
			t.Errorf("%s: no error for a malformed table", tc.name)
		}
	}
}
