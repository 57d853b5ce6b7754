package doctor

import (
	"fmt"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// osName names Windows as support staff know it: «Windows 10 Pro 22H2
// (10.0.19045.4291, windows/amd64)». The numbers come from RtlGetVersion,
// which, unlike GetVersionEx, does not pretend to be Windows 8 to programs
// without a compatibility manifest; the edition and release from the
// registry. A program under Wine would otherwise take the Linux host's
// os-release for the system; Wine is named, since it is not Windows.
func osName() string {
	v := windows.RtlGetVersion()
	k, _ := registry.OpenKey(registry.LOCAL_MACHINE, `SOFTWARE\Microsoft\Windows NT\CurrentVersion`, registry.QUERY_VALUE)
	str := func(name string) string {
		s, _, _ := k.GetStringValue(name)
		return strings.TrimSpace(s)
	}
	product := str("ProductName")
	// Windows 11 keeps «Windows 10» in ProductName; its builds start at
	// 22000.
	if v.MajorVersion == 10 && v.BuildNumber >= 22000 {
		product = strings.Replace(product, "Windows 10", "Windows 11", 1)
	}
	if product == "" {
		product = "Windows"
	}
	release := str("DisplayVersion")
	if release == "" {
		release = str("ReleaseId")
	}
	name := strings.Join(strings.Fields(product+" "+release+" "+str("CSDVersion")), " ")
	build := fmt.Sprintf("%d.%d.%d", v.MajorVersion, v.MinorVersion, v.BuildNumber)
	if ubr, _, err := k.GetIntegerValue("UBR"); err == nil {
		build += fmt.Sprintf(".%d", ubr)
	}
	k.Close()
	if wine := wineVersion(); wine != "" {
		name += ", Wine " + wine
	}
	return fmt.Sprintf("%s (%s, %s/%s)", name, build, runtime.GOOS, runtime.GOARCH)
}

// wineVersion is Wine's version when podpis runs under it (ntdll exports
// wine_get_version there only), else "".
func wineVersion() string {
	p := windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version")
	if p.Find() != nil {
		return ""
	}
	r, _, _ := p.Call()
	if r == 0 {
		return ""
	}
	// r is a pointer to a static string in ntdll, not Go memory.
	return windows.BytePtrToString(*(**byte)(unsafe.Pointer(&r)))
}
