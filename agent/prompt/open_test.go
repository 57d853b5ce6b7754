package prompt

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/internal/testwait"
)

// script writes an executable shell script named name into dir.
func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// children lists this process's child processes, running or exited and
// never waited for (defunct).
func children(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc here")
	}
	me := strconv.Itoa(os.Getpid())
	var out []string
	for _, e := range entries {
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …: comm may hold spaces, so read after
		// its closing parenthesis.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 1 && f[1] == me {
			out = append(out, string(stat[:i+1]))
		}
	}
	return out
}

// TestOpenOutcome: Open reports an opener's failure (xdg-open exits 3 on
// a machine where nothing opens a page) instead of taking a started
// process for a shown page, tries the system's opener after
// $PODPIS_BROWSER, takes a browser still running for success, and waits
// for every opener: no defunct children.
func TestOpenOutcome(t *testing.T) {
	defer func(w time.Duration) { openWait = w }(openWait)
	for _, tc := range []struct {
		name    string
		browser string // $PODPIS_BROWSER's script, "" for none
		xdgOpen string // xdg-open's script on PATH, "" for none
		ok      bool
		shownBy string // which of the two got the file
		quick   bool   // told at its exit, not after openWait
	}{
		{name: "xdg-open exits 3", xdgOpen: `echo "xdg-open: no method available for opening '$1'" >&2; exit 3`},
		{name: "no opener at all"},
		{name: "PODPIS_BROWSER fails, nothing else", browser: "exit 1"},
		{name: "PODPIS_BROWSER fails, xdg-open shows it", browser: "exit 1", xdgOpen: `echo "$1" > "$0.got"`, ok: true, shownBy: "xdg-open"},
		{name: "PODPIS_BROWSER shows it", browser: `echo "$1" > "$0.got"`, xdgOpen: "exit 3", ok: true, shownBy: "browser"},
		{name: "a browser in the foreground", browser: `echo "$1" > "$0.got"; exec /bin/sleep 1`, ok: true, shownBy: "browser"},
		// xdg-open on a desktop: the browser it starts keeps its output.
		{name: "an opener that leaves a browser behind", xdgOpen: `echo "$1" > "$0.got"; /bin/sleep 20 & exit 0`, ok: true, shownBy: "xdg-open", quick: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			openWait = 300 * time.Millisecond
			path := t.TempDir() // PATH: only what the case puts there
			t.Setenv("PATH", path)
			t.Setenv("PODPIS_BROWSER", "")
			if tc.browser != "" {
				t.Setenv("PODPIS_BROWSER", script(t, path, "browser", tc.browser))
			}
			if tc.xdgOpen != "" {
				script(t, path, "xdg-open", tc.xdgOpen)
			}
			file := "/run/user/1000/podpis/prompt-0123.html"
			if tc.quick {
				openWait = time.Minute // a wait for the browser would show
			}
			start := time.Now()
			err := Open(file)
			if tc.quick && time.Since(start) > 10*time.Second {
				t.Errorf("Open took %v: it waited for the browser, not the opener", time.Since(start))
			}
			if (err == nil) != tc.ok {
				t.Fatalf("Open: %v, want ok=%v", err, tc.ok)
			}
			if tc.shownBy != "" {
				got, _ := os.ReadFile(filepath.Join(path, tc.shownBy+".got"))
				if strings.TrimSpace(string(got)) != file {
					t.Errorf("%s was given %q, want %q", tc.shownBy, got, file)
				}
			}
			// A browser left in the foreground exits later: then it
			// must be reaped, not left defunct.
			testwait.Until(t, "every opener exited and waited for", func() bool {
				return len(children(t)) == 0
			})
		})
	}
}

// TestBrowserNoOpener: with no desktop and no browser to start, the
// question is not lost: the person is told the file (the agent prints it)
// and the page that asked gets PROMPT_NOT_SHOWN — never the address — and
// the question keeps waiting for the person to open it.
func TestBrowserNoOpener(t *testing.T) {
	defer func(w time.Duration) { openWait = w }(openWait)
	openWait = 300 * time.Millisecond
	t.Setenv("PATH", t.TempDir())
	t.Setenv("PODPIS_BROWSER", "")
	told := make(chan string, 1)
	b := &Browser{BaseURL: "http://127.0.0.1:24730", Dir: t.TempDir(), Tell: func(p string) { told <- p }}
	notices := make(chan agent.Notice, 1)
	ctx, cancel := context.WithCancel(agent.WithNotices(context.Background(), func(n agent.Notice) { notices <- n }))
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := b.ConfirmOrigin(ctx, "https://lk.example.ru")
		done <- err
	}()
	var path string
	select {
	case path = <-told:
	case err := <-done:
		t.Fatalf("the question ended without the person being told: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("nobody was told where the question is")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("told %q: %v", path, err)
	}
	select {
	case n := <-notices:
		if n != agent.NoticePromptNotShown {
			t.Fatalf("notice %q", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the page was not told that the question is not on the screen")
	}
	select {
	case err := <-done:
		t.Fatalf("the question gave up while the person may still open it: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled question: %v", err)
	}
}
