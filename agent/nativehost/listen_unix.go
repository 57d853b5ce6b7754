//go:build unix

package nativehost

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/podpis/podpis/internal/peercred"
)

// SocketPath is the agent's channel for this account:
// $XDG_RUNTIME_DIR/podpis/agent.sock, the folder the agent's prompt pages
// use too. Without a runtime folder (no login session) there is none.
func SocketPath() (string, error) {
	rt := os.Getenv("XDG_RUNTIME_DIR")
	if rt == "" {
		return "", errors.New("nativehost: XDG_RUNTIME_DIR is not set")
	}
	return filepath.Join(rt, "podpis", "agent.sock"), nil
}

// errRefused: a connection from another account, closed at Accept.
var errRefused = errors.New("nativehost: connection from another account")

// ErrRunning: another agent already serves the channel.
var ErrRunning = errors.New("nativehost: an agent already serves this channel")

// Listen opens the channel at path: its folder must be a real folder of
// this account's with mode 0700 (created so when missing; a symlink or a
// folder planted by another account is refused, not repaired), the socket
// gets mode 0600, and Accept refuses, by SO_PEERCRED, a peer of another
// account should the file system's defence ever fail.
func Listen(path string) (net.Listener, error) {
	dir := filepath.Dir(path)
	if err := ownDir(dir, true); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != os.ModeSocket {
			return nil, fmt.Errorf("nativehost: %s is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, ErrRunning
		}
		// A socket left by an agent that died: nobody answers on it.
		os.Remove(path)
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("nativehost: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("nativehost: %w", err)
	}
	self, err := peercred.Self()
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("nativehost: %w", err)
	}
	return &listener{UnixListener: l, self: self}, nil
}

type listener struct {
	*net.UnixListener
	self peercred.Account
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.AcceptUnix()
	if err != nil {
		return nil, err
	}
	who, err := peercred.Unix(c)
	if err != nil || who != l.self {
		c.Close()
		return nil, fmt.Errorf("%w: %q (%v)", errRefused, who, err)
	}
	return c, nil
}

// Dial connects a native host to its account's agent. The folder is
// checked as Listen checks it, and the agent behind the socket must be of
// this account (SO_PEERCRED): a host never hands a page's messages to
// someone else's process.
func Dial(path string) (net.Conn, error) {
	if err := ownDir(filepath.Dir(path), false); err != nil {
		return nil, err
	}
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return nil, fmt.Errorf("nativehost: %w", err)
	}
	self, err := peercred.Self()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("nativehost: %w", err)
	}
	if who, err := peercred.Unix(c.(*net.UnixConn)); err != nil || who != self {
		c.Close()
		return nil, fmt.Errorf("%w: the agent's socket belongs to %q (%v)", errRefused, who, err)
	}
	return c, nil
}

// ownDir checks that dir is a folder of this account's that nobody else
// may enter, creating it (mode 0700) when create is set and it is missing.
func ownDir(dir string, create bool) error {
	if create {
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("nativehost: %w", err)
		}
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("nativehost: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok || int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("nativehost: %s is not a folder of this account's", dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("nativehost: %s is open to other accounts (mode %v)", dir, fi.Mode().Perm())
	}
	return nil
}
