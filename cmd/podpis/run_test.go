package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/podpis/podpis/agent/wsapi"
	"github.com/podpis/podpis/internal/testtoken"
	"github.com/podpis/podpis/verify"
)

// TestHeadless runs podpis run --headless as a process: it serves the
// trusted origin (PIN from PODPIS_PIN), refuses another, logs neither the
// PIN nor what it signed, and stops cleanly on SIGINT.
func TestHeadless(t *testing.T) {
	l, _ := net.Listen("tcp4", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	const site = "https://lk.example.ru"
	data := t.TempDir()
	conf := filepath.Join(data, "config.json")
	os.WriteFile(conf, []byte(`{"trustedOrigins":["https://*.trusted-by-config.example"]}`), 0o600)
	cmd, line, logs := startRun(t, []string{"PODPIS_PIN=" + testtoken.PIN, "PODPIS_DATA_DIR=" + data, "PODPIS_CONFIG=" + conf},
		"--headless", "--trust-origin", site, "--module", tokenEnv.SoftToken, "--listen", addr)
	if !strings.Contains(line, "listening on "+addr) {
		t.Fatalf("start: %q\n%s", line, logs.String())
	}

	hdr := http.Header{"Origin": {site}}
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", hdr)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	call := func(id int, method string, params any) (json.RawMessage, *wsapi.Error) {
		raw, _ := json.Marshal(params)
		ws.WriteJSON(map[string]any{"id": id, "method": method, "params": json.RawMessage(raw)})
		var r struct {
			Result json.RawMessage
			Error  *wsapi.Error
		}
		ws.SetReadDeadline(time.Now().Add(20 * time.Second))
		if err := ws.ReadJSON(&r); err != nil {
			t.Fatal(err)
		}
		return r.Result, r.Error
	}
	res, e := call(1, "certificates", map[string]any{})
	var certs wsapi.CertificatesResult
	if e != nil || json.Unmarshal(res, &certs) != nil || len(certs.Certificates) == 0 {
		t.Fatalf("certificates: %+v %s", e, res)
	}
	v, _ := verify.New(verify.Config{Origins: []string{site}, Roots: []*x509.Certificate{tokenCA.Cert}})
	ch, _ := v.IssueChallenge(context.Background(), site)
	res, e = call(2, "authenticate", wsapi.AuthenticateParams{Certificate: certs.Certificates[0].ID, Challenge: ch.Value})
	var auth wsapi.AuthenticateResult
	if e != nil || json.Unmarshal(res, &auth) != nil {
		t.Fatalf("authenticate: %+v", e)
	}
	der, _ := base64.StdEncoding.DecodeString(auth.CMS)
	if _, err := v.VerifyLogin(context.Background(), der, site); err != nil {
		t.Fatal(err)
	}
	secret := "Секретный договор 42"
	if _, e := call(3, "sign", wsapi.SignParams{Certificate: certs.Certificates[0].ID, Data: base64.StdEncoding.EncodeToString([]byte(secret))}); e != nil {
		t.Fatalf("sign: %+v", e)
	}
	if _, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", http.Header{"Origin": {"https://evil.example"}}); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("untrusted origin served by a headless agent: %v", err)
	}
	if ws2, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", http.Header{"Origin": {"https://lk.trusted-by-config.example"}}); err != nil {
		t.Fatalf("origin trusted by the config file refused: %v", err)
	} else {
		ws2.Close()
	}

	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop on SIGINT")
	}
	// The test PIN is four digits, which a log could hold by chance: look
	// for a PIN field instead, and for the secret data itself.
	for _, s := range []string{"pin=", "PIN=" + testtoken.PIN, secret, base64.StdEncoding.EncodeToString([]byte(secret)), ch.Value} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("log contains %q:\n%s", s, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "method=authenticate") {
		t.Errorf("log lacks the requests:\n%s", logs.String())
	}
	fileLog, err := os.ReadFile(filepath.Join(data, "podpis.log"))
	if err != nil || !strings.Contains(string(fileLog), "method=authenticate") || strings.Contains(string(fileLog), secret) {
		t.Errorf("log file: %v\n%s", err, fileLog)
	}
}

// startRun starts podpis run with args, env added to this process's
// environment, and waits for its first line, which says where it listens
// and is returned; its stderr goes to logs. It is killed when the test ends.
func startRun(t *testing.T, env []string, args ...string) (cmd *exec.Cmd, line string, logs *bytes.Buffer) {
	t.Helper()
	cmd = exec.Command(os.Args[0], append([]string{"run"}, args...)...)
	cmd.Env = append(append(os.Environ(), "PODPIS_RUN_MAIN=1"), env...)
	logs = &bytes.Buffer{}
	cmd.Stderr = logs
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.Contains(line, "listening on") {
		t.Fatalf("start: %q %v\n%s", line, err, logs.String())
	}
	return cmd, line, logs
}

