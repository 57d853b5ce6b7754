package pkcs11

import (
	"debug/pe"
	"fmt"
	"runtime"

	"golang.org/x/sys/windows"
)

// whyNotLoadable says why LoadLibrary refused a file that is there:
// miekg/pkcs11 returns nil without the error. The usual reasons on
// people's machines are a 32-bit module next to a 64-bit podpis, a
// missing dependency (the vendor's runtime), and a file that is not a DLL
// at all (an interrupted installation).
func whyNotLoadable(path string) string {
	f, err := pe.Open(path)
	if err != nil {
		return "not a DLL (no PE header)"
	}
	machine := f.Machine
	f.Close()
	want := map[string]uint16{"amd64": pe.IMAGE_FILE_MACHINE_AMD64, "386": pe.IMAGE_FILE_MACHINE_I386, "arm64": pe.IMAGE_FILE_MACHINE_ARM64}[runtime.GOARCH]
	if want != 0 && machine != want {
		return fmt.Sprintf("built for %s, podpis is %s", peMachine(machine), runtime.GOARCH)
	}
	h, err := windows.LoadLibraryEx(path, 0, windows.LOAD_WITH_ALTERED_SEARCH_PATH)
	if err != nil {
		return "LoadLibrary: " + err.Error() // e.g. a DLL it needs is missing
	}
	defer windows.FreeLibrary(h)
	if _, err := windows.GetProcAddress(h, "C_GetFunctionList"); err != nil {
		return "not a PKCS#11 module (no C_GetFunctionList)"
	}
	return "it failed to initialise"
}

func peMachine(m uint16) string {
	switch m {
	case pe.IMAGE_FILE_MACHINE_I386:
		return "32-bit Windows (i386)"
	case pe.IMAGE_FILE_MACHINE_AMD64:
		return "amd64"
	case pe.IMAGE_FILE_MACHINE_ARM64:
		return "arm64"
	}
	return fmt.Sprintf("machine 0x%x", m)
}
