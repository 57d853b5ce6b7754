package main

import (
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/internal/testtoken"
	"github.com/podpis/podpis/internal/testwait"
	"github.com/podpis/podpis/login"
	"github.com/rogpeppe/go-internal/testscript"
)

// scriptCommands are the programs testscript puts on the scripts' PATH:
// the test binary itself, run as podpis.
var scriptCommands = map[string]func(){
	"podpis": func() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) },
}

// TestScripts runs the CLI contract in testdata/script: every subcommand's
// output and exit code, in a fresh process with a clean environment. Each
// script gets its own copy of the soft token, data folder, HOME and no
// system configuration, so no script sees the machine's agents, modules
// or files. It may use:
//
//	$SOFTTOKEN       the soft token module, holding one key and certificate
//	$CERT            that certificate's thumbprint («Сидоров Сидор»)
//	$ROOTS           its CA; $OTHER_ROOTS an unrelated CA
//	$LOGIN           a login for https://lk.example.ru (challenge
//	                 "script-challenge") signed under $ROOTS;
//	                 $LOGIN_DOCUMENT its signed content
//	$AGENT, $SILENT  a fake agent answering /v1/info (version 9.9.9), and
//	                 an address where nothing answers
//	$FREEPORT        a port free when the script started
//	$VERSION         the version podpis reports
//	$SOFTHSM         SoftHSM2's module with an empty token of the script's
//	                 own ("podpis-script", PIN 1234); "" without SoftHSM2
//
// and the commands "status CODE PROGRAM ARGS..." (exit code), "unhex IN
// OUT" and "await-agent ADDR", and the condition [have:PROG].
func TestScripts(t *testing.T) {
	// A login for https://lk.example.ru, made as the agent makes it: the
	// CLI refuses to sign login documents, so it cannot make one.
	now := time.Now()
	leaf, key := tokenCA.Person(t, gost3410.CurveTC26256A, pkix.Name{CommonName: "Петров Пётр"}, now, nil)
	doc := login.NewDocument("https://lk.example.ru", "script-challenge", now).Marshal()
	signed, err := cms.Sign(doc, leaf, key, &cms.SignOptions{ContentType: login.OID})
	if err != nil {
		t.Fatal(err)
	}
	otherRoot := testpki.Root(t, gost3410.CurveTC26256A, "Other CA", now).Cert.Raw
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup:               func(e *testscript.Env) error { return scriptSetup(e, signed, doc, otherRoot) },
		Cmds:                map[string]func(*testscript.TestScript, bool, []string){"status": cmdStatus, "unhex": cmdUnhex, "await-agent": cmdAwaitAgent},
		Condition:           scriptCondition,
	})
}

func scriptSetup(e *testscript.Env, login, doc, otherRoot []byte) error {
	work := e.WorkDir
	tokens := filepath.Join(work, ".token")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		return err
	}
	// A copy per script of the keys and certificates, not of the state
	// (the wrong-PIN counter, markers): a wrong PIN in one script must not
	// count against the others.
	files, err := os.ReadDir(tokenEnv.SoftTokenDir)
	if err != nil {
		return err
	}
	for _, f := range files {
		if f.IsDir() || strings.HasPrefix(f.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(tokenEnv.SoftTokenDir, f.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(tokens, f.Name()), b, 0o600); err != nil {
			return err
		}
	}
	home := filepath.Join(work, ".home")
	if err := os.Mkdir(home, 0o700); err != nil {
		return err
	}
	roots := filepath.Join(work, ".roots.pem")
	if err := os.WriteFile(roots, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tokenCA.Cert.Raw}), 0o600); err != nil {
		return err
	}
	other := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: otherRoot})
	for name, b := range map[string][]byte{".login.p7s": login, ".login-document": doc, ".other-roots.pem": other} {
		if err := os.WriteFile(filepath.Join(work, name), b, 0o600); err != nil {
			return err
		}
	}
	agentAddr, err := fakeAgent(e)
	if err != nil {
		return err
	}
	silent, err := silentListen(e.Defer)
	if err != nil {
		return err
	}
	// A port for the script's own agent: free when Setup looked.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	freePort := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	softhsm, err := scriptSoftHSM(e)
	if err != nil {
		return err
	}
	for k, v := range map[string]string{
		"HOME":                 home,
		"XDG_CONFIG_HOME":      filepath.Join(home, ".config"),
		"PODPIS_DATA_DIR":      filepath.Join(work, ".data"),
		"PODPIS_CONFIG":        filepath.Join(work, ".data", "config.json"),
		"PODPIS_SYSTEM_CONFIG": "",
		"PODPIS_SOFTTOKEN_DIR": tokens,
		"PODPIS_SOFTTOKEN_PIN": testtoken.PIN,
		"SOFTTOKEN":            tokenEnv.SoftToken,
		"CERT":                 tokenCertID,
		"ROOTS":                roots,
		"OTHER_ROOTS":          filepath.Join(work, ".other-roots.pem"),
		"LOGIN":                filepath.Join(work, ".login.p7s"),
		"LOGIN_DOCUMENT":       filepath.Join(work, ".login-document"),
		"AGENT":                agentAddr,
		"SILENT":               silent,
		"FREEPORT":             freePort,
		"VERSION":              version,
		"SOFTHSM":              softhsm,
	} {
		e.Setenv(k, v)
	}
	return nil
}

