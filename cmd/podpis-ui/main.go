// Command podpis-ui shows one of podpis's windows. The agent starts it
// with the window's name as its only argument and speaks to it over stdin
// and stdout (ui/uiproto); it is not meant to be run by hand.
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// modes maps a window's name to the function that shows it; each file of
// this command adds its own in init.
var modes = map[string]func(args []string) int{}

func main() {
	if len(os.Args) < 2 || modes[os.Args[1]] == nil {
		names := make([]string, 0, len(modes))
		for n := range modes {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "podpis-ui: окно podpis запускает сам podpis; окна: %s\n", strings.Join(names, ", "))
		os.Exit(2)
	}
	os.Exit(modes[os.Args[1]](os.Args[2:]))
}
