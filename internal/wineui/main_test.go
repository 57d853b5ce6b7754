package wineui

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podpis/podpis/agent/prompt"
	"github.com/podpis/podpis/internal/testdeps"
	"github.com/podpis/podpis/internal/testwine"
)

var buildDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "podpis-wineui-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	testwine.Cleanup()
	if stopXvfb != nil {
		stopXvfb()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// desk is what every test here needs: the prefix, drawing on a virtual
// display, and podpis-ui.exe in it.
type desk struct {
	p       *testwine.Prefix
	display string
	// launcher runs podpis-ui.exe under Wine: prompt.Window starts one
	// program with the window's kind as its argument, as it starts
	// podpis-ui.exe on Windows.
	launcher string
	stderr   string // the windows' stderr, all of them
}

var (
	setupOnce sync.Once
	shared    desk
	setupErr  string
	stopXvfb  func()
)

// setup makes the desk once per test binary: a failed step is remembered
// rather than retried by every test.
func setup(t *testing.T) desk {
	t.Helper()
	testwine.Need(t)
	testdeps.Need(t, "Xvfb", "xdotool", "import")
	p := testwine.Shared(t)
	setupOnce.Do(func() {
		ok := t.Run("setup", func(t *testing.T) {
			start := time.Now()
			exe := testwine.Build(t, buildDir, "podpis-ui.exe", "github.com/podpis/podpis/cmd/podpis-ui")
			t.Logf("podpis-ui.exe built in %v", time.Since(start).Round(time.Millisecond))
			p.Display = startXvfb(t)
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			// A wineserver that stays, started with its output in a file:
			// one that a window's Wine started would inherit the agent's
			// pipes to podpis-ui and hold them open.
			if out, err := p.Run(ctx, "wineserver", "-p"); err != nil {
				t.Fatalf("wineserver -p: %v: %s", err, out)
			}
			// Xvfb has no window manager to frame the windows: Wine draws
			// the Windows frame and caption itself (title, close button),
			// so that they look and are closed as on Windows.
			if out, err := p.Reg(ctx, "add", `HKCU\Software\Wine\X11 Driver`, "/v", "Decorated", "/d", "N", "/f"); err != nil {
				t.Fatalf("reg add Decorated: %v: %s", err, out)
			}
			// Wine draws the caption's buttons in its Marlett font
			// (fonts-wine), which this Wine does not find in its data
			// folder by itself: without it they read «0 1 r».
			if font, err := os.ReadFile("/usr/share/wine/fonts/marlett.ttf"); err == nil {
				os.WriteFile(p.Path(`C:\windows\Fonts\marlett.ttf`), font, 0o644)
			} else {
				t.Logf("no Marlett for the windows' caption buttons (fonts-wine): %v", err)
			}
			// podpis-ui.exe with no window named: the first GUI program of
			// the prefix (Wine starts its desktop process for it, outside
			// the tests' pipes too), and its console text must arrive.
			start = time.Now()
			out, err := p.Run(ctx, "wine", exe)
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !regexp.MustCompile(`окна: .*\bconsent\b.*\bpin\b`).Match(out) {
				t.Fatalf("podpis-ui.exe without a window's name: %v: %s", err, out)
			}
			t.Logf("podpis-ui.exe started and ended under Wine in %v", time.Since(start).Round(time.Millisecond))
			shared.launcher = filepath.Join(buildDir, "podpis-ui-wine")
			// What the windows and Wine say on stderr (a crash report of
			// winedbg among it) is kept for a failing test to show.
			shared.stderr = filepath.Join(buildDir, "podpis-ui.stderr")
			script := fmt.Sprintf("#!/bin/sh\nexec wine %s \"$@\" 2>>%s\n", shellQuote(exe), shellQuote(shared.stderr))
			if err := os.WriteFile(shared.launcher, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			shared.p, shared.display = p, p.Display
		})
		if !ok {
			setupErr = "setting up podpis-ui.exe under Wine failed"
		}
	})
	if setupErr != "" {
		t.Fatal(setupErr)
	}
	return shared
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// startXvfb starts the virtual display of the test binary.
func startXvfb(t *testing.T) string {
	t.Helper()
	display, stop, err := testdeps.StartXvfb()
	if err != nil {
		t.Fatal(err)
	}
	stopXvfb = stop
	return display
}

// window is the agent's prompter with podpis-ui.exe under Wine for its
// windows.
func (d desk) window(settle time.Duration) *prompt.Window {
	return &prompt.Window{Path: d.launcher, Env: d.p.Env(), Settle: settle}
}

func (d desk) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "DISPLAY="+d.display)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// find waits for the window titled title and returns its X id. Wine
// starts a window in seconds, not the Linux build's fraction of one.
func (d desk) find(t *testing.T, title string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		// xdotool's --name matches WM_NAME, in which X's compound text
		// has lost the em dash: the full title is compared here.
		out, _ := d.run("xdotool", "search", "--onlyvisible", "--name", "^podpis")
		for _, id := range strings.Fields(out) {
			if name, err := d.run("xdotool", "getwindowname", id); err == nil && name == title {
				return id
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no window %q", title)
	return ""
}

// keys focuses the window and sends xdotool's key or type commands.
func (d desk) keys(t *testing.T, win string, actions ...[]string) {
	t.Helper()
	if out, err := d.run("xdotool", "windowfocus", "--sync", win); err != nil {
		t.Errorf("focus: %v: %s", err, out)
	}
	for _, a := range actions {
		args := append([]string{"xdotool"}, a...)
		if a[0] == "type" {
			args = append([]string{"xdotool", "type", "--delay", "40"}, a[1:]...)
		}
		if out, err := d.run(args...); err != nil {
			t.Errorf("%v: %v: %s", a, err, out)
		}
	}
}

// click clicks in the window dx, dy from its bottom right corner, where
// the buttons are pinned.
func (d desk) click(t *testing.T, win string, dx, dy int) {
	t.Helper()
	var w, h int
	fmt.Sscanf(d.size(t, win), "%dx%d", &w, &h)
	if out, err := d.run("xdotool", "mousemove", "--window", win, "--sync", fmt.Sprint(w-dx), fmt.Sprint(h-dy), "click", "1"); err != nil {
		t.Errorf("click: %v: %s", err, out)
	}
}

// size is the window's size as X has it.
func (d desk) size(t *testing.T, win string) string {
	t.Helper()
	out, err := d.run("xdotool", "getwindowgeometry", win)
	if err != nil {
		t.Fatalf("geometry: %v: %s", err, out)
	}
	for _, l := range strings.Split(out, "\n") {
		if g, ok := strings.CutPrefix(strings.TrimSpace(l), "Geometry: "); ok {
			return g
		}
	}
	return out
}

// shot saves the window as a test artifact, for a person to look at.
func (d desk) shot(t *testing.T, win, name string) {
	t.Helper()
	time.Sleep(300 * time.Millisecond) // the last frame drawn
	if out, err := d.run("import", "-window", win, testdeps.Artifact(t, name)); err != nil {
		t.Errorf("screenshot %s: %v: %s", name, err, out)
	}
}

// gone waits until no window of podpis is on the display.
func (d desk) gone(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if out, _ := d.run("xdotool", "search", "--onlyvisible", "--name", "^podpis"); out == "" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("a window of podpis is still up")
}

// within waits for a result from ch. When none comes it says what is
// still there: a window on the screen (the keys did not reach it) or
// only a process (it answered and did not end).
func within[T any](t *testing.T, d desk, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(60 * time.Second):
	}
	wins, _ := d.run("xdotool", "search", "--onlyvisible", "--name", "^podpis")
	ps, _ := exec.Command("ps", "-o", "pid,stat,etime,args", "-C", "podpis-ui.exe,wine,wine64-preloader").CombinedOutput()
	errs, _ := os.ReadFile(d.stderr)
	t.Fatalf("%s: no answer in 60 s; windows of podpis on the screen: %q; processes:\n%s\nthe windows' stderr:\n%s", what, wins, ps, errs)
	var zero T
	return zero
}
