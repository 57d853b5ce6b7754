//go:build !windows

package pkcs11

import (
	"debug/elf"
	"fmt"
	"runtime"
)

// whyNotLoadable guesses why the dynamic loader refused a file:
// miekg/pkcs11 does not pass dlerror on.
func whyNotLoadable(path string) string {
	f, err := elf.Open(path)
	if err != nil {
		if runtime.GOOS == "linux" {
			return "not a shared library"
		}
		return "the system refused to load it"
	}
	defer f.Close()
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "386": elf.EM_386, "arm64": elf.EM_AARCH64}[runtime.GOARCH]
	if want != 0 && f.Machine != want {
		return fmt.Sprintf("built for %v, this is %s", f.Machine, runtime.GOARCH)
	}
	return "a library it needs is missing, or it failed to initialise"
}
