package prompt

import (
	"context"
	"testing"
	"time"

	"github.com/podpis/podpis/agent"
)

// TestWindowLeftoverHoldsStderr: a window that answers and ends but
// leaves a process holding its stderr (under Wine, the crash handler
// winedbg inherits it from a podpis-ui.exe that crashed) does not keep
// the agent's request waiting for that process.
func TestWindowLeftoverHoldsStderr(t *testing.T) {
	ui := script(t, t.TempDir(), "podpis-ui", `read prompt
sleep 60 &
echo '{"consent":"once"}'`)
	w := &Window{Path: ui, Settle: time.Nanosecond}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	start := time.Now()
	dec, err := w.ConfirmOrigin(ctx, "https://lk.example.ru")
	if took := time.Since(start); took > 20*time.Second {
		t.Fatalf("the request ended %v after the window did: it waited for the window's leftover", took.Round(time.Second))
	}
	if err != nil || dec != agent.AllowOnce {
		t.Fatalf("ConfirmOrigin: %v, %v; want AllowOnce", dec, err)
	}
}
