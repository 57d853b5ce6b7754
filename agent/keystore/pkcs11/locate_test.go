package pkcs11

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSearchFor: a module named without a folder is found in the first
// absolute folder that has it as a file; a relative folder (".", the
// current one, where a planted DLL waits) is never searched, nor is a
// folder that merely bears the module's name.
func TestSearchFor(t *testing.T) {
	sys, path, planted := t.TempDir(), t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(path, "rtPKCS11ECP.dll"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(planted, "rtPKCS11ECP.dll"), []byte("x"), 0o644)
	os.Mkdir(filepath.Join(sys, "jcPKCS11-2.dll"), 0o755)
	rel, err := filepath.Rel(mustGetwd(t), planted)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file string
		dirs       []string
		want       string
	}{
		{"on PATH", "rtPKCS11ECP.dll", []string{sys, path}, filepath.Join(path, "rtPKCS11ECP.dll")},
		{"the first wins", "rtPKCS11ECP.dll", []string{path, planted}, filepath.Join(path, "rtPKCS11ECP.dll")},
		{"relative folder skipped", "rtPKCS11ECP.dll", []string{rel, "", sys}, ""},
		{"a folder is no module", "jcPKCS11-2.dll", []string{sys}, ""},
		{"absent", "cppkcs11.dll", []string{sys, path}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := searchFor(tc.file, tc.dirs)
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("searchFor(%q, %q) = %q, %v; want %q", tc.file, tc.dirs, got, ok, tc.want)
			}
		})
	}
}

func mustGetwd(t *testing.T) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}