// TestSingleInstanceAndFirstRun: started by the desktop session, podpis
// trusts its CA in the person's browser store once; a second podpis for
// the same person exits with a clear message instead of racing for the port.
func TestSingleInstanceAndFirstRun(t *testing.T) {
	home, data := t.TempDir(), t.TempDir()
	env := append(os.Environ(), "PODPIS_RUN_MAIN=1", "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "PODPIS_DATA_DIR="+data, "PODPIS_CONFIG="+filepath.Join(data, "config.json"))
	first := exec.Command(os.Args[0], "run", "--headless", "--autostart", "--no-known-modules", "--module", tokenEnv.SoftToken, "--listen", "127.0.0.1:0")
	first.Env = env
	stdout, _ := first.StdoutPipe()
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Process.Kill()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || !strings.Contains(line, "listening on") {
		t.Fatalf("first: %q %v", line, err)
	}
	second := exec.Command(os.Args[0], "run", "--headless", "--no-known-modules", "--module", tokenEnv.SoftToken, "--listen", "127.0.0.1:0")
	second.Env = env
	out, err := second.CombinedOutput()
	if code := second.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(out), "podpis уже запущен для этого пользователя") {
		t.Errorf("second start: exit %d %v\n%s", code, err, out)
	}
	if _, err := exec.LookPath("certutil"); err == nil {
		if _, err := os.Stat(filepath.Join(data, "setup.done")); err != nil {
			t.Errorf("first-run setup not recorded: %v", err)
		}
		if l, _ := exec.Command("certutil", "-L", "-d", "sql:"+filepath.Join(home, ".pki", "nssdb")).Output(); !bytes.Contains(l, []byte("podpis local CA")) {
			t.Errorf("first run did not trust the CA in ~/.pki/nssdb:\n%s", l)
		}
	}
}

// TestKilledMidSign: the agent is killed while the token is signing; the
// next start (as autostart would do it) takes over at once — no stale
// lock — and logs in, with the token's PIN counter untouched.
func TestKilledMidSign(t *testing.T) {
	defer tokenEnv.ResetPIN()
	data := t.TempDir()
	startAgent := func() (*exec.Cmd, string) {
		l, _ := net.Listen("tcp4", "127.0.0.1:0")
		addr := l.Addr().String()
		l.Close()
		cmd := exec.Command(os.Args[0], "run", "--headless", "--trust-origin", "https://lk.example.ru", "--no-known-modules",
			"--module", tokenEnv.SoftToken, "--listen", addr)
		cmd.Env = append(os.Environ(), "PODPIS_RUN_MAIN=1", "PODPIS_PIN="+testtoken.PIN, "PODPIS_DATA_DIR="+data, "PODPIS_CONFIG="+filepath.Join(data, "config.json"))
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || !strings.Contains(line, "listening") {
			t.Fatalf("start: %q %v", line, err)
		}
		return cmd, addr
	}
	login := func(addr string, wait time.Duration) (*websocket.Conn, error) {
		ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", http.Header{"Origin": {"https://lk.example.ru"}})
		if err != nil {
			t.Fatal(err)
		}
		ws.WriteJSON(map[string]any{"id": 1, "method": "certificates"})
		var cr struct {
			Result wsapi.CertificatesResult
		}
		ws.ReadJSON(&cr)
		var id string
		for _, c := range cr.Result.Certificates {
			if c.Identity.CommonName == "Сидоров Сидор" {
				id = c.ID
			}
		}
		ws.WriteJSON(map[string]any{"id": 2, "method": "authenticate", "params": wsapi.AuthenticateParams{Certificate: id, Challenge: "after-restart"}})
		ws.SetReadDeadline(time.Now().Add(wait))
		var r struct{ Error *wsapi.Error }
		if err := ws.ReadJSON(&r); err != nil {
			return ws, err
		}
		if r.Error != nil {
			return ws, fmt.Errorf("%s: %s", r.Error.Code, r.Error.Message)
		}
		return ws, nil
	}

	first, addr := startAgent()
	tokenEnv.Marker(".hang", true) // the token stops answering inside C_Sign
	ws, err := login(addr, 500*time.Millisecond)
	if err == nil {
		t.Fatal("signing did not hang")
	}
	first.Process.Kill() // mid-operation
	first.Wait()
	ws.Close()
	tokenEnv.Marker(".hang", false)

	second, addr := startAgent()
	defer second.Process.Kill()
	ws, err = login(addr, 20*time.Second)
	if err != nil {
		t.Fatalf("login after the restart: %v", err)
	}
	ws.Close()
	if n := tokenEnv.PINFailures(); n != 0 {
		t.Errorf("the token's PIN counter moved to %d", n)
	}
}

// ownAgentFolders gives the test an agent's folders of its own — data,
// config, no system config, the runtime folder of the control channel —
// so that it never meets the machine's podpis or another test's, and
// returns the data folder.
func ownAgentFolders(t *testing.T) string {
	data := t.TempDir()
	t.Setenv("PODPIS_DATA_DIR", data)
	t.Setenv("PODPIS_CONFIG", filepath.Join(data, "config.json"))
	t.Setenv("PODPIS_SYSTEM_CONFIG", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	return data
}
