package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// about is the one line that heads podpis help (and the man page's NAME).
const about = "podpis — агент подписи: вход на сайты и подпись документов сертификатами с токенов (ГОСТ)"

// runHelp: podpis help [КОМАНДА]. Asked-for help goes to stdout and exits
// 0, so it can be paged or saved; a usage error stays on stderr with 2.
func runHelp(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		fmt.Fprintf(stdout, "%s\n\nИспользование: podpis КОМАНДА [ФЛАГИ]\n\nКоманды:\n", about)
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		for _, c := range commands {
			fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
		}
		tw.Flush()
		fmt.Fprintln(stdout, "\nОписание команды и её флагов: podpis help КОМАНДА (или podpis КОМАНДА --help).")
		return 0
	case len(args) > 1:
		return usageError("help", stderr)
	}
	c, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(stderr, "podpis: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	if c.name == "help" {
		printHelp(stdout, c, nil)
		return 0
	}
	// Each command knows its flags: asked with --help it prints them.
	return c.run([]string{"--help"}, stdout, stderr)
}

// isHelp tells the ways a person asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help"
}

// printHelp prints a command's description, usage line and one line per
// flag; fs is nil for a command without flags.
func printHelp(w io.Writer, c command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "podpis %s — %s\n\nИспользование: %s\n", c.name, c.summary, c.usageLine())
	if fs == nil {
		return
	}
	fmt.Fprintln(w, "\nФлаги:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fs.VisitAll(func(f *flag.Flag) {
		arg, text := flag.UnquoteUsage(f)
		if arg != "" {
			arg = " " + arg
		}
		if d := f.DefValue; d != "" && d != "false" && d != "[]" {
			text += " (по умолчанию " + d + ")"
		}
		fmt.Fprintf(tw, "  --%s%s\t%s\n", f.Name, arg, text)
	})
	tw.Flush()
}

// newFlags makes a subcommand's flag set. The flag package's own output
// (English, and on the wrong stream for asked-for help) is silenced:
// parseFlags prints help and errors itself.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses a subcommand's arguments. done says the command is
// over with exit code code: help was asked (0) or the arguments are wrong
// (2, with the error and the usage line on stderr).
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (code int, done bool) {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		c, _ := lookup(fs.Name())
		printHelp(stdout, c, fs)
		return 0, true
	}
	if err != nil {
		fmt.Fprintf(stderr, "podpis: %s: %v\n", fs.Name(), err)
		return usageError(fs.Name(), stderr), true
	}
	return 0, false
}

// noArgs is parseFlags for a command that takes nothing.
func noArgs(name string, args []string, stdout, stderr io.Writer) (code int, done bool) {
	switch {
	case len(args) == 0:
		return 0, false
	case len(args) == 1 && isHelp(args[0]):
		c, _ := lookup(name)
		printHelp(stdout, c, nil)
		return 0, true
	}
	fmt.Fprintf(stderr, "podpis: %s takes no arguments\n", name)
	return 2, true
}

// usageError prints the command's usage line on stderr and returns 2.
func usageError(name string, stderr io.Writer) int {
	c, _ := lookup(name)
	fmt.Fprintf(stderr, "podpis: usage: %s\n", strings.TrimSpace(c.usageLine()))
	return 2
}
