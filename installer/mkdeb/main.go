// Command mkdeb builds podpis's Debian packages with nfpm as a library
// (make package): podpis from installer/linux/nfpm.yaml and the demo soft
// token, podpis-softtoken, from nfpm-softtoken.yaml. It writes what Debian
// wants generated first: the changelog for this version and the podpis(1)
// man page from the built podpis's own usage text, so that the page cannot
// drift from the commands.
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb"
)

func main() {
	version := flag.String("version", "0.1.0", "package version (a git describe is turned into a Debian one)")
	bin := flag.String("bin", "bin", "folder with podpis, podpis-ui and libpodpis-softtoken.so")
	arch := flag.String("arch", "amd64", "Debian architecture")
	dist := flag.String("dist", "dist", "folder for the .deb files (NAME_VERSION_ARCH.deb)")
	flag.Parse()
	v := debVersion(*version)
	gen, err := os.MkdirTemp("", "mkdeb")
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkdeb:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(gen)
	vars := map[string]string{"VERSION": v, "RELEASE": revision, "BIN": *bin, "ARCH": *arch, "GEN": gen}
	if err := generate(gen, *bin, v+"-"+revision, buildTime()); err != nil {
		fmt.Fprintln(os.Stderr, "mkdeb:", err)
		os.Exit(1)
	}
	for _, p := range packages {
		out := filepath.Join(*dist, fmt.Sprintf("%s_%s-%s_%s.deb", p.name, v, revision, *arch))
		if err := build(p.config, out, vars); err != nil {
			fmt.Fprintln(os.Stderr, "mkdeb:", p.name+":", err)
			os.Exit(1)
		}
		fmt.Println(out)
	}
}

// revision is the Debian revision: the packaging is not podpis's own
// release, so the changelog is changelog.Debian.gz, as for any package
// whose version has one.
const revision = "1"

// packages are the .deb files make package writes.
var packages = []struct{ name, config string }{
	{"podpis", "installer/linux/nfpm.yaml"},
	{"podpis-softtoken", "installer/linux/nfpm-softtoken.yaml"},
}

// buildTime is SOURCE_DATE_EPOCH when set (reproducible builds), else now:
// the changelog entry's date.
func buildTime() time.Time {
	if s, err := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64); err == nil {
		return time.Unix(s, 0).UTC()
	}
	return time.Now().UTC()
}

// generate writes into dir the files the nfpm configurations take from
// ${GEN}: podpis, podpis-ui and libpodpis-softtoken.so from bin stripped of symbols
// and debug data, as Debian ships binaries (Go's stack traces come from
// its own tables, which stay); changelog.Debian.gz and podpis.1.gz, both
// compressed as gzip -9n does (no name, no time), as Debian policy asks.
// version is the full Debian version, revision included.
func generate(dir, bin, version string, at time.Time) error {
	for _, f := range []string{"podpis", "podpis-ui", "libpodpis-softtoken.so"} {
		if out, err := exec.Command("strip", "--strip-unneeded", "--remove-section=.comment", "-o", filepath.Join(dir, f), filepath.Join(bin, f)).CombinedOutput(); err != nil {
			return fmt.Errorf("mkdeb: strip %s: %w\n%s", f, err, out)
		}
	}
	usage, err := usageText(filepath.Join(dir, "podpis"))
	if err != nil {
		return err
	}
	if err := writeGzip(filepath.Join(dir, "changelog.Debian.gz"), changelog(version, at)); err != nil {
		return err
	}
	if err := writeGzip(filepath.Join(dir, "podpis-ui.1.gz"), uiManPage(version, at)); err != nil {
		return err
	}
	return writeGzip(filepath.Join(dir, "podpis.1.gz"), manPage(version, at, usage))
}

// uiManPage is podpis-ui(1): the program podpis starts for its windows.
func uiManPage(version string, at time.Time) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, ".TH PODPIS\\-UI 1 %q \"podpis %s\" \"User Commands\"\n", at.Format("2006-01-02"), roff(version))
	b.WriteString(`.SH NAME
podpis\-ui \- the PIN, consent and document windows of podpis
.SH SYNOPSIS
.B podpis\-ui
.I window
.SH DESCRIPTION
.B podpis\-ui
is started by
.BR podpis (1)
for each question it asks the person, as gpg\-agent starts pinentry:
.I window
is
.BR pin ,
.B consent
or
.BR document .
It reads the question from standard input and writes the answers to
standard output, one JSON message per line; it is not meant to be run by
hand.
.SH SEE ALSO
.BR podpis (1)
`)
	return b.Bytes()
}

