// Package redisreplay keeps sso/replay's used values in Redis, so that
// several account servers behind a balancer refuse a value used through
// any of them.
package redisreplay

import (
	"context"
	"fmt"
	"time"

	"github.com/podpis/podpis/sso/replay"
	"github.com/redis/go-redis/v9"
)

// Store implements replay.Store on a Redis client: one key per used value,
// which Redis drops at the value's expiry.
type Store struct {
	client redis.UniversalClient
	prefix string
}

// New returns a Store on client whose keys start with prefix (for example
// "podpis:sso:").
func New(client redis.UniversalClient, prefix string) *Store {
	return &Store{client: client, prefix: prefix}
}

// Use implements replay.Store with SET NX and an expiry: one atomic step
// across every server sharing the Redis.
func (s *Store) Use(ctx context.Context, key string, until time.Time) error {
	ttl := time.Until(until)
	if ttl <= 0 {
		return replay.ErrExpired
	}
	ok, err := s.client.SetNX(ctx, s.prefix+"used:"+key, 1, ttl).Result()
	if err != nil {
		return fmt.Errorf("redisreplay: %w", err)
	}
	if !ok {
		return replay.ErrUsed
	}
	return nil
}
