// Package deliver sends the account service's codes: e-mail over SMTP,
// SMS through an HTTP gateway, and an outbox that only keeps them, for a
// demo on one machine. Each is a Sender; Router picks one per channel.
package deliver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Channel is how a message reaches the person.
type Channel string

const (
	SMS   Channel = "sms"
	Email Channel = "email"
)

// Message is one code message.
type Message struct {
	Channel Channel   `json:"channel"`
	To      string    `json:"to"` // E.164 for SMS, an address for e-mail
	Subject string    `json:"subject,omitempty"`
	Text    string    `json:"text"`
	Code    string    `json:"code,omitempty"` // the code in Text, for the outbox page
	Sent    time.Time `json:"sent"`
}

// Sender delivers a message or says why not.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// ErrNoChannel: no sender is configured for the message's channel.
var ErrNoChannel = errors.New("deliver: no sender for this channel")

// Router sends each message through the sender of its channel, and also
// into Outbox when that is set.
type Router struct {
	SMS, Email Sender
	Outbox     *Outbox
}

// Send routes m.
func (r *Router) Send(ctx context.Context, m Message) error {
	if m.Sent.IsZero() {
		m.Sent = time.Now()
	}
	var s Sender
	switch m.Channel {
	case SMS:
		s = r.SMS
	case Email:
		s = r.Email
	}
	if s == nil && r.Outbox == nil {
		return fmt.Errorf("%w: %s", ErrNoChannel, m.Channel)
	}
	if s != nil {
		if err := s.Send(ctx, m); err != nil {
			return err
		}
	}
	if r.Outbox != nil {
		r.Outbox.Send(ctx, m)
	}
	return nil
}

// Outbox keeps the last messages in memory, newest first: what would have
// been sent, for the demo's /outbox page. The zero value keeps 100.
type Outbox struct {
	// Max is how many messages are kept; zero means 100.
	Max int

	mu   sync.Mutex
	msgs []Message
}

// Send keeps m.
func (o *Outbox) Send(_ context.Context, m Message) error {
	if m.Sent.IsZero() {
		m.Sent = time.Now()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	limit := o.Max
	if limit == 0 {
		limit = 100
	}
	o.msgs = append([]Message{m}, o.msgs...)
	if len(o.msgs) > limit {
		o.msgs = o.msgs[:limit]
	}
	return nil
}

// Messages returns the kept messages, newest first.
func (o *Outbox) Messages() []Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Message(nil), o.msgs...)
}
