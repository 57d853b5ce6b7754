// Command podpis-demo is the demo login server: it serves the login page
// and the webclient, issues challenges and verifies the signed result with
// the verify package.
//
//	podpis-demo init --dir DIR      make the demo CA and soft token keys (once)
//	podpis-demo serve --roots FILE [--listen 127.0.0.1:8080] [--origin URL] [--agent-port N]... [--dist DIR] [--redis ADDR] [--tls-cert FILE --tls-key FILE]
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "init":
		err = runInit(os.Args[2:])
	case "serve":
		err = runServe(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "podpis-demo: %v\n", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: podpis-demo init --dir DIR | podpis-demo serve --roots FILE [--listen ADDR] [--origin URL] [--agent-port N]... [--dist DIR] [--redis ADDR] [--tls-cert FILE --tls-key FILE]")
	os.Exit(2)
}
