package testwine

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

// TestGoRuns: a Go program of ours starts under Wine only with the
// ProcessPrng stand-in in the prefix, and then sees Windows, not Linux.
func TestGoRuns(t *testing.T) {
	p := Shared(t)
	exe := Build(t, t.TempDir(), "podpis.exe", "github.com/podpis/podpis/cmd/podpis")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := p.Run(ctx, "wine", exe, "version")
	if err != nil || !strings.HasPrefix(string(out), "podpis ") {
		t.Fatalf("podpis.exe version: %v: %s", err, out)
	}
	if got := p.Path(`C:\windows\system32\bcryptprimitives.dll`); got == "" {
		t.Fatal("Path does not map C:\\")
	} else if _, err := os.Stat(got); err != nil {
		t.Fatalf("the stand-in is not in the prefix: %v", err)
	}
}
