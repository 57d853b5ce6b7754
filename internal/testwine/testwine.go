// Package testwine runs podpis's Windows programs under Debian's Wine in
// tests: a throwaway prefix per test binary, Go binaries cross-built with
// mingw, and the one gap Go's runtime falls into on Wine 8.0 filled.
//
// Go 1.26's runtime takes its random bytes from ProcessPrng in
// bcryptprimitives.dll (Windows 10 and later), which Wine 8.0 lacks: a
// Windows binary dies at start with "bcryptprimitives.dll not found". The
// prefix gets a ten-line DLL (stand-in/processprng.c) that exports ProcessPrng on top
// of RtlGenRandom, the same system generator under its older name. It
// stands in for a piece of Windows, not for any of our code.
package testwine

import (
	"bytes"
	"context"
	_ "embed"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podpis/podpis/internal/testdeps"
)

//go:embed stand-in/processprng.c
var processPrngC []byte

// Prefix is a Wine prefix made for one test binary.
type Prefix struct {
	Dir string // WINEPREFIX
	// Display is the X display Wine's windows go to (an Xvfb the caller
	// started), empty for console programs.
	Display string
}

var (
	once   sync.Once
	shared *Prefix
	err    error
)

// Need skips or fails t (testdeps' rule) unless Wine and mingw are here.
func Need(t testing.TB) {
	t.Helper()
	testdeps.Need(t, "wine", "wineserver", "wineboot", "x86_64-w64-mingw32-gcc")
}

// Shared returns the prefix of this test binary, making it on first use
// (wineboot: a few seconds). Its folder is removed by Cleanup, which a
// TestMain calls.
func Shared(t testing.TB) *Prefix {
	t.Helper()
	Need(t)
	once.Do(func() { shared, err = newPrefix() })
	if err != nil {
		t.Fatalf("testwine: %v", err)
	}
	return shared
}

// Cleanup stops the prefix's wineserver and removes the prefix; for
// TestMain, after m.Run.
func Cleanup() {
	if shared == nil {
		return
	}
	kill := exec.Command("wineserver", "-k")
	kill.Env = shared.env()
	kill.Run()
	os.RemoveAll(shared.Dir)
}

func newPrefix() (*Prefix, error) {
	dir, err := os.MkdirTemp("", "podpis-wine-")
	if err != nil {
		return nil, err
	}
	p := &Prefix{Dir: dir}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, step := range [][]string{
		{"wineboot", "--init"},
		// wineboot returns before the prefix is written; wineserver -w
		// waits for everything started in it to end.
		{"wineserver", "-w"},
	} {
		if out, err := p.Run(ctx, step[0], step[1:]...); err != nil {
			return nil, wrap(step[0], err, out)
		}
	}
	dll := filepath.Join(dir, "drive_c", "windows", "system32", "bcryptprimitives.dll")
	src := filepath.Join(dir, "processprng.c")
	if err := os.WriteFile(src, processPrngC, 0o644); err != nil {
		return nil, err
	}
	if out, err := exec.CommandContext(ctx, "x86_64-w64-mingw32-gcc", "-shared", "-O2", "-o", dll, src, "-ladvapi32").CombinedOutput(); err != nil {
		return nil, wrap("mingw", err, out)
	}
	return p, nil
}

// Run runs a Wine tool (or "wine", then a program and its arguments) and
// returns its output, stdout and stderr together. The output goes through
// a file rather than a pipe: a wineserver the program starts outlives it
// and would hold a pipe open (exec's Output then waits for it).
func (p *Prefix) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	f, err := os.CreateTemp("", "podpis-wine-out-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	cmd := p.Command(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = f, f
	err = cmd.Run()
	out, _ := os.ReadFile(f.Name())
	return out, err
}

func wrap(what string, err error, out []byte) error {
	return &runError{what: what, err: err, out: string(bytes.TrimSpace(out))}
}

type runError struct {
	what, out string
	err       error
}

func (e *runError) Error() string { return e.what + ": " + e.err.Error() + ": " + e.out }
func (e *runError) Unwrap() error { return e.err }

func (p *Prefix) env() []string {
	env := append(os.Environ(),
		"WINEPREFIX="+p.Dir,
		"WINEDEBUG=-all",
		// No offers to download Mono or Gecko: nothing of ours needs them.
		"WINEDLLOVERRIDES=mscoree,mshtml=",
	)
	if p.Display != "" {
		env = append(env, "DISPLAY="+p.Display)
	} else {
		env = append(env, "DISPLAY=")
	}
	return env
}

// Command runs name (a Wine tool, or "wine") in the prefix.
func (p *Prefix) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = p.env()
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// Wine runs a Windows program (a path on the Linux side, or one in the
// prefix as C:\…) under Wine.
func (p *Prefix) Wine(ctx context.Context, exe string, args ...string) *exec.Cmd {
	return p.Command(ctx, "wine", append([]string{exe}, args...)...)
}

// Path is the Linux path of a Windows path in the prefix (C:\… only).
func (p *Prefix) Path(win string) string {
	if len(win) < 3 || !strings.EqualFold(win[:3], `C:\`) {
		return ""
	}
	return filepath.Join(p.Dir, "drive_c", filepath.FromSlash(strings.ReplaceAll(win[3:], `\`, "/")))
}

// Build cross-compiles a package of ours for windows/amd64 (cgo through
// mingw, as the PKCS#11 binding needs) into dir and returns the file.
// Extra go build flags (e.g. -buildmode=c-shared) come before the package.
func Build(t testing.TB, dir, out, pkg string, flags ...string) string {
	t.Helper()
	Need(t)
	path := filepath.Join(dir, out)
	args := append(append([]string{"build", "-o", path}, flags...), pkg)
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "CC=x86_64-w64-mingw32-gcc", "GOOS=windows", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s for windows: %v\n%s", pkg, err, out)
	}
	return path
}
