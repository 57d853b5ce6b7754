// Package ratelimit counts events per key in fixed windows, in memory for
// one server or in Redis for several, so that password and code guessing
// and code flooding stop at a number the service names.
package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limiter counts one event for key and says whether it is within limit
// events per window; if not, how long until the window ends.
type Limiter interface {
	Allow(ctx context.Context, key string, limit int, window time.Duration) (ok bool, retryAfter time.Duration, err error)
}

// Memory is a Limiter for one server. The zero value is ready to use.
type Memory struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu    sync.Mutex
	count map[string]*slot
	sweep int
}

type slot struct {
	n   int
	end time.Time
}

func (m *Memory) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Allow counts under the lock. Ended windows are swept when the map has
// doubled since the last sweep, as verify.MemoryStore does.
func (m *Memory) Allow(_ context.Context, key string, limit int, window time.Duration) (bool, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if m.count == nil {
		m.count = make(map[string]*slot)
	}
	if len(m.count) >= m.sweep {
		for k, s := range m.count {
			if !now.Before(s.end) {
				delete(m.count, k)
			}
		}
		m.sweep = max(2*len(m.count), 1024)
	}
	s := m.count[key]
	if s == nil || !now.Before(s.end) {
		s = &slot{end: now.Add(window)}
		m.count[key] = s
	}
	s.n++
	if s.n > limit {
		return false, s.end.Sub(now), nil
	}
	return true, 0, nil
}

// Redis is a Limiter shared by every server using one Redis: INCR and
// PEXPIRE NX of one key per window, in one round trip.
type Redis struct {
	client redis.UniversalClient
	prefix string
}

// NewRedis returns a Limiter keeping its counters under prefix.
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix}
}

var allowScript = redis.NewScript(`
local n = redis.call("INCR", KEYS[1])
if n == 1 then redis.call("PEXPIRE", KEYS[1], ARGV[1]) end
return {n, redis.call("PTTL", KEYS[1])}
`)

// Allow counts in Redis.
func (r *Redis) Allow(ctx context.Context, key string, limit int, window time.Duration) (bool, time.Duration, error) {
	res, err := allowScript.Run(ctx, r.client, []string{r.prefix + key}, window.Milliseconds()).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("ratelimit: redis: %w", err)
	}
	if res[0] > int64(limit) {
		ttl := time.Duration(max(res[1], 0)) * time.Millisecond
		return false, ttl, nil
	}
	return true, 0, nil
}
