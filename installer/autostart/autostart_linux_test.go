package autostart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newLinux(t *testing.T, packaged bool) *Linux {
	l := &Linux{Exec: "/opt/my apps/podpis", ConfigHome: t.TempDir(), SystemDir: t.TempDir(), UseSystemd: func() bool { return false }}
	if packaged {
		os.WriteFile(l.systemEntry(), []byte("[Desktop Entry]\nType=Application\nExec=/usr/bin/podpis run --autostart\n"), 0o644)
	}
	return l
}

// TestXDGWithoutPackage: podpis unpacked by hand writes and removes its
// own entry.
func TestXDGWithoutPackage(t *testing.T) {
	l := newLinux(t, false)
	if l.Method() != None {
		t.Fatalf("method %q before enabling", l.Method())
	}
	if err := l.Enable(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(l.userEntry())
	if l.Method() != XDG || !strings.Contains(string(b), `Exec="/opt/my apps/podpis" run --autostart`) || hidden(string(b)) {
		t.Fatalf("after Enable: %q\n%s", l.Method(), b)
	}
	if err := l.Disable(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.userEntry()); !os.IsNotExist(err) || l.Method() != None {
		t.Fatalf("after Disable: %q, entry %v", l.Method(), err)
	}
	// Turning off what is off is fine.
	if err := l.Disable(); err != nil {
		t.Fatal(err)
	}
}

// TestXDGPackaged: with the package's system-wide entry, the person turns
// autostart off by a Hidden entry and on again by removing it; the
// package's file is never touched.
func TestXDGPackaged(t *testing.T) {
	l := newLinux(t, true)
	before, _ := os.ReadFile(l.systemEntry())
	if l.Method() != XDG {
		t.Fatalf("packaged: method %q", l.Method())
	}
	if err := l.Disable(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(l.userEntry())
	if l.Method() != None || !hidden(string(b)) {
		t.Fatalf("after Disable: %q\n%s", l.Method(), b)
	}
	if err := l.Enable(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.userEntry()); !os.IsNotExist(err) || l.Method() != XDG {
		t.Fatalf("after Enable: %q, override %v", l.Method(), err)
	}
	if after, _ := os.ReadFile(l.systemEntry()); string(after) != string(before) {
		t.Error("the package's entry was changed")
	}
	if filepath.Dir(l.userEntry()) != filepath.Join(l.ConfigHome, "autostart") {
		t.Error(l.userEntry())
	}
}
