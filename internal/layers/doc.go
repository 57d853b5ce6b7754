// Package layers holds, in its test, the one table of which of podpis's
// packages may import which: the architecture the README and STYLE.md
// describe, checked by go test the way Go's own go/build/deps_test.go
// checks the standard library. It has no code of its own.
package layers
