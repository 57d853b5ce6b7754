package control

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"time"

	"github.com/podpis/podpis/agent/nativehost"
)

// Client asks the running agent of this account.
type Client struct {
	// Dial connects to the control channel; nil dials
	// nativehost.ControlPath with nativehost.Dial, which checks that the
	// agent behind it is of this account.
	Dial func() (net.Conn, error)
}

// Status asks the running agent what it serves. With no agent of this
// account on the channel it is ErrNotRunning.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	r, err := c.do(ctx, KindStatus)
	if err != nil {
		return nil, err
	}
	if r.Status == nil {
		return nil, errorf("status: empty answer")
	}
	return r.Status, nil
}

// OpenSettings asks the running agent to open its settings window:
// ErrNotAvailable when it has none (headless), ErrNotRunning when no
// agent runs.
func (c *Client) OpenSettings(ctx context.Context) error {
	_, err := c.do(ctx, KindOpenSettings)
	return err
}

func (c *Client) do(ctx context.Context, kind string) (*Response, error) {
	dial := c.Dial
	if dial == nil {
		dial = func() (net.Conn, error) {
			path, err := nativehost.ControlPath()
			if err != nil {
				return nil, err
			}
			return nativehost.Dial(path)
		}
	}
	conn, err := dial()
	if err != nil {
		return nil, errors.Join(ErrNotRunning, err)
	}
	defer conn.Close()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(30 * time.Second)
	}
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	req, _ := json.Marshal(Request{Request: kind})
	if err := nativehost.WriteFrame(conn, req, MaxRequest); err != nil {
		return nil, errorf("%s: %w", kind, err)
	}
	b, err := nativehost.ReadFrame(conn, MaxResponse)
	if err != nil {
		if ctx.Err() != nil {
			return nil, errorf("%s: %w", kind, ctx.Err())
		}
		return nil, errorf("%s: %w", kind, err)
	}
	var r Response
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, errorf("%s: %w", kind, err)
	}
	if r.Error != nil {
		return nil, r.Error
	}
	return &r, nil
}
