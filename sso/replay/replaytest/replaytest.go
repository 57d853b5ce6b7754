// Package replaytest is the one test suite every replay.Store passes.
package replaytest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podpis/podpis/sso/replay"
)

// Run checks s: a value is used once, a second use within its life is
// refused, an already expired value is refused, distinct values do not
// collide, a value is forgotten after its life, and of concurrent uses of
// one value exactly one wins.
func Run(t *testing.T, s replay.Store) {
	ctx := context.Background()
	// Keys unique to this run: a shared Redis may hold an earlier run's.
	p := fmt.Sprintf("%d:", time.Now().UnixNano())
	later := time.Now().Add(time.Minute)
	if err := s.Use(ctx, p+"a", later); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := s.Use(ctx, p+"a", later); !errors.Is(err, replay.ErrUsed) {
		t.Fatalf("second use: %v, want ErrUsed", err)
	}
	if err := s.Use(ctx, p+"b", later); err != nil {
		t.Fatalf("another value: %v", err)
	}
	if err := s.Use(ctx, p+"past", time.Now().Add(-time.Second)); !errors.Is(err, replay.ErrExpired) {
		t.Fatalf("expired value: %v, want ErrExpired", err)
	}
	if err := s.Use(ctx, p+"short", time.Now().Add(100*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := s.Use(ctx, p+"short", time.Now().Add(time.Minute))
		if err == nil {
			break
		}
		if !errors.Is(err, replay.ErrUsed) {
			t.Fatalf("short-lived value: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("a value is still remembered 5 s after its life")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var wins, used atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch err := s.Use(ctx, p+"race", later); {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, replay.ErrUsed):
				used.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || used.Load() != 19 {
		t.Fatalf("20 concurrent uses: %d won, %d refused", wins.Load(), used.Load())
	}
}
