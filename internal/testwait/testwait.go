// Package testwait lets a test wait for something to become true instead
// of sleeping a fixed time: fixed sleeps are too short on a loaded machine
// and too long everywhere else.
package testwait

import (
	"testing"
	"time"
)

// Timeout is how long Until waits: far beyond what any condition needs on
// an idle machine, so that only a real failure reaches it.
const Timeout = 10 * time.Second

// Until polls cond every few milliseconds and fails the test, naming what,
// when it is still false after Timeout.
func Until(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	until(tb, Timeout, what, cond)
}

func until(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for wait := time.Millisecond; !cond(); wait = min(2*wait, 50*time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("after %v: still not %s", timeout, what)
		}
		time.Sleep(wait)
	}
}
