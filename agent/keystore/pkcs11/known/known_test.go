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

// TestLookup: a module is recognised by a known path or, named by the
// person from anywhere, by its file name; software tokens say so, and a
// token's driver is no CSP.
func TestLookup(t *testing.T) {
	for _, c := range []struct {
		path     string
		name     string
		software bool
		csp      bool
	}{
		{"/opt/cprocsp/lib/amd64/libcppkcs11.so", "CryptoPro CSP", false, true},
		{"/opt/itcs/lib/libvipnetpkcs11.so", "ViPNet CSP", false, true},
		{"/usr/lib/librtpkcs11ecp.so", "Rutoken", false, false},
		{"/usr/lib/softhsm/libsofthsm2.so", SoftHSM2, true, false},
		{"/home/anna/lib/libsofthsm2.so", SoftHSM2, true, false},
		{"/usr/lib/podpis/libpodpis-softtoken.so", SoftToken, true, false},
		{"/work/bin/libpodpis-softtoken.so", SoftToken, true, false},
		{`C:\Program Files\podpis\podpis-softtoken.dll`, SoftToken, true, false},
		{`D:\tokens\RTPKCS11ECP.DLL`, "Rutoken", false, false},
	} {
		m, ok := Lookup(c.path)
		if !ok || m.Name != c.name || m.Software != c.software || m.CSP != c.csp {
			t.Errorf("Lookup(%q) = %q software %v csp %v (%v), want %q software %v csp %v", c.path, m.Name, m.Software, m.CSP, ok, c.name, c.software, c.csp)
		}
	}
	for _, p := range []string{"/usr/lib/libsomething-pkcs11.so", "/opt/cprocsp/lib/amd64/libcapi20.so", ""} {
		if m, ok := Lookup(p); ok {
			t.Errorf("Lookup(%q) = %q, want unknown", p, m.Name)
		}
	}
}
