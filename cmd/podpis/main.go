// Command podpis is the podpis certificate-signing agent and its tools.
//
// Usage:
//
//	podpis certs [--module PATH]... [--no-known-modules] [--json]
//	podpis doctor [--json] [--module PATH]... [--no-known-modules] [--agent 127.0.0.1:PORT]
//	podpis hash [--alg streebog256|streebog512] [FILE...]
//	podpis install [--renew] [--no-autostart]
//	podpis native-host [chrome-extension://ID/ | MANIFEST EXTENSION_ID]
//	podpis run [--headless] [--trust-origin ORIGIN]... [--module PATH]... [--no-known-modules] [--listen 127.0.0.1:PORT]
//	podpis sign --cert THUMBPRINT --in FILE --out FILE [--detached] [--module PATH]... [--no-known-modules]
//	podpis speed [--curve NAME] [--seconds N]
//	podpis uninstall
//	podpis verify [--login ORIGIN] --roots FILE [--intermediates FILE] [--at RFC3339] [--content FILE] [--revocation require|prefer|off] [--crl FILE]... [--json] SIG
//	podpis version
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

type command struct {
	name, usage string
	run         func(args []string, stdout, stderr io.Writer) int
}

var commands []command

func init() {
	commands = []command{
		{"certs", "certs [--module PATH]... [--no-known-modules] [--json]", runCerts},
		{"doctor", "doctor [--json] [--module PATH]... [--no-known-modules] [--agent 127.0.0.1:PORT]", runDoctor},
		{"hash", "hash [--alg streebog256|streebog512] [FILE...]", runHash},
		{"install", "install [--renew] [--no-autostart]", runInstall},
		{"native-host", "native-host  (started by the browser for the podpis extension)", runNativeHost},
		{"run", "run [--headless] [--trust-origin ORIGIN]... [--module PATH]... [--no-known-modules] [--listen 127.0.0.1:PORT]", runAgent},
		{"sign", "sign --cert THUMBPRINT --in FILE --out FILE [--detached] [--module PATH]... [--no-known-modules]", runSign},
		{"speed", "speed [--curve NAME] [--seconds N]", runSpeed},
		{"uninstall", "uninstall", runUninstall},
		{"verify", "verify [--login ORIGIN] --roots FILE [--intermediates FILE] [--at RFC3339] [--content FILE] [--revocation require|prefer|off] [--crl FILE]... [--json] SIG", runVerify},
		{"version", "version", runVersion},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	// The browser starts the host manifest's path, podpis itself, with
	// its own arguments: Chrome's extension origin, or Firefox's manifest
	// path and extension id.
	if strings.HasPrefix(args[0], "chrome-extension://") || (len(args) == 2 && strings.HasSuffix(args[0], ".json")) {
		return runNativeHost(args, stdout, stderr)
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "podpis: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage:")
	for _, c := range commands {
		fmt.Fprintf(w, "  podpis %s\n", c.usage)
	}
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	if len(args) != 0 {
		fmt.Fprintln(stderr, "podpis: version takes no arguments")
		return 2
	}
	fmt.Fprintf(stdout, "podpis %s\n", version)
	return 0
}
