package verify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
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

// A challenge value carries everything needed to check it, under a MAC
// with the server's key, so that issuing one stores nothing and anyone may
// ask for as many as they like:
//
//	base64url( version (1) | expiry, Unix seconds (8) | random (16) | MAC (32) )
//	MAC = HMAC-SHA-256(key, "podpis-challenge" | version | expiry | random | origin)
//
// The origin is not in the value: the MAC binds it, and the verifier knows
// the origin it expects.
const (
	challengeVersion = 1
	challengeRandom  = 16
	challengeMAC     = sha256.Size
	challengeLen     = 1 + 8 + challengeRandom + challengeMAC
	challengeDomain  = "podpis-challenge"

	// MinChallengeKey is the shortest Config.ChallengeKey New accepts.
	MinChallengeKey = 32
)

// challenger makes and checks challenge values with one key. Keyed HMAC
// states are pooled: a flood of issues costs hashing, not garbage.
type challenger struct {
	macs sync.Pool // of hash.Hash, HMAC-SHA-256 with the key
}

func newChallenger(key []byte) *challenger {
	key = bytes.Clone(key)
	return &challenger{macs: sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}}
}

// mac appends to dst the MAC of the value's head (version, expiry, random)
// for origin.
func (c *challenger) mac(dst, head []byte, origin string) []byte {
	m := c.macs.Get().(hash.Hash)
	defer c.macs.Put(m)
	m.Reset()
	m.Write([]byte(challengeDomain))
	m.Write(head)
	io.WriteString(m, origin)
	return m.Sum(dst)
}

func (c *challenger) issue(origin string, expires time.Time) (Challenge, error) {
	var b [challengeLen]byte
	b[0] = challengeVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(expires.Unix()))
	if _, err := rand.Read(b[9 : 9+challengeRandom]); err != nil {
		return Challenge{}, err
	}
	head := b[:9+challengeRandom]
	c.mac(head, head, origin)
	return Challenge{
		Value:   base64.RawURLEncoding.EncodeToString(b[:]),
		Origin:  origin,
		Expires: time.Unix(expires.Unix(), 0).UTC(),
	}, nil
}

// open checks value's MAC for origin and returns its expiry. A value made
// for another origin, by another key or not at all gives
// ErrChallengeUnknown.
func (c *challenger) open(value, origin string) (time.Time, error) {
	var b [challengeLen]byte
	if base64.RawURLEncoding.EncodedLen(challengeLen) != len(value) {
		return time.Time{}, fail(CodeChallengeUnknown, errors.New("not a challenge of this server"))
	}
	if n, err := base64.RawURLEncoding.Decode(b[:], []byte(value)); err != nil || n != challengeLen || b[0] != challengeVersion {
		return time.Time{}, fail(CodeChallengeUnknown, errors.New("not a challenge of this server"))
	}
	head := b[:9+challengeRandom]
	var sum [challengeMAC]byte
	if !hmac.Equal(b[len(head):], c.mac(sum[:0], head, origin)) {
		return time.Time{}, fail(CodeChallengeUnknown, fmt.Errorf("not issued by this server for %q", origin))
	}
	return time.Unix(int64(binary.BigEndian.Uint64(b[1:9])), 0).UTC(), nil
}

// ChallengeStore remembers the challenges already used, so that each logs
// in once. It sees only challenges whose MAC, origin and expiry have been
// checked and whose login has verified, so what it holds is bounded by the
// rate of real logins times the challenges' lifetime, never by how many
// were issued.
type ChallengeStore interface {
	// Consume marks value used, to be remembered until at least forget
	// (past the challenge's expiry). It must be atomic across every server
	// sharing the store: of any number of Consumes of one value, on any
	// server, exactly one returns nil and the others ErrChallengeReplayed.
	Consume(ctx context.Context, value string, forget time.Time) error
}

// MemoryStore is a ChallengeStore for one login server. The zero value is
// ready to use.
type MemoryStore struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu    sync.Mutex
	used  map[string]time.Time // value → when it may be forgotten
	sweep int                  // sweep when len(used) reaches this
}

func (s *MemoryStore) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Consume marks value used under the store's lock. Forgotten values are
// swept when the map has doubled since the last sweep, so the cost per
// login stays constant and the map at most twice what is live.
func (s *MemoryStore) Consume(ctx context.Context, value string, forget time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.used == nil {
		s.used = make(map[string]time.Time)
	}
	if f, ok := s.used[value]; ok && !now.After(f) {
		return ErrChallengeReplayed
	}
	if len(s.used) >= s.sweep {
		for k, f := range s.used {
			if now.After(f) {
				delete(s.used, k)
			}
		}
		s.sweep = max(2*len(s.used), 1024)
	}
	s.used[value] = forget
	return nil
}
