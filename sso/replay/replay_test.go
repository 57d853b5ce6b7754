package replay_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/podpis/podpis/sso/replay"
	"github.com/podpis/podpis/sso/replay/replaytest"
)

func TestMemory(t *testing.T) {
	replaytest.Run(t, replay.NewMemory())
}

// TestMemoryForgets: expired values are swept, so a stream of logins
// keeps the map near the number of live values.
func TestMemoryForgets(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	m := &replay.Memory{Now: func() time.Time { return now }}
	for i := range 10_000 {
		if err := m.Use(context.Background(), fmt.Sprint(i), now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second) // 60 live values at any time
	}
	if n := m.Len(); n > 200 {
		t.Fatalf("%d values remembered, about 60 live", n)
	}
}

// BenchmarkMemory: one fresh value used, with the sweeps amortised in.
func BenchmarkMemory(b *testing.B) {
	m := replay.NewMemory()
	until := time.Now().Add(time.Minute)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := m.Use(context.Background(), fmt.Sprint(i), until); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
