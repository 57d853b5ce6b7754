package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/podpis/podpis/agent/nativehost"
	"github.com/podpis/podpis/agent/wsapi"
)

// listAt asks the agent at addr for the certificates as site and returns
// the error code ("" for a list).
func listAt(t *testing.T, addr, site string) wsapi.Code {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", http.Header{"Origin": {site}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.WriteJSON(map[string]any{"id": 1, "method": "certificates", "params": map[string]any{}})
	var r struct{ Error *wsapi.Error }
	ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	if err := ws.ReadJSON(&r); err != nil {
		t.Fatal(err)
	}
	if r.Error == nil {
		return ""
	}
	if r.Error.Message != r.Error.Code.Message() {
		t.Errorf("%s with message %q", r.Error.Code, r.Error.Message)
	}
	return r.Error.Code
}

// TestNoProviderOnTheWire: an agent with no PKCS#11 module at all answers
// certificates with NO_PROVIDER («Не установлен криптопровайдер»); one
// whose module loads but holds nothing, NO_CERTIFICATES. It answered
// NO_CERTIFICATES to both, and the page told people with no CSP that
// there were no certificates.
func TestNoProviderOnTheWire(t *testing.T) {
	const site = "https://lk.example.ru"
	for _, c := range []struct {
		name string
		args []string
		want wsapi.Code
	}{
		{"no module", nil, wsapi.NoProvider},
		{"an empty module", []string{"--module", tokenEnv.SoftToken}, wsapi.NoCertificates},
	} {
		t.Run(c.name, func(t *testing.T) {
			data, tokens := t.TempDir(), t.TempDir() // an empty soft token
			_, line, logs := startRun(t, []string{"PODPIS_DATA_DIR=" + data, "PODPIS_CONFIG=" + filepath.Join(data, "config.json"),
				"PODPIS_SOFTTOKEN_DIR=" + tokens, "XDG_RUNTIME_DIR=" + t.TempDir()},
				append([]string{"--headless", "--no-known-modules", "--trust-origin", site, "--listen", "127.0.0.1:0"}, c.args...)...)
			addr := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(line, "podpis: listening on "), " (ws and wss)\n"))
			addr = strings.Fields(addr)[0]
			if got := listAt(t, addr, site); got != c.want {
				t.Fatalf("certificates: %q, want %q\n%s", got, c.want, logs.String())
			}
		})
	}
}

type doctorReport struct {
	Ready bool
	Agent struct {
		Running, Control bool
		PID              int
	}
	Report struct {
		Source  string
		Modules []struct {
			Path, Name string
			Loaded     bool
			Software   bool
		}
		Certificates []struct{ ID string }
		Findings     []struct{ Code, Title, Fix string }
	}
}

func doctorJSONOf(t *testing.T, args ...string) (doctorReport, int) {
	t.Helper()
	out, errOut, code := runCLI(t, append([]string{"doctor", "--json"}, args...)...)
	var r doctorReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("doctor --json: %v\n%s%s", err, out, errOut)
	}
	return r, code
}

