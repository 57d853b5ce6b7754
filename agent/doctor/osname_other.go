//go:build !windows

package doctor

import (
	"os"
	"runtime"
	"strings"
)

// osName names the system from os-release, for support staff.
func osName() string {
	name := runtime.GOOS + "/" + runtime.GOARCH
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				return strings.Trim(v, `"`) + " (" + name + ")"
			}
		}
	}
	return name
}
