// Package replay remembers single-use values until they expire on their
// own: a Telegram login's hash, an ESIA state. A value used twice within
// its life is refused; after it, the value is refused anyway by whoever
// checks its age, so the store forgets it.
package replay

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrUsed: the value was used before and has not expired.
var ErrUsed = errors.New("replay: already used")

// ErrExpired: the value's life is already over; it is not remembered.
var ErrExpired = errors.New("replay: already expired")

// Store records single-use values. Use marks key used until until, in one
// atomic step: of concurrent callers with the same key exactly one gets
// nil, the others ErrUsed.
type Store interface {
	Use(ctx context.Context, key string, until time.Time) error
}

// Memory is a Store for one process. The zero value is ready to use.
type Memory struct {
	mu    sync.Mutex
	until map[string]time.Time
	sweep int // sweep expired keys once the map holds this many
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory { return &Memory{} }

func (m *Memory) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Use implements Store.
func (m *Memory) Use(_ context.Context, key string, until time.Time) error {
	now := m.now()
	if !until.After(now) {
		return ErrExpired
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.until == nil {
		m.until = make(map[string]time.Time)
	}
	if t, ok := m.until[key]; ok && t.After(now) {
		return ErrUsed
	}
	if len(m.until) >= m.sweep {
		// Amortised: a sweep costs the map's size and comes after the map
		// has doubled since the last one, so memory stays within twice the
		// live values.
		for k, t := range m.until {
			if !t.After(now) {
				delete(m.until, k)
			}
		}
		m.sweep = max(64, 2*len(m.until))
	}
	m.until[key] = until
	return nil
}

// Len returns how many values are remembered, expired ones not yet swept
// included.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.until)
}
