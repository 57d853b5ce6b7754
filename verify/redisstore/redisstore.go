// Package redisstore keeps verify's challenges in Redis, so that several
// login servers behind a balancer share them: a challenge issued by one can
// be used through another, and only once across all of them.
package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/podpis/podpis/verify"
	"github.com/redis/go-redis/v9"
)

// Store implements verify.ChallengeStore on a Redis client.
type Store struct {
	client redis.UniversalClient
	prefix string
}

// New returns a Store using client; keys start with prefix (for example
// "podpis:").
func New(client redis.UniversalClient, prefix string) *Store {
	return &Store{client: client, prefix: prefix}
}

func (s *Store) key(value string) string { return s.prefix + "challenge:" + value }

// Put stores the challenge with a Redis expiry at forget. SET NX refuses a
// duplicate value.
func (s *Store) Put(ctx context.Context, c verify.Challenge, forget time.Time) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	ttl := time.Until(forget)
	if ttl <= 0 {
		return errors.New("redisstore: challenge already forgotten")
	}
	ok, err := s.client.SetNX(ctx, s.key(c.Value), b, ttl).Result()
	if err != nil {
		return fmt.Errorf("redisstore: %w", err)
	}
	if !ok {
		return errors.New("redisstore: duplicate challenge")
	}
	return nil
}

// take swaps the stored challenge for a marker with the same expiry, in one
// atomic step: concurrent takers on any server see either the challenge
// (exactly one of them) or the marker.
var take = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return false end
if v == 'taken' then return 'taken' end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then
  redis.call('SET', KEYS[1], 'taken', 'PX', ttl)
else
  redis.call('SET', KEYS[1], 'taken')
end
return v
`)

// Take removes the challenge, leaving a marker until it would have been
// forgotten, so that a replay is reported as one.
func (s *Store) Take(ctx context.Context, value string) (verify.Challenge, error) {
	res, err := take.Run(ctx, s.client, []string{s.key(value)}).Text()
	if errors.Is(err, redis.Nil) {
		return verify.Challenge{}, verify.ErrChallengeUnknown
	}
	if err != nil {
		return verify.Challenge{}, fmt.Errorf("redisstore: %w", err)
	}
	if res == "taken" {
		return verify.Challenge{}, verify.ErrChallengeReplayed
	}
	var c verify.Challenge
	if err := json.Unmarshal([]byte(res), &c); err != nil {
		return verify.Challenge{}, fmt.Errorf("redisstore: stored challenge: %w", err)
	}
	return c, nil
}
