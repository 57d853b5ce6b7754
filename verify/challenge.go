package verify

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Challenge is a single-use value the server hands the login page, bound to
// the site's origin.
type Challenge struct {
	Value   string    `json:"challenge"`
	Origin  string    `json:"origin"`
	Expires time.Time `json:"expires"`
}

// ChallengeStore keeps issued challenges until they are used. Take must be
// atomic across every server sharing the store: of two concurrent Takes of
// one value exactly one gets it.
type ChallengeStore interface {
	// Put records a new challenge, to be remembered until at least
	// forget (past Expires, so that a late login is told "expired"
	// rather than "unknown").
	Put(ctx context.Context, c Challenge, forget time.Time) error
	// Take removes and returns a challenge. A value already taken gives
	// ErrChallengeReplayed while the store remembers it; one it never had
	// (or forgot) gives ErrChallengeUnknown.
	Take(ctx context.Context, value string) (Challenge, error)
}

// ErrStoreFull is returned by MemoryStore.Put when it holds its maximum:
// challenges are issued to anyone, so memory must stay bounded.
var ErrStoreFull = errors.New("verify: challenge store is full")

// MemoryStore is a ChallengeStore for one login server. The zero value is
// ready to use.
type MemoryStore struct {
	// Max bounds the number of remembered challenges (taken ones included);
	// zero means 100,000.
	Max int
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	entries map[string]*memEntry
}

type memEntry struct {
	c      Challenge
	forget time.Time
	taken  bool
}

func (s *MemoryStore) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *MemoryStore) Put(ctx context.Context, c Challenge, forget time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entries == nil {
		s.entries = make(map[string]*memEntry)
	}
	max := s.Max
	if max == 0 {
		max = 100_000
	}
	if len(s.entries) >= max {
		s.sweep()
		if len(s.entries) >= max {
			return ErrStoreFull
		}
	}
	if _, dup := s.entries[c.Value]; dup {
		return errors.New("verify: duplicate challenge")
	}
	s.entries[c.Value] = &memEntry{c: c, forget: forget}
	return nil
}

func (s *MemoryStore) sweep() {
	now := s.now()
	for k, e := range s.entries {
		if now.After(e.forget) {
			delete(s.entries, k)
		}
	}
}

func (s *MemoryStore) Take(ctx context.Context, value string) (Challenge, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[value]
	if !ok || s.now().After(e.forget) {
		return Challenge{}, ErrChallengeUnknown
	}
	if e.taken {
		return Challenge{}, ErrChallengeReplayed
	}
	e.taken = true
	return e.c, nil
}
