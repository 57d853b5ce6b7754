package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/podpis/podpis/agent/nativehost"
	"github.com/podpis/podpis/agent/wsapi"
	"github.com/podpis/podpis/installer/nativemsg"
	"github.com/podpis/podpis/internal/testtoken"
	"github.com/podpis/podpis/verify"
)

// The manifests name the host the extension connects to.
func TestNativeHostName(t *testing.T) {
	if nativehost.Name != nativemsg.Name {
		t.Fatalf("host %q, manifests %q", nativehost.Name, nativemsg.Name)
	}
}

// nativeHost starts podpis as Chrome starts the host manifest's path:
// with the extension's origin as its only argument.
func nativeHost(t *testing.T, runtime string) (in io.WriteCloser, out *bufio.Reader, stop func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "chrome-extension://"+nativemsg.ChromeExtensionID()+"/")
	cmd.Env = append(os.Environ(), "PODPIS_RUN_MAIN=1", "XDG_RUNTIME_DIR="+runtime, "PODPIS_NATIVE_NO_START=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	in, _ = cmd.StdinPipe()
	o, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop = func() {
		in.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("native host: %v\n%s", err, stderr.Bytes())
		}
	}
	return in, bufio.NewReader(o), stop
}

type nativeReply struct {
	Origin  string
	Message *struct {
		ID     json.RawMessage
		Result json.RawMessage
		Error  *wsapi.Error
	}
	Error *wsapi.Error
}

func nativeCall(t *testing.T, in io.Writer, out io.Reader, origin string, id int, method string, params any) nativeReply {
	t.Helper()
	env, _ := json.Marshal(map[string]any{"origin": origin, "message": map[string]any{"id": id, "method": method, "params": params}})
	if err := nativehost.WriteFrame(in, env, nativehost.MaxFromBrowser); err != nil {
		t.Fatal(err)
	}
	b, err := nativehost.ReadFrame(out, nativehost.MaxToBrowser)
	var r nativeReply
	if err != nil || json.Unmarshal(b, &r) != nil {
		t.Fatalf("%s: %q %v", method, b, err)
	}
	return r
}

// TestNativeHostCommand: podpis run serves its channel, and podpis started
// the way Chrome starts it logs in through it; the extension's origin in
// argv does not become the page's. Without an agent, NOT_RUNNING.
func TestNativeHostCommand(t *testing.T) {
	const site = "https://lk.example.ru"
	runtime, err := os.MkdirTemp("", "pn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(runtime) }) // after the agent is killed

	in, out, stop := nativeHost(t, runtime)
	if r := nativeCall(t, in, out, site, 1, "info", nil); r.Error == nil || r.Error.Code != nativehost.NotRunning {
		t.Fatalf("without an agent: %+v", r)
	}

	data := t.TempDir()
	cmd, _, logs := startRun(t, []string{"PODPIS_PIN=" + testtoken.PIN, "PODPIS_DATA_DIR=" + data,
		"PODPIS_CONFIG=" + filepath.Join(data, "config.json"), "XDG_RUNTIME_DIR=" + runtime},
		"--headless", "--trust-origin", site, "--module", tokenEnv.SoftToken, "--no-known-modules", "--listen", "127.0.0.1:0")
	if fi, err := os.Stat(filepath.Join(runtime, "podpis", "agent.sock")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("channel: %v %v", err, fi)
	}

	// The same host process reaches the agent once it runs.
	r := nativeCall(t, in, out, site, 2, "certificates", map[string]any{})
	var certs wsapi.CertificatesResult
	if r.Message == nil || r.Message.Error != nil || json.Unmarshal(r.Message.Result, &certs) != nil || len(certs.Certificates) == 0 {
		t.Fatalf("certificates: %+v\n%s", r, logs.String())
	}
	v, _ := verify.New(verify.Config{Origins: []string{site}, Roots: []*x509.Certificate{tokenCA.Cert}})
	ch, _ := v.IssueChallenge(context.Background(), site)
	r = nativeCall(t, in, out, site, 3, "authenticate", wsapi.AuthenticateParams{Certificate: certs.Certificates[0].ID, Challenge: ch.Value})
	var auth wsapi.AuthenticateResult
	if r.Message == nil || r.Message.Error != nil || json.Unmarshal(r.Message.Result, &auth) != nil {
		t.Fatalf("authenticate: %+v", r)
	}
	der, _ := base64.StdEncoding.DecodeString(auth.CMS)
	if _, err := v.VerifyLogin(context.Background(), der, site); err != nil {
		t.Fatalf("login does not verify: %v", err)
	}
	// The extension's own origin is no page's: a headless agent serves
	// the trusted site only.
	ext := "chrome-extension://" + nativemsg.ChromeExtensionID()
	if r := nativeCall(t, in, out, ext, 4, "certificates", nil); r.Message == nil || r.Message.Error == nil || r.Message.Error.Code != wsapi.OriginDenied {
		t.Fatalf("as the extension: %+v", r)
	}
	// The browser closes the port: the host ends cleanly, the agent runs on.
	stop()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("the agent ended with the host: %v", err)
	}
}

// Firefox starts the host with the manifest's path and the extension's
// id; without an agent (and without starting one) it answers NOT_RUNNING.
func TestNativeHostFirefoxArgv(t *testing.T) {
	runtime, err := os.MkdirTemp("", "pn")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(runtime)
	cmd := exec.Command(os.Args[0], `C:\Users\a\AppData\Roaming\podpis\ru.podpis.agent.firefox.json`, nativemsg.FirefoxExtensionID)
	cmd.Env = append(os.Environ(), "PODPIS_RUN_MAIN=1", "XDG_RUNTIME_DIR="+runtime, "PODPIS_NATIVE_NO_START=1")
	in, _ := cmd.StdinPipe()
	o, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer in.Close()
	if r := nativeCall(t, in, bufio.NewReader(o), "https://lk.example.ru", 1, "info", nil); r.Error == nil || r.Error.Code != nativehost.NotRunning {
		t.Fatalf("%+v", r)
	}
}
