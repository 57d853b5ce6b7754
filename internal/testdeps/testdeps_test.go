package testdeps

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB whose Fatal and Skip are recorded; like the
// real ones they end the calling goroutine.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Skip(args ...any) {
	r.skip = fmt.Sprint(args...)
	runtime.Goexit()
}

// run calls f on a recorder in its own goroutine, as the testing package
// runs a test, and returns what it recorded.
func run(f func(testing.TB)) *recorder {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

// TestMissing: a missing program skips on a developer's machine and fails
// under the variable make test sets, each rule under its own variable; a
// present one does neither. A helper that skipped under make test would
// let CI pass with the test never run.
func TestMissing(t *testing.T) {
	const absent = "podpis-no-such-program"
	for _, tc := range []struct {
		name      string
		set       Rule // the variable set, "" for none
		call      func(testing.TB)
		fail      bool
		skip      bool
		mentioned string
	}{
		{"program present", Deps, func(t testing.TB) { Need(t, "sh") }, false, false, ""},
		{"absent, developer's machine", "", func(t testing.TB) { Need(t, "sh", absent) }, false, true, absent},
		{"absent under make test", Deps, func(t testing.TB) { Need(t, absent, "sh") }, true, false, absent},
		{"engine absent, only deps required", Deps, func(t testing.TB) { Engine.Need(t, absent) }, false, true, absent},
		{"engine absent, engine required", Engine, func(t testing.TB) { Engine.Need(t, absent) }, true, false, string(Engine)},
		{"a module missing under make test", Deps, func(t testing.TB) { Deps.Missing(t, "SoftHSM2 is not installed") }, true, false, "SoftHSM2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(string(Deps), "")
			t.Setenv(string(Engine), "")
			if tc.set != "" {
				t.Setenv(string(tc.set), "1")
			}
			r := run(tc.call)
			if (r.fatal != "") != tc.fail || (r.skip != "") != tc.skip {
				t.Fatalf("fatal %q, skip %q; want fail %v, skip %v", r.fatal, r.skip, tc.fail, tc.skip)
			}
			if !strings.Contains(r.fatal+r.skip, tc.mentioned) {
				t.Errorf("%q does not name %q", r.fatal+r.skip, tc.mentioned)
			}
		})
	}
}
