//go:build !linux

package peercred

import "net"

// Unix has no implementation here: the caller refuses (fail closed).
func Unix(c *net.UnixConn) (Account, error) { return "", ErrUnsupported }
