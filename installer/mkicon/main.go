// Command mkicon writes podpis's icon files for packaging: an .ico for
// the Windows installer and shortcuts, a .png for Linux menus.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/podpis/podpis/installer/icon"
)

func main() {
	out := flag.String("o", "podpis.ico", "file to write: .ico or .png")
	size := flag.Int("size", 256, "size of a .png")
	flag.Parse()
	data := icon.PNG(*size, false)
	if strings.HasSuffix(*out, ".ico") {
		data = icon.ICO(false, 16, 24, 32, 48, 256)
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "mkicon:", err)
		os.Exit(1)
	}
}
