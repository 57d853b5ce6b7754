// Package known is the table of vendors (CSPs and token makers) whose
// PKCS#11 modules podpis looks for, and the places those are installed: the one place these paths
// live. Support staff extend it through the config file's "modules" list
// or --module, without a new build. It is data, without cgo, so that the
// tests' token helper (internal/testtoken) finds SoftHSM2 where the agent
// does without importing the PKCS#11 binding it tests.
package known

import (
	"path/filepath"
	"slices"
	"strings"
)

// SoftHSM2 is the name of the SoftHSM2 entry, the module the tests use for
// RSA and ECDSA keys.
const SoftHSM2 = "SoftHSM2"

// SoftToken is the name of podpis's own soft token (package
// podpis-softtoken), a module podpis does not search for: it is named in
// the configuration or with --module.
const SoftToken = "podpis soft token"

// Module is a vendor podpis looks for, by name, with the places its
// PKCS#11 module is installed. On Windows a path may start with an
// environment variable (%ProgramFiles%), and a file name alone
// (rtPKCS11ECP.dll, which the vendors' installers put into System32) is
// searched for in System32, the Windows folder and PATH, never in the
// current folder.
type Module struct {
	Name  string
	Paths map[string][]string // GOOS → candidate paths, most likely first
	// Files are further file names the module is recognised by when it is
	// named by its path (the configuration, --module) rather than found.
	Files []string
	// Software modules keep their keys in files, with no device to plug
	// in: advice about USB ports and pcscd is wrong for them.
	Software bool
	// CSP marks a crypto provider whose keys live in its containers (on
	// disk, in the registry or on tokens), not a token's driver.
	CSP bool
}

// Modules lists the vendors in order of preference: when two modules
// see the same certificate, the earlier one is used.
var Modules = []Module{
	{Name: "CryptoPro CSP", CSP: true, Paths: map[string][]string{
		"linux": {
			"/opt/cprocsp/lib/amd64/libcppkcs11.so", "/opt/cprocsp/lib/ia32/libcppkcs11.so",
			"/opt/cprocsp/lib/arm64/libcppkcs11.so", "/opt/cprocsp/lib/aarch64/libcppkcs11.so",
			"/opt/cprocsp/lib/e2k64/libcppkcs11.so", "/opt/cprocsp/lib/mips64el/libcppkcs11.so",
		},
		"windows": {`%ProgramFiles%\Crypto Pro\CSP\cppkcs11.dll`, "cppkcs11.dll"},
	}},
	{Name: "ViPNet CSP", CSP: true, Paths: map[string][]string{
		"linux":   {"/opt/itcs/lib/libvipnetpkcs11.so", "/opt/itcs/lib64/libvipnetpkcs11.so", "/usr/lib/libvipnetpkcs11.so"},
		"windows": {"vpkcs11.dll", `%ProgramFiles%\InfoTeCS\ViPNet CSP\vpkcs11.dll`},
	}},
	{Name: "Rutoken", Paths: map[string][]string{
		"linux": {
			"/usr/lib/librtpkcs11ecp.so", "/usr/lib64/librtpkcs11ecp.so", "/usr/lib/x86_64-linux-gnu/librtpkcs11ecp.so",
			"/opt/aktivco/rutokenecp/amd64/librtpkcs11ecp.so", "/opt/aktivco/rutokenecp/x86_64/librtpkcs11ecp.so",
		},
		"windows": {"rtPKCS11ECP.dll"},
	}},
	{Name: "JaCarta", Paths: map[string][]string{
		"linux":   {"/usr/lib/libjcPKCS11-2.so", "/usr/lib64/libjcPKCS11-2.so", "/usr/lib/x86_64-linux-gnu/libjcPKCS11-2.so"},
		"windows": {"jcPKCS11-2.dll"},
	}},
	{Name: SoftHSM2, Software: true, Files: []string{"libsofthsm2.so", "softhsm2.dll"}, Paths: map[string][]string{
		"linux":   {"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", "/usr/lib64/softhsm/libsofthsm.so", "/usr/lib64/pkcs11/libsofthsm2.so"},
		"windows": {`C:\SoftHSM2\lib\softhsm2-x64.dll`},
	}},
	{Name: "OpenSC", Paths: map[string][]string{
		"linux":   {"/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so", "/usr/lib/opensc-pkcs11.so", "/usr/lib64/opensc-pkcs11.so"},
		"windows": {"opensc-pkcs11.dll"},
	}},
	{Name: SoftToken, Software: true, Files: []string{"libpodpis-softtoken.so", "podpis-softtoken.dll"}},
}

// Paths returns where the named vendor's module may be on goos, most
// likely first; nil for a name not in Modules.
func Paths(name, goos string) []string {
	m, _ := Named(name)
	return m.Paths[goos]
}

// Lookup finds the entry a module file belongs to: by a known path, else
// by its file name (a module named in the configuration or with --module
// from wherever it was copied). ok is false for a module podpis does not
// know.
func Lookup(path string) (m Module, ok bool) {
	base := strings.ToLower(filepath.Base(strings.ReplaceAll(path, `\`, "/")))
	for _, k := range Modules {
		for _, paths := range k.Paths {
			if slices.Contains(paths, path) {
				return k, true
			}
		}
	}
	for _, k := range Modules {
		if slices.ContainsFunc(k.Files, func(f string) bool { return strings.ToLower(f) == base }) {
			return k, true
		}
		for _, paths := range k.Paths {
			if slices.ContainsFunc(paths, func(p string) bool {
				return strings.ToLower(filepath.Base(strings.ReplaceAll(p, `\`, "/"))) == base
			}) {
				return k, true
			}
		}
	}
	return Module{}, false
}

// Named returns the entry called name.
func Named(name string) (Module, bool) {
	i := slices.IndexFunc(Modules, func(m Module) bool { return m.Name == name })
	if i < 0 {
		return Module{}, false
	}
	return Modules[i], true
}
