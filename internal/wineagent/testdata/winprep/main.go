// Command winprep prepares what webclient/test/windows.test.mjs runs under
// Wine: a throwaway prefix (internal/testwine, with the ProcessPrng
// stand-in) and podpis.exe, podpis-softtoken.dll and tcprelay.exe built
// into DIR. It prints them as JSON with the environment Wine commands
// need; the caller ends the prefix's wineserver (wineserver -k) and
// removes both folders.
//
//	go run ./internal/wineagent/testdata/winprep DIR
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/podpis/podpis/internal/testwine"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "winprep:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 2 {
		return fmt.Errorf("usage: winprep DIR")
	}
	dir := os.Args[1]
	out := map[string]any{}
	for _, b := range []struct{ key, file, pkg, mode string }{
		{"podpis", "podpis.exe", "github.com/podpis/podpis/cmd/podpis", ""},
		{"softtoken", "podpis-softtoken.dll", "github.com/podpis/podpis/cmd/podpis-softtoken", "c-shared"},
		{"relay", "tcprelay.exe", "github.com/podpis/podpis/internal/wineagent/testdata/tcprelay", ""},
	} {
		path := filepath.Join(dir, b.file)
		args := []string{"build", "-o", path}
		if b.mode != "" {
			args = append(args, "-buildmode="+b.mode)
		}
		cmd := exec.Command("go", append(args, b.pkg)...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "CC=x86_64-w64-mingw32-gcc", "GOOS=windows", "GOARCH=amd64")
		if o, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", b.pkg, err, o)
		}
		out[b.key] = path
	}
	p, err := testwine.New()
	if err != nil {
		return err
	}
	env := map[string]string{}
	for _, kv := range p.Env() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "WINE") || k == "DISPLAY" {
			env[k] = v
		}
	}
	out["prefix"], out["env"] = p.Dir, env
	return json.NewEncoder(os.Stdout).Encode(out)
}
