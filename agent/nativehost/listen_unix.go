//go:build unix

package nativehost

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/podpis/podpis/internal/peercred"
)

// Dir is the agent's per-user folder for its channels:
// $XDG_RUNTIME_DIR/podpis, the folder the agent's prompt pages use too.
// Without a runtime folder (no login session: a plain `make run` over
// ssh, a container) it is podpis-<uid> in the temporary folder ($TMPDIR,
// else /tmp), which Listen creates 0700 and, like the other, refuses when
// it is a symlink, open to others or another account's: /tmp is shared,
// and another account may have planted the name first (then there is no
// channel, never a channel through its folder).
func Dir() string {
	if rt := os.Getenv("XDG_RUNTIME_DIR"); rt != "" {
		return filepath.Join(rt, "podpis")
	}
	return filepath.Join(os.TempDir(), "podpis-"+strconv.Itoa(os.Geteuid()))
}

// SocketPath is the agent's channel for native hosts of this account.
func SocketPath() (string, error) {
	return filepath.Join(Dir(), "agent.sock"), nil
}

// ControlPath is the agent's control channel (agent/control) for local
// programs of this account: podpis doctor, podpis settings. It is a
// socket of its own, beside SocketPath: a native host dials only
// SocketPath, so nothing a browser extension sends can reach it.
func ControlPath() (string, error) {
	return filepath.Join(Dir(), "control.sock"), nil
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
