package login

import (
	"go/build"
	"strings"
	"testing"
)

// TestImportsNothingOfOurs: the contract is a leaf, so that the agent
// (which must not reach the server's code) and verify (which must not reach
// the agent's) can both import it.
func TestImportsNothingOfOurs(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkg.Imports) == 0 {
		t.Fatal("no imports read")
	}
	for _, imp := range pkg.Imports {
		if strings.HasPrefix(imp, "github.com/podpis/podpis") {
			t.Errorf("login imports %s", imp)
		}
	}
}
