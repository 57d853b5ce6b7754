package nativehost

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Host is `podpis native-host`: one browser extension port on
// stdin/stdout, forwarded to the agent's channel.
type Host struct {
	// Dial connects to the running agent (Dial(SocketPath())).
	Dial func() (net.Conn, error)
	// Start, when set, starts the agent when Dial fails; the host then
	// dials again for StartWait (zero: 5 s). Without it, or when the
	// agent does not come up, each message is answered NOT_RUNNING.
	Start     func() error
	StartWait time.Duration
	Log       *slog.Logger
}

// Run forwards envelopes from the browser (in) to the agent and replies
// back (out) until the browser closes in (nil) or the agent goes away
// after having answered (an error: the extension sees the port close and
// fails what is pending). The agent is dialled at the first message, and
// again at every message while it cannot be reached.
func (h *Host) Run(in io.Reader, out io.Writer) error {
	if h.Log == nil {
		h.Log = slog.New(slog.DiscardHandler)
	}
	var (
		outMu  sync.Mutex
		agent  net.Conn
		done   = make(chan error, 1)
		toUser = func(b []byte) error {
			outMu.Lock()
			defer outMu.Unlock()
			if len(b) > MaxToBrowser {
				origin, id := peek(b)
				b = transportError(origin, id, TooLarge)
			}
			return WriteFrame(out, b, MaxToBrowser)
		}
	)
	defer func() {
		if agent != nil {
			agent.Close()
		}
	}()
	type frame struct {
		b   []byte
		err error
	}
	frames := make(chan frame)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			b, err := ReadFrame(in, MaxEnvelope)
			select {
			case frames <- frame{b, err}:
			case <-stop:
				return
			}
			if err != nil && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrEmpty) {
				return
			}
		}
	}()
	for {
		var f frame
		select {
		case err := <-done:
			return err
		case f = <-frames:
		}
		env, err := f.b, f.err
		switch {
		case errors.Is(err, ErrTooLarge):
			// Skipped unread: neither its origin nor its id is known.
			if err := toUser(transportError("", nil, TooLarge)); err != nil {
				return err
			}
			continue
		case errors.Is(err, ErrEmpty):
			if err := toUser(transportError("", nil, BadEnvelope)); err != nil {
				return err
			}
			continue
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		}
		if agent == nil {
			agent = h.connect()
			if agent == nil {
				origin, id := peek(env)
				if err := toUser(transportError(origin, id, NotRunning)); err != nil {
					return err
				}
				continue
			}
			go func(c net.Conn) { done <- h.pump(c, toUser) }(agent)
		}
		if err := WriteFrame(agent, env, MaxEnvelope); err != nil {
			return err
		}
	}
}

// pump copies the agent's replies to the browser until the channel closes.
func (h *Host) pump(c net.Conn, toUser func([]byte) error) error {
	for {
		b, err := ReadFrame(c, MaxFromBrowser)
		if errors.Is(err, ErrTooLarge) || errors.Is(err, ErrEmpty) {
			continue
		}
		if err != nil {
			h.Log.Info("native host: agent closed the channel", "err", err)
			c.Close()
			return errors.New("nativehost: the agent closed the channel")
		}
		if err := toUser(b); err != nil {
			c.Close()
			return err
		}
	}
}

func (h *Host) connect() net.Conn {
	c, err := h.Dial()
	if err == nil {
		return c
	}
	h.Log.Info("native host: no agent", "err", err)
	if h.Start == nil {
		return nil
	}
	if err := h.Start(); err != nil {
		h.Log.Warn("native host: starting the agent", "err", err)
		return nil
	}
	wait := h.StartWait
	if wait == 0 {
		wait = 5 * time.Second
	}
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := h.Dial(); err == nil {
			return c
		}
	}
	return nil
}
