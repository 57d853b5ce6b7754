package peercred

import (
	"fmt"
	"net"
	"strconv"

	"golang.org/x/sys/unix"
)

// Unix returns the account of the process at the other end of a unix
// socket connection, as the kernel recorded it at connect (SO_PEERCRED):
// the agent's per-user channel checks it even though the socket's folder
// and mode already keep other accounts out.
func Unix(c *net.UnixConn) (Account, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return "", fmt.Errorf("peercred: %w", err)
	}
	var cred *unix.Ucred
	var gerr error
	if err := raw.Control(func(fd uintptr) {
		cred, gerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return "", fmt.Errorf("peercred: %w", err)
	}
	if gerr != nil {
		return "", fmt.Errorf("peercred: SO_PEERCRED: %w", gerr)
	}
	return Account(strconv.FormatUint(uint64(cred.Uid), 10)), nil
}
