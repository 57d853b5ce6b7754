package pkcs11

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// locate returns the file to load for a candidate, or ErrNotInstalled.
//
// Windows' LoadLibrary takes a bare name (rtPKCS11ECP.dll) and searches
// the program's folder, System32, the Windows folder, the current folder
// and PATH; when the file is nowhere, loading fails exactly as it does for
// a broken file, and doctor took every vendor podpis knows for installed
// and broken («не загружается … Переустановите») on a machine with none.
// So podpis searches itself, and loads the file it found by its full path:
// absent is then told from broken, and the search leaves out the current
// folder and the program's folder, from which a planted DLL would
// otherwise be loaded into the agent.
func locate(path string) (string, error) {
	if p, err := registry.ExpandString(path); err == nil {
		path = p // %ProgramFiles%, %SystemRoot% in the known table
	}
	if !strings.ContainsAny(path, `/\:`) { // a file name alone
		if p, ok := searchFor(path, searchDirs()); ok {
			return p, nil
		}
		return "", fmt.Errorf("%w: %s (not in %s, the Windows folder or PATH)", ErrNotInstalled, path, systemDir())
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("%w: %s", ErrNotInstalled, path)
	}
	if _, err := os.Stat(abs); err != nil {
		return "", fmt.Errorf("%w: %s", ErrNotInstalled, abs)
	}
	return abs, nil
}

// searchDirs is where vendors' installers put their PKCS#11 modules
// (System32, the Windows folder), then the PATH's absolute folders: the
// DLL search order without its program and current folders.
func searchDirs() []string {
	dirs := []string{systemDir()}
	if w, err := windows.GetWindowsDirectory(); err == nil {
		dirs = append(dirs, w)
	}
	return append(dirs, filepath.SplitList(os.Getenv("PATH"))...)
}

func systemDir() string {
	d, _ := windows.GetSystemDirectory()
	return d
}
