package wineagent

import (
	"context"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/internal/testwine"
)

// version is what the test build of podpis.exe says it is: the output of
// version must be this one, not merely some.
const version = "0.0.0-wine-test"

// pin is the soft token's user PIN.
const pin = "5791"

var buildDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "podpis-wineagent-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	testwine.Cleanup()
	os.RemoveAll(dir)
	os.Exit(code)
}

// bins are the Windows programs under test, built once per test binary.
type bins struct {
	exe    string // podpis.exe as go build makes it (console subsystem)
	guiExe string // podpis.exe as the installer ships it: -H windowsgui
	dll    string // podpis-softtoken.dll
}

var (
	buildOnce sync.Once
	built     bins
	buildErr  string
)

func build(t *testing.T) (*testwine.Prefix, bins) {
	t.Helper()
	p := testwine.Shared(t)
	buildOnce.Do(func() {
		// A failed build must not be retried by every test: remember it.
		ok := t.Run("build", func(t *testing.T) {
			ld := "-X main.version=" + version
			built.exe = testwine.Build(t, buildDir, "podpis.exe", "github.com/podpis/podpis/cmd/podpis", "-ldflags", ld)
			built.guiExe = testwine.Build(t, buildDir, "podpis-gui.exe", "github.com/podpis/podpis/cmd/podpis", "-ldflags", ld+" -H windowsgui")
			built.dll = testwine.Build(t, buildDir, "podpis-softtoken.dll", "github.com/podpis/podpis/cmd/podpis-softtoken", "-buildmode=c-shared")
		})
		if !ok {
			buildErr = "building the Windows programs failed"
		}
	})
	if buildErr != "" {
		t.Fatal(buildErr)
	}
	return p, built
}

// winPath is a Linux path as Windows programs under Wine see it (drive Z:
// is the Linux root).
func winPath(linux string) string { return `Z:` + strings.ReplaceAll(linux, "/", `\`) }

// wine runs a Windows program with env added and returns its output
// (stdout and stderr together, through a file: see testwine.Prefix.Run)
// and exit code. dir, when set, is its current folder. Every call is
// bounded: a hung Wine must fail the test, not the suite's time.
func wine(t *testing.T, p *testwine.Prefix, dir string, env []string, exe string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	f, err := os.CreateTemp("", "podpis-wine-out-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	cmd := p.Wine(ctx, exe, args...)
	cmd.Dir = dir
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = f, f
	err = cmd.Run()
	out, _ := os.ReadFile(f.Name())
	if ctx.Err() != nil {
		t.Fatalf("wine %s %s: timed out\n%s", filepath.Base(exe), strings.Join(args, " "), out)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("wine %s: %v", filepath.Base(exe), err)
	}
	return string(out), code
}

// agentEnv keeps podpis.exe's files in the test's folders (as Windows
// paths), and its soft token in tokens.
func agentEnv(t *testing.T, tokens string) []string {
	data := t.TempDir()
	return []string{
		"PODPIS_DATA_DIR=" + winPath(data),
		"PODPIS_CONFIG=" + winPath(filepath.Join(data, "config.json")),
		"PODPIS_SYSTEM_CONFIG=",
		"PODPIS_SOFTTOKEN_DIR=" + winPath(tokens),
		"PODPIS_SOFTTOKEN_PIN=" + pin,
	}
}

// token is a soft token folder holding one key per curve, certified by
// its CA.
type token struct {
	dir   string
	ca    *testpki.Issuer
	certs map[string]*x509.Certificate // thumbprint → certificate
}

func newToken(t *testing.T) *token {
	t.Helper()
	now := time.Now()
	tk := &token{dir: t.TempDir(), ca: testpki.Root(t, gost3410.CurveTC26512A, "Wine CA", now), certs: map[string]*x509.Certificate{}}
	for name, c := range map[string]*gost3410.Curve{"ivanov-256": gost3410.CurveTC26256A, "petrov-512": gost3410.CurveTC26512A} {
		cert, key := tk.ca.Person(t, c, pkix.Name{CommonName: name}, now, nil)
		der, err := gostx509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		writePEM(t, filepath.Join(tk.dir, name+".key"), "PRIVATE KEY", der)
		writePEM(t, filepath.Join(tk.dir, name+".pem"), "CERTIFICATE", cert.Raw)
		tk.certs[fmt.Sprintf("%x", sha1.Sum(cert.Raw))] = cert
	}
	return tk
}

func (tk *token) caFile(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "ca.pem")
	writePEM(t, path, "CERTIFICATE", tk.ca.Cert.Raw)
	return path
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// doctorReport is the part of doctor --json the tests read.
type doctorReport struct {
	Version string `json:"version"`
	Report  struct {
		OS      string `json:"os"`
		Modules []struct {
			Name   string `json:"name"`
			Path   string `json:"path"`
			File   string `json:"file"`
			Found  bool   `json:"found"`
			Loaded bool   `json:"loaded"`
			Error  string `json:"error"`
			Slots  []struct {
				TokenPresent   bool     `json:"tokenPresent"`
				GOSTMechanisms []string `json:"gostMechanisms"`
			} `json:"slots"`
		} `json:"modules"`
		Certificates []struct {
			ID string `json:"id"`
		} `json:"certificates"`
		Findings []struct {
			Code  string `json:"code"`
			Title string `json:"title"`
			Cause string `json:"cause"`
			Fix   string `json:"fix"`
		} `json:"findings"`
		Ready bool `json:"ready"`
	} `json:"report"`
}

func doctor(t *testing.T, p *testwine.Prefix, dir string, env []string, exe string, args ...string) doctorReport {
	t.Helper()
	out, code := wine(t, p, dir, env, exe, append([]string{"doctor", "--json"}, args...)...)
	var r doctorReport
	// doctor exits 1 when login cannot work (no agent runs here).
	if err := json.Unmarshal([]byte(out), &r); err != nil || code > 1 {
		t.Fatalf("doctor --json: exit %d, %v:\n%s", code, err, out)
	}
	return r
}

func (r doctorReport) finding(code string) (title, cause string, ok bool) {
	for _, f := range r.Report.Findings {
		if f.Code == code {
			return f.Title, f.Cause, true
		}
	}
	return "", "", false
}