// TestDoctorAsksTheAgent: doctor reports what the running agent serves —
// here the soft token the agent was started with, which doctor's own scan
// of the configuration and the known paths cannot find — and says so;
// without an agent it scans itself and says that. With the same modules
// both ways, the two reports list the same modules and certificates and
// find the same things. doctor used to scan alone and print «Сертификаты:
// не найдены … невозможен» while the agent served certificates.
func TestDoctorAsksTheAgent(t *testing.T) {
	ownAgentFolders(t)
	silent := silentAddr(t)

	// Without an agent: doctor's own scan, of the module named.
	own, code := doctorJSONOf(t, "--module", tokenEnv.SoftToken, "--no-known-modules", "--agent", silent)
	if code != 1 || own.Agent.Running || own.Report.Source != "scan" || len(own.Report.Certificates) == 0 {
		t.Fatalf("without an agent: exit %d, %+v", code, own)
	}
	text, _, _ := runCLI(t, "doctor", "--module", tokenEnv.SoftToken, "--no-known-modules", "--agent", silent)
	for _, want := range []string{"Откуда сведения: агент не запущен: собственная проверка", "podpis soft token (программный токен) — загружен", "Сидоров Сидор"} {
		if !strings.Contains(text, want) {
			t.Errorf("own scan lacks %q:\n%s", want, text)
		}
	}

	// The agent runs with the soft token, which no configuration names.
	cmd, _, logs := startRun(t, []string{"PODPIS_PIN=1234"}, "--headless", "--no-known-modules", "--module", tokenEnv.SoftToken,
		"--trust-origin", "https://lk.example.ru", "--listen", "127.0.0.1:0")
	if fi, err := os.Stat(filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), "podpis", "control.sock")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("control channel: %v %v\n%s", err, fi, logs.String())
	}
	agent, code := doctorJSONOf(t, "--agent", silent)
	if !agent.Agent.Running || !agent.Agent.Control || agent.Agent.PID != cmd.Process.Pid || agent.Report.Source != "agent" {
		t.Fatalf("with the agent: exit %d, %+v\n%s", code, agent, logs.String())
	}
	// TLS is not set up in this data folder: a warning, not a failure.
	if code != 0 || !agent.Ready {
		t.Errorf("with the agent serving a usable certificate: exit %d, ready %v, findings %+v", code, agent.Ready, agent.Report.Findings)
	}
	if len(agent.Report.Certificates) == 0 {
		t.Fatalf("doctor says none while the agent serves certificates: %+v", agent.Report)
	}
	text, _, _ = runCLI(t, "doctor", "--agent", silent)
	for _, want := range []string{"Откуда сведения: по данным запущенного агента podpis", "(pid ", "Сидоров Сидор", "Вход по сертификату должен работать."} {
		if !strings.Contains(text, want) {
			t.Errorf("the agent's report lacks %q:\n%s", want, text)
		}
	}
	for _, never := range []string{"не найдены", "невозможен", "podpis podpis", "USB"} {
		if strings.Contains(text, never) {
			t.Errorf("the agent's report says %q:\n%s", never, text)
		}
	}

	// The same facts both ways.
	modules := func(r doctorReport) []string {
		var out []string
		for _, m := range r.Report.Modules {
			out = append(out, m.Path+" "+m.Name+" "+map[bool]string{true: "loaded"}[m.Loaded]+" "+map[bool]string{true: "software"}[m.Software])
		}
		return out
	}
	certs := func(r doctorReport) []string {
		var out []string
		for _, c := range r.Report.Certificates {
			out = append(out, c.ID)
		}
		slices.Sort(out)
		return out
	}
	findings := func(r doctorReport) []string {
		var out []string
		for _, f := range r.Report.Findings {
			// The agent and the wss set-up are about this data folder and
			// process, not about modules and certificates.
			if !strings.HasPrefix(f.Code, "AGENT_") && !strings.HasPrefix(f.Code, "TLS_") {
				out = append(out, f.Code+" "+f.Title)
			}
		}
		return out
	}
	if !slices.Equal(modules(own), modules(agent)) || !slices.Equal(certs(own), certs(agent)) || !slices.Equal(findings(own), findings(agent)) {
		t.Errorf("the agent's facts differ from doctor's own scan of the same module:\nown   %q %q %q\nagent %q %q %q",
			modules(own), certs(own), findings(own), modules(agent), certs(agent), findings(agent))
	}

	// Modules named on the command line are examined by doctor itself,
	// and the report says the agent runs with its own.
	named, _ := doctorJSONOf(t, "--module", tokenEnv.SoftToken, "--no-known-modules")
	if named.Report.Source != "scan" || !named.Agent.Running || !named.Agent.Control {
		t.Errorf("--module with the agent running: %+v", named)
	}
}

// TestExtensionCannotSendControl: whatever a page or the extension sends
// through the native messaging host — a protocol message naming a control
// request, a bare control request, a control request inside an envelope —
// never reaches the control channel: the host dials only the native
// messaging socket, whose protocol knows no such method. The agent logs
// every control request it handles, and logs none until doctor asks.
func TestExtensionCannotSendControl(t *testing.T) {
	const site = "https://lk.example.ru"
	runtime, err := os.MkdirTemp("", "pn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(runtime) })
	t.Setenv("XDG_RUNTIME_DIR", runtime)
	data := t.TempDir()
	_, _, logs := startRun(t, []string{"PODPIS_DATA_DIR=" + data, "PODPIS_CONFIG=" + filepath.Join(data, "config.json")},
		"--headless", "--trust-origin", site, "--module", tokenEnv.SoftToken, "--no-known-modules", "--listen", "127.0.0.1:0")
	in, out, stop := nativeHost(t, runtime)
	defer stop()
	for i, frame := range []string{
		`{"origin":"` + site + `","message":{"id":1,"method":"status"}}`,
		`{"origin":"` + site + `","message":{"id":2,"method":"openSettings"}}`,
		`{"origin":"` + site + `","message":{"id":3,"method":"status","params":{"request":"status"}}}`,
		`{"origin":"` + site + `","message":{"request":"status"}}`,
		`{"request":"status"}`,
		`{"request":"openSettings"}`,
	} {
		if err := nativehost.WriteFrame(in, []byte(frame), nativehost.MaxFromBrowser); err != nil {
			t.Fatal(err)
		}
		b, err := nativehost.ReadFrame(out, nativehost.MaxToBrowser)
		var r nativeReply
		if err != nil || json.Unmarshal(b, &r) != nil {
			t.Fatalf("%d: %q %v", i, b, err)
		}
		code := wsapi.Code("")
		switch {
		case r.Error != nil:
			code = r.Error.Code
		case r.Message != nil && r.Message.Error != nil:
			code = r.Message.Error.Code
		}
		if code != wsapi.UnknownMethod && code != wsapi.BadRequest || strings.Contains(string(b), `"modules"`) || strings.Contains(string(b), `"pid"`) {
			t.Errorf("%s: answered %s", frame, b)
		}
	}
	if strings.Contains(logs.String(), "control request") {
		t.Fatalf("a message from the browser reached the control channel:\n%s", logs.String())
	}
	// The channel is there and logs what it handles: doctor gets the status.
	r, _ := doctorJSONOf(t, "--agent", silentAddr(t))
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "control request") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !r.Agent.Control || !strings.Contains(logs.String(), "request=status") {
		t.Fatalf("doctor over the control channel: %+v\n%s", r.Agent, logs.String())
	}
}
