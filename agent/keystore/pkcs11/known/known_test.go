package known

import (
	"slices"
	"testing"
)

// TestTable: every entry is named once and lists each path once, Paths
// finds an entry by its name and nothing for another, and SoftHSM2 is
// where Debian's softhsm2 (which make test installs) puts it: the tests
// find it through this table.
func TestTable(t *testing.T) {
	names := map[string]bool{}
	for _, m := range Modules {
		if names[m.Name] {
			t.Errorf("%s listed twice", m.Name)
		}
		names[m.Name] = true
		for goos, paths := range m.Paths {
			if len(paths) == 0 {
				t.Errorf("%s: empty %s list", m.Name, goos)
			}
			for i, p := range paths {
				if slices.Index(paths, p) != i {
					t.Errorf("%s: %s listed twice for %s", m.Name, p, goos)
				}
			}
		}
	}
	if !slices.Contains(Paths(SoftHSM2, "linux"), "/usr/lib/softhsm/libsofthsm2.so") {
		t.Errorf("SoftHSM2's linux paths lack Debian's: %q", Paths(SoftHSM2, "linux"))
	}
	if p := Paths("CryptoPro CSP", "windows"); len(p) == 0 {
		t.Error("CryptoPro CSP has no windows path")
	}
	if p := Paths("no such vendor", "linux"); p != nil {
		t.Errorf("an unknown vendor has paths %q", p)
	}
}
