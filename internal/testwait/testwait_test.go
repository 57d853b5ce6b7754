package testwait

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestUntilWaitsForTheCondition(t *testing.T) {
	var n atomic.Int32
	start := time.Now()
	Until(t, "three polls", func() bool { return n.Add(1) >= 3 })
	if n.Load() != 3 {
		t.Fatalf("cond called %d times, want 3", n.Load())
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v for three polls", d)
	}
}

// fatalTB records Fatalf instead of stopping the test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = format
	panic(f)
}

func TestUntilFailsWhenNeverTrue(t *testing.T) {
	f := &fatalTB{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil && r != any(f) {
				panic(r)
			}
		}()
		until(f, 100*time.Millisecond, "never", func() bool { return false })
	}()
	if f.msg == "" {
		t.Fatal("Until returned without failing on a condition that never holds")
	}
}
