// Package redisstore keeps verify's used challenges in Redis, so that
// several login servers behind a balancer share them: a challenge issued by
// one (with the ChallengeKey they all share) can be used through another,
// and only once across all of them.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/podpis/podpis/verify"
	"github.com/redis/go-redis/v9"
)

// Store implements verify.ChallengeStore on a Redis client. It holds one
// key per used challenge, which Redis drops at its expiry; issued
// challenges cost it nothing.
type Store struct {
	client redis.UniversalClient
	prefix string
}

// New returns a Store using client; keys start with prefix (for example
// "podpis:").
func New(client redis.UniversalClient, prefix string) *Store {
	return &Store{client: client, prefix: prefix}
}

func (s *Store) key(value string) string { return s.prefix + "used:" + value }

// Consume marks value used with SET NX and a Redis expiry at forget: one
// atomic step, so of concurrent consumers on any server exactly one sets
// the key and the others find it.
func (s *Store) Consume(ctx context.Context, value string, forget time.Time) error {
	ttl := time.Until(forget)
	if ttl <= 0 {
		return errors.New("redisstore: challenge already forgettable")
	}
	ok, err := s.client.SetNX(ctx, s.key(value), 1, ttl).Result()
	if err != nil {
		return fmt.Errorf("redisstore: %w", err)
	}
	if !ok {
		return verify.ErrChallengeReplayed
	}
	return nil
}
