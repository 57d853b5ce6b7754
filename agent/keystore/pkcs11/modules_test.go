package pkcs11

import (
	"runtime"
	"slices"
	"testing"

	"github.com/podpis/podpis/agent/keystore/pkcs11/known"
)

// TestCandidates: --no-known-modules (OnlyModules) leaves exactly the
// named modules, each explicit; without it the known paths come first, in
// the table's order of preference, and the named ones after them.
func TestCandidates(t *testing.T) {
	knownOnly := CandidatePaths(nil)
	if len(knownOnly) == 0 && runtime.GOOS == "linux" {
		t.Fatal("no known module path for linux")
	}
	for _, c := range knownOnly {
		if c.Explicit || c.Path == "" || !slices.Contains(known.Paths(c.Vendor, runtime.GOOS), c.Path) {
			t.Errorf("known candidate %+v is not the table's", c)
		}
	}
	a, b := "/opt/a/libpkcs11.so", "/opt/b/libpkcs11.so"
	for _, tc := range []struct {
		name string
		opts Options
		want []Candidate
	}{
		{"only the named", Options{Modules: []string{a, b}, OnlyModules: true},
			[]Candidate{{a, a, true}, {b, b, true}}},
		{"only, none named", Options{OnlyModules: true}, nil},
		{"known then named", Options{Modules: []string{a}},
			append(slices.Clone(knownOnly), Candidate{a, a, true})},
		{"known alone", Options{}, knownOnly},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.opts.Candidates(); !slices.Equal(got, tc.want) {
				t.Errorf("Candidates() = %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestNewLoadsItsCandidates: what New loaded and what podpis run hands
// its doctor (Options.Candidates) are one list: a module loaded outside
// it would never be diagnosed, one diagnosed outside it never used.
func TestNewLoadsItsCandidates(t *testing.T) {
	requireSetup(t)
	opts := Options{Modules: []string{env.SoftToken}, OnlyModules: true}
	p, err := New(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var loaded, want []string
	for _, st := range p.Status() {
		loaded = append(loaded, st.Path)
	}
	for _, c := range opts.Candidates() {
		want = append(want, c.Path)
	}
	if !slices.Equal(loaded, want) {
		t.Errorf("New examined %q, Candidates says %q", loaded, want)
	}
}

// TestSoftHSMWhereTheAgentLooks: the tests find SoftHSM2 through the
// agent's own table (internal/testtoken reads package known), so a test
// passing with SoftHSM2 means the agent finds it on that machine too.
func TestSoftHSMWhereTheAgentLooks(t *testing.T) {
	requireSetup(t) // SoftHSM2 installed, or the test stops there
	if !slices.Contains(CandidatePaths(nil), Candidate{Vendor: known.SoftHSM2, Path: env.SoftHSM}) {
		t.Errorf("the tests use %s, the agent does not look there", env.SoftHSM)
	}
}
