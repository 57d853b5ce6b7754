//go:build !windows

package pkcs11

import (
	"fmt"
	"os"
	"path/filepath"
)

// locate returns the file to load for a candidate, or ErrNotInstalled.
// A path is checked for; a bare name is left to the dynamic loader's
// search (ld.so's trusted folders), as the configuration may name one.
func locate(path string) (string, error) {
	if !filepath.IsAbs(path) {
		return path, nil
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%w: %s", ErrNotInstalled, path)
	}
	return path, nil
}
