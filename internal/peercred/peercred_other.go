//go:build !linux && !windows

package peercred

import "net/netip"

func owner(client, server netip.AddrPort) (Account, error) { return "", ErrUnsupported }

func self() (Account, error) { return "", ErrUnsupported }
