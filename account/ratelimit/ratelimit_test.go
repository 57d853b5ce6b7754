package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/podpis/podpis/internal/testredis"
	"github.com/redis/go-redis/v9"
)

// TestLimiters: the limit-th event passes, the next is refused with the
// rest of the window, another key is counted apart, and the window's end
// lets events through again.
func TestLimiters(t *testing.T) {
	for _, name := range []string{"memory", "redis"} {
		t.Run(name, func(t *testing.T) {
			var l Limiter
			window := time.Minute
			now := time.Unix(1000, 0)
			advance := func(d time.Duration) { now = now.Add(d) }
			switch name {
			case "memory":
				l = &Memory{Now: func() time.Time { return now }}
			case "redis":
				c := redis.NewClient(&redis.Options{Addr: testredis.Start(t)})
				t.Cleanup(func() { c.Close() })
				l = NewRedis(c, fmt.Sprintf("t%d:", time.Now().UnixNano()))
				window = 300 * time.Millisecond
				advance = func(d time.Duration) { time.Sleep(window + 50*time.Millisecond) }
			}
			ctx := context.Background()
			for i := range 3 {
				if ok, _, err := l.Allow(ctx, "login:+79161234567", 3, window); !ok || err != nil {
					t.Fatalf("event %d: %v %v", i+1, ok, err)
				}
			}
			ok, retry, err := l.Allow(ctx, "login:+79161234567", 3, window)
			if ok || err != nil || retry <= 0 || retry > window {
				t.Fatalf("4th event: ok %v retry %v err %v; want refused within the window", ok, retry, err)
			}
			if ok, _, _ := l.Allow(ctx, "login:+79160000000", 3, window); !ok {
				t.Fatal("another key was refused")
			}
			advance(window)
			if ok, _, _ := l.Allow(ctx, "login:+79161234567", 3, window); !ok {
				t.Fatal("refused after the window ended")
			}
		})
	}
}

// TestMemoryConcurrent: of many concurrent events exactly limit pass.
func TestMemoryConcurrent(t *testing.T) {
	var m Memory
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed := 0
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, _, _ := m.Allow(context.Background(), "k", 10, time.Hour); ok {
				mu.Lock()
				passed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if passed != 10 {
		t.Fatalf("%d passed, want 10", passed)
	}
}