// usageText is what `podpis help` prints: the commands and their flags.
func usageText(podpis string) (string, error) {
	out, err := exec.Command(podpis, "help").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("mkdeb: %s help: %w\n%s", podpis, err, out)
	}
	return string(out), nil
}

const maintainer = "podpis developers <podpis@example.org>"

// changelog is a one-entry Debian changelog: the package is built from
// git, whose log is the real history.
func changelog(version string, at time.Time) []byte {
	return []byte(fmt.Sprintf("podpis (%s) unstable; urgency=medium\n\n"+
		"  * Built from the podpis repository; its git log is the full history.\n\n"+
		" -- %s  %s\n", version, maintainer, at.Format(time.RFC1123Z)))
}

// manPage is podpis(1) in man(7) roff around the usage text, which is
// quoted line by line so that nothing in it reads as a roff request.
func manPage(version string, at time.Time, usage string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, ".TH PODPIS 1 %q \"podpis %s\" \"User Commands\"\n", at.Format("2006-01-02"), roff(version))
	b.WriteString(`.SH NAME
podpis \- local certificate\-signing agent for web logins
.SH SYNOPSIS
.B podpis
.I command
.RI [ options ]
.SH DESCRIPTION
.B podpis
lets web pages ask for a CMS signature made with the person's qualified
certificate (GOST R 34.10\-2012, RSA, ECDSA) whose key lives in CryptoPro CSP,
ViPNet CSP or a Rutoken/JaCarta token, through their PKCS#11 modules.
It runs in the tray, listens on 127.0.0.1:24730 and asks for the PIN and
consent in its own windows.
.SH COMMANDS
The commands and their options, as
.B podpis help
prints them:
.PP
.nf
`)
	for _, line := range strings.Split(strings.TrimRight(usage, "\n"), "\n") {
		b.WriteString(`\&` + roff(line) + "\n")
	}
	b.WriteString(`.fi
.SH FILES
.TP
.I /etc/xdg/autostart/podpis.desktop
starts the agent when a person logs in.
.SH SEE ALSO
.BR pkcs11\-tool (1),
.BR certutil (1)
`)
	return b.Bytes()
}

// roff escapes s for man(7): backslashes, and hyphens as minus signs, as
// they are options to type.
func roff(s string) string {
	return strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
}

func writeGzip(path string, data []byte) error {
	var b bytes.Buffer
	z, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := z.Write(data); err != nil {
		return err
	}
	if err := z.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func build(config, out string, vars map[string]string) error {
	cfg, err := nfpm.ParseFileWithEnvMapping(config, func(k string) string { return vars[k] })
	if err != nil {
		return err
	}
	info, err := cfg.Get("deb")
	if err != nil {
		return err
	}
	info = nfpm.WithDefaults(info)
	if err := nfpm.PrepareForPackager(info, "deb"); err != nil {
		return err
	}
	pkg, err := nfpm.Get("deb")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := pkg.Package(info, f); err != nil {
		f.Close()
		os.Remove(out)
		return err
	}
	return f.Close()
}

// debVersion makes a Debian version of git describe's output: v1.2.3 →
// 1.2.3, v1.2.3-4-gabc → 1.2.3+git4.abc, abc1234 → 0~gitabc1234.
func debVersion(v string) string {
	v = strings.TrimPrefix(v, "v")
	v = strings.TrimSuffix(v, "-dirty")
	if v == "" || !unicode.IsDigit(rune(v[0])) {
		return "0~git" + strings.Map(keep, v)
	}
	if parts := strings.Split(v, "-"); len(parts) >= 3 {
		return parts[0] + "+git" + parts[len(parts)-2] + "." + strings.TrimPrefix(parts[len(parts)-1], "g")
	}
	return strings.Map(keep, v)
}

func keep(r rune) rune {
	if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(".+~", r) {
		return r
	}
	return '.'
}
