// Command mkdeb builds podpis's Debian package from installer/linux/nfpm.yaml
// with nfpm as a library (make package).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb"
)

func main() {
	version := flag.String("version", "0.1.0", "package version (a git describe is turned into a Debian one)")
	bin := flag.String("bin", "bin", "folder with podpis and libpodpis-softtoken.so")
	arch := flag.String("arch", "amd64", "Debian architecture")
	out := flag.String("out", "", "the .deb to write (default dist/podpis_VERSION_ARCH.deb)")
	config := flag.String("config", "installer/linux/nfpm.yaml", "nfpm configuration")
	flag.Parse()
	v := debVersion(*version)
	if *out == "" {
		*out = filepath.Join("dist", fmt.Sprintf("podpis_%s_%s.deb", v, *arch))
	}
	if err := build(*config, *out, map[string]string{"VERSION": v, "BIN": *bin, "ARCH": *arch}); err != nil {
		fmt.Fprintln(os.Stderr, "mkdeb:", err)
		os.Exit(1)
	}
	fmt.Println(*out)
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