// scriptSoftHSM gives a script a SoftHSM2 token of its own, labelled
// "podpis-script" with the test PIN, and returns the module's path; ""
// when SoftHSM2 is not installed.
func scriptSoftHSM(e *testscript.Env) (string, error) {
	if tokenEnv.SoftHSM == "" {
		return "", nil
	}
	dir := filepath.Join(e.WorkDir, ".softhsm")
	if err := os.MkdirAll(filepath.Join(dir, "tokens"), 0o700); err != nil {
		return "", err
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		return "", err
	}
	cmd := exec.Command("softhsm2-util", "--init-token", "--free", "--label", "podpis-script", "--pin", testtoken.PIN, "--so-pin", "87654321")
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("softhsm2-util: %v\n%s", err, out)
	}
	e.Setenv("SOFTHSM2_CONF", conf)
	return tokenEnv.SoftHSM, nil
}

// scriptCondition knows [have:PROG]: PROG is on PATH. Under make test
// (PODPIS_REQUIRE_DEPS, as testdeps.Need) a missing program fails the
// script instead of skipping it.
func scriptCondition(cond string) (bool, error) {
	prog, ok := strings.CutPrefix(cond, "have:")
	if !ok {
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	if _, err := exec.LookPath(prog); err != nil {
		if os.Getenv("PODPIS_REQUIRE_DEPS") != "" {
			return false, fmt.Errorf("%s is missing (scripts/test-deps.sh installs it)", prog)
		}
		return false, nil
	}
	return true, nil
}

// fakeAgent answers /v1/info as an agent of version 9.9.9 does.
func fakeAgent(e *testscript.Env) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/info" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"product":"podpis","version":"9.9.9","protocol":2}`))
	})}
	go srv.Serve(l)
	e.Defer(func() { srv.Close() })
	return l.Addr().String(), nil
}

// cmdStatus is "status CODE PROGRAM ARGS...": run PROGRAM and require its
// exit code to be CODE; stdout and stderr stay for the next commands. exec
// alone only tells success from failure, and the CLI's contract tells
// usage (2) from a negative answer (1).
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("status: %v", err)
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("status: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

// cmdUnhex is "unhex IN OUT": write the bytes IN spells in hex to OUT, so a
// script can hold test messages that are not text or lack a final newline.
func cmdUnhex(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: unhex IN OUT")
	}
	b, err := hex.DecodeString(strings.Join(strings.Fields(ts.ReadFile(args[0])), ""))
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), b, 0o600))
}

// cmdAwaitAgent is "await-agent ADDR": wait until an agent answers
// /v1/info at ADDR, as a page would find it.
func cmdAwaitAgent(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: await-agent ADDR")
	}
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(testwait.Timeout)
	for {
		if resp, err := c.Get("http://" + args[0] + "/v1/info"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no agent at %s after %v", args[0], testwait.Timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
