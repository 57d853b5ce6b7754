package pkcs11

import (
	"os"
	"path/filepath"
)

// searchFor looks for a module named without a folder (rtPKCS11ECP.dll)
// in dirs, in order, and returns the first regular file found. Relative
// folders are skipped: a module must never come from wherever podpis
// happened to be started (DLL planting: a rtPKCS11ECP.dll left in
// Downloads next to a downloaded file).
func searchFor(name string, dirs []string) (string, bool) {
	for _, d := range dirs {
		if d == "" || !filepath.IsAbs(d) {
			continue
		}
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, true
		}
	}
	return "", false
}
