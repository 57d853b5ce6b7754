package agent

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/podpis/podpis/internal/testdeps"
)

// goList runs go list over the module with env added.
func goList(t *testing.T, env []string, args ...string) []string {
	t.Helper()
	testdeps.Need(t, "go")
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), append([]string{"list"}, args...)...)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v\n%s", args, err, out)
	}
	return strings.Fields(string(out))
}

// TestCoreWithoutCgo: the agent core — the signing flow, the protocol,
// the transport, the prompters — links no C: the concrete key stores
// (PKCS#11 through cgo) plug in from cmd/, so the core builds with
// CGO_ENABLED=0 for every platform and transport to come.
func TestCoreWithoutCgo(t *testing.T) {
	core := []string{"./agent", "./agent/wsapi", "./agent/server", "./agent/prompt"}
	lines := goList(t, []string{"CGO_ENABLED=1"}, append([]string{"-deps", "-f", "{{if not .Standard}}{{if .CgoFiles}}{{.ImportPath}}{{end}}{{end}}"}, core...)...)
	for _, p := range lines {
		t.Errorf("the agent core depends on %s, which needs cgo", p)
	}
}

// TestAgentWithoutInstaller: nothing under agent/ imports installer/ (nor
// cmd/): the installer's autostart and icon reach the tray from cmd/.
func TestAgentWithoutInstaller(t *testing.T) {
	for _, line := range goList(t, nil, "-f", "{{.ImportPath}}:{{join .Imports \",\"}}", "./agent/...") {
		pkg, imports, _ := strings.Cut(line, ":")
		for _, imp := range strings.Split(imports, ",") {
			if strings.HasPrefix(imp, "github.com/podpis/podpis/installer") || strings.HasPrefix(imp, "github.com/podpis/podpis/cmd") {
				t.Errorf("%s imports %s", pkg, imp)
			}
		}
	}
}
