package pkcs11

import "runtime"

// KnownModule is a crypto provider podpis looks for, with the places its
// PKCS#11 module is installed. This table is the one place these paths
// live: support staff extend it through the config file's "modules" list
// or --module, without a new build.
type KnownModule struct {
	Name  string
	Paths map[string][]string // GOOS → candidate paths, most likely first
}

// Known lists the providers in order of preference: when two modules see
// the same certificate, the earlier one is used.
var Known = []KnownModule{
	{"CryptoPro CSP", map[string][]string{
		"linux": {
			"/opt/cprocsp/lib/amd64/libcppkcs11.so", "/opt/cprocsp/lib/ia32/libcppkcs11.so",
			"/opt/cprocsp/lib/arm64/libcppkcs11.so", "/opt/cprocsp/lib/aarch64/libcppkcs11.so",
			"/opt/cprocsp/lib/e2k64/libcppkcs11.so", "/opt/cprocsp/lib/mips64el/libcppkcs11.so",
		},
		"windows": {`C:\Program Files\Crypto Pro\CSP\cppkcs11.dll`, `C:\Program Files (x86)\Crypto Pro\CSP\cppkcs11.dll`, "cppkcs11.dll"},
	}},
	{"ViPNet CSP", map[string][]string{
		"linux":   {"/opt/itcs/lib/libvipnetpkcs11.so", "/opt/itcs/lib64/libvipnetpkcs11.so", "/usr/lib/libvipnetpkcs11.so"},
		"windows": {"vpkcs11.dll", `C:\Program Files\InfoTeCS\ViPNet CSP\vpkcs11.dll`},
	}},
	{"Rutoken", map[string][]string{
		"linux": {
			"/usr/lib/librtpkcs11ecp.so", "/usr/lib64/librtpkcs11ecp.so", "/usr/lib/x86_64-linux-gnu/librtpkcs11ecp.so",
			"/opt/aktivco/rutokenecp/amd64/librtpkcs11ecp.so", "/opt/aktivco/rutokenecp/x86_64/librtpkcs11ecp.so",
		},
		"windows": {"rtPKCS11ECP.dll"},
	}},
	{"JaCarta", map[string][]string{
		"linux":   {"/usr/lib/libjcPKCS11-2.so", "/usr/lib64/libjcPKCS11-2.so", "/usr/lib/x86_64-linux-gnu/libjcPKCS11-2.so"},
		"windows": {"jcPKCS11-2.dll"},
	}},
	{"SoftHSM2", map[string][]string{
		"linux":   {"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", "/usr/lib64/softhsm/libsofthsm.so", "/usr/lib64/pkcs11/libsofthsm2.so"},
		"windows": {`C:\SoftHSM2\lib\softhsm2-x64.dll`},
	}},
	{"OpenSC", map[string][]string{
		"linux":   {"/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so", "/usr/lib/opensc-pkcs11.so", "/usr/lib64/opensc-pkcs11.so"},
		"windows": {`C:\Windows\System32\opensc-pkcs11.dll`},
	}},
}

// CandidatePaths returns the known module paths for this system with the
// provider each belongs to, followed by extra (from the config file and
// --module), which are named by their path.
func CandidatePaths(extra []string) []Candidate {
	var out []Candidate
	for _, k := range Known {
		for _, p := range k.Paths[runtime.GOOS] {
			out = append(out, Candidate{Provider: k.Name, Path: p})
		}
	}
	for _, p := range extra {
		out = append(out, Candidate{Provider: p, Path: p, Explicit: true})
	}
	return out
}

// Candidate is a module podpis may load.
type Candidate struct {
	Provider string
	Path     string
	// Explicit modules were asked for by name: their absence is an error,
	// a known path's absence is just "not installed".
	Explicit bool
}
