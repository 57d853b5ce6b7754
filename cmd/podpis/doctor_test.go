package main

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type doctorModule struct {
	Path   string
	Loaded bool
	Slots  []struct {
		TokenPresent   bool
		GOSTMechanisms []string
	}
}

// TestDoctorCommand: the --json contract and the exit code. The soft token
// holds a usable certificate, but no agent runs: login cannot work, so the
// exit code is 1 and the report says to start podpis.
func TestDoctorCommand(t *testing.T) {
	data := t.TempDir()
	t.Setenv("PODPIS_DATA_DIR", data)
	t.Setenv("PODPIS_CONFIG", filepath.Join(data, "config.json"))
	t.Setenv("PODPIS_SYSTEM_CONFIG", "") // not the machine's /etc/podpis
	os.WriteFile(filepath.Join(data, "config.json"), []byte(`{"trustedOrigins":["https://lk.example.ru"]}`), 0o600)
	os.WriteFile(filepath.Join(data, "podpis.log"), []byte(
		"time=2026-11-23T10:00:00Z level=INFO msg=start\n"+
			"time=2026-11-23T10:01:00Z level=ERROR msg=sign code=PIN_INCORRECT\n"), 0o600)

	// --agent at a port nothing answers on and --no-known-modules keep the
	// machine out: another podpis on 24730 or an installed module must
	// not change the report.
	isolate := []string{"--agent", silentAddr(t), "--no-known-modules"}
	out, errOut, code := runCLI(t, append([]string{"doctor", "--json", "--module", tokenEnv.SoftToken}, isolate...)...)
	var r struct {
		Version string
		Ready   bool
		Agent   struct{ Running bool }
		Report  struct {
			OS           string
			Ready        bool
			Modules      []doctorModule
			Certificates []struct{ Identity struct{ CommonName string } }
			Findings     []struct{ Code, Severity, Title, Fix string }
		}
		TrustedOrigins []string
		RecentErrors   []string
	}
	if code != 1 || json.Unmarshal([]byte(out), &r) != nil {
		t.Fatalf("doctor --json: exit %d, want 1\n%s%s", code, out, errOut)
	}
	if r.Ready || r.Agent.Running || !r.Report.Ready || r.Report.OS == "" || r.Version != version {
		t.Errorf("ready %v, agent %v, report ready %v, os %q", r.Ready, r.Agent.Running, r.Report.Ready, r.Report.OS)
	}
	i := slices.IndexFunc(r.Report.Modules, func(m doctorModule) bool { return m.Path == tokenEnv.SoftToken })
	if len(r.Report.Modules) != 1 {
		t.Errorf("--no-known-modules: %d modules reported, want the one named", len(r.Report.Modules))
	}
	if i < 0 || !r.Report.Modules[i].Loaded || len(r.Report.Modules[i].Slots) == 0 ||
		!slices.Contains(r.Report.Modules[i].Slots[0].GOSTMechanisms, "CKM_GOSTR3410_WITH_GOSTR3411_12_256") {
		t.Errorf("soft token module: %+v", r.Report.Modules)
	}
	if !slices.ContainsFunc(r.Report.Certificates, func(c struct{ Identity struct{ CommonName string } }) bool {
		return c.Identity.CommonName == "Сидоров Сидор"
	}) {
		t.Errorf("certificates: %+v", r.Report.Certificates)
	}
	codes := map[string]bool{}
	for _, f := range r.Report.Findings {
		codes[f.Code] = true
	}
	if !codes["READY"] || !codes["AGENT_NOT_RUNNING"] {
		t.Errorf("findings: %+v", r.Report.Findings)
	}
	if !slices.Equal(r.TrustedOrigins, []string{"https://lk.example.ru"}) || len(r.RecentErrors) != 1 || !strings.Contains(r.RecentErrors[0], "PIN_INCORRECT") {
		t.Errorf("trusted %v, recent errors %v", r.TrustedOrigins, r.RecentErrors)
	}

	out, _, code = runCLI(t, append([]string{"doctor", "--module", tokenEnv.SoftToken}, isolate...)...)
	for _, want := range []string{"диагностика", "Сидоров Сидор", "podpis не запущен", "Что сделать: Запустите podpis", "Последние ошибки журнала", "невозможен"} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("text report (exit %d) lacks %q:\n%s", code, want, out)
		}
	}
}

// TestDoctorModuleFailsInit: a module that loads but fails C_Initialize
// (the soft token's .fail-init) is named with the reason, in a fresh
// process as a person would run it.
func TestDoctorModuleFailsInit(t *testing.T) {
	tokens := t.TempDir()
	os.WriteFile(filepath.Join(tokens, ".fail-init"), nil, 0o600)
	cmd := exec.Command(os.Args[0], "doctor", "--json", "--module", tokenEnv.SoftToken, "--no-known-modules", "--agent", silentAddr(t))
	cmd.Env = append(os.Environ(), "PODPIS_RUN_MAIN=1", "PODPIS_SOFTTOKEN_DIR="+tokens, "PODPIS_DATA_DIR="+t.TempDir(), "PODPIS_CONFIG="+filepath.Join(t.TempDir(), "config.json"), "PODPIS_SYSTEM_CONFIG=")
	out, _ := cmd.Output()
	var r struct {
		Report struct {
			Modules  []struct{ Path, Error string }
			Findings []struct{ Code, Cause string }
		}
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	found := false
	for _, f := range r.Report.Findings {
		found = found || f.Code == "MODULE_NOT_LOADABLE" && strings.Contains(f.Cause, "C_Initialize")
	}
	if !found || cmd.ProcessState.ExitCode() != 1 {
		t.Errorf("exit %d, findings %+v", cmd.ProcessState.ExitCode(), r.Report.Findings)
	}
}

// silentAddr is a loopback address that takes connections and closes them
// unanswered: no agent runs there, and nothing else can take the port
// while the test runs.
func silentAddr(t *testing.T) string {
	t.Helper()
	addr, err := silentListen(t.Cleanup)
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// silentListen starts such a listener and returns its address; atEnd (a
// test's Cleanup, a script's Defer) is handed the closing of it.
func silentListen(atEnd func(func())) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	atEnd(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return l.Addr().String(), nil
}
