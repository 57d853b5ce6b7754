package pkcs11

import (
	"runtime"
	"slices"

	"github.com/podpis/podpis/agent/keystore/pkcs11/known"
)

// CandidatePaths returns the known module paths for this system with the
// vendor each belongs to, followed by extra (from the config file and
// --module), which are named by their path.
func CandidatePaths(extra []string) []Candidate {
	var out []Candidate
	for _, k := range known.Modules {
		for _, p := range k.Paths[runtime.GOOS] {
			out = append(out, Candidate{Vendor: k.Name, Path: p})
		}
	}
	for _, p := range extra {
		out = append(out, Candidate{Vendor: p, Path: p, Explicit: true})
	}
	return out
}

// Candidates returns the modules New loads for o: the known paths then
// o.Modules, or o.Modules alone when o.OnlyModules is set. Whoever
// diagnoses the modules a Store was made with (podpis run's doctor)
// asks here, so the two lists cannot disagree.
func (o Options) Candidates() []Candidate {
	if o.OnlyModules {
		return slices.DeleteFunc(CandidatePaths(o.Modules), func(c Candidate) bool { return !c.Explicit })
	}
	return CandidatePaths(o.Modules)
}

// Candidate is a module podpis may load.
type Candidate struct {
	Vendor string
	Path   string
	// Explicit modules were asked for by name: their absence is an error,
	// a known path's absence is just "not installed".
	Explicit bool
}
