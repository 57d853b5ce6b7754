package main

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/agent/config"
	"github.com/podpis/podpis/agent/settings"
	"github.com/podpis/podpis/internal/instance"
	"github.com/podpis/podpis/ui/uiproto"
)

// TestSettingsHelp: podpis settings -h is Russian help on stdout, with
// the exit codes, and exits 0.
func TestSettingsHelp(t *testing.T) {
	for _, args := range [][]string{{"settings", "-h"}, {"settings", "--help"}, {"help", "settings"}} {
		out, errOut, code := runCLI(t, args...)
		if code != 0 || errOut != "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
		for _, want := range []string{"podpis settings — открыть окно настроек", "--module ПУТЬ", "--no-known-modules", "Коды выхода:", "3  podpis уже запущен"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: no %q in\n%s", args, want, out)
			}
		}
	}
	if _, _, code := runCLI(t, "settings", "extra"); code != 2 {
		t.Errorf("settings extra: exit %d", code)
	}
}

// TestSettingsAgentRunning: with this person's agent running, podpis
// settings does not open a window of its own over the agent's
// configuration (a revoke there would be undone by the agent's next
// save): it says to use the icon and exits 3.
func TestSettingsAgentRunning(t *testing.T) {
	data := t.TempDir()
	t.Setenv("PODPIS_DATA_DIR", data)
	ui := filepath.Join(t.TempDir(), "started")
	t.Setenv("PODPIS_UI", fakeUI(t, ui, ""))
	held, err := instance.Acquire(data)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	_, errOut, code := runCLI(t, "settings")
	if code != exitAgentRunning || !strings.Contains(errOut, "«Настройки…»") || !strings.HasPrefix(errOut, "podpis: ") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(ui + ".1"); err == nil {
		t.Error("a window of its own was opened beside the running agent")
	}
}

// fakeUI writes a stand-in for podpis-ui: it saves each snapshot it gets
// to record.N and answers the first with action (if any).
func fakeUI(t *testing.T, record, action string) string {
	t.Helper()
	prog := filepath.Join(t.TempDir(), "podpis-ui")
	script := "#!/bin/sh\n[ \"$1\" = settings ] || exit 2\nIFS= read -r s\nprintf '%s\\n' \"$s\" > '" + record + ".1'\n"
	if action != "" {
		script += "printf '%s\\n' '" + action + "'\nIFS= read -r s\nprintf '%s\\n' \"$s\" > '" + record + ".2'\n"
	}
	if err := os.WriteFile(prog, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return prog
}

func readSnapshot(t *testing.T, path string) *uiproto.Settings {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("the window got no snapshot: %v", err)
	}
	defer f.Close()
	s, err := uiproto.ReadSettings(bufio.NewReader(f))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

// TestSettingsWithoutAgent: with no agent, podpis settings shows the
// certificates of the modules and the user's allowed sites, and a revoke
// from the window is saved to the user's file.
func TestSettingsWithoutAgent(t *testing.T) {
	t.Setenv("PODPIS_DATA_DIR", t.TempDir())
	t.Setenv("PODPIS_SYSTEM_CONFIG", "")
	conf := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(conf, []byte(`{"allowedOrigins":["https://lk.example.ru","https://b.example.ru"]}`), 0o600)
	t.Setenv("PODPIS_CONFIG", conf)
	record := filepath.Join(t.TempDir(), "snapshot")
	t.Setenv("PODPIS_UI", fakeUI(t, record, `{"action":"revoke","origin":"https://b.example.ru"}`))
	_, errOut, code := runCLI(t, "settings", "--module", tokenEnv.SoftToken, "--no-known-modules")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	first := readSnapshot(t, record+".1")
	if len(first.Certificates) != 1 || first.Certificates[0].Owner != "Сидоров Сидор" || first.Certificates[0].Thumbprint != tokenCertID ||
		first.Certificates[0].SNILS != "12345678901" || len(first.Certificates[0].DER) == 0 {
		t.Errorf("certificates: %+v", first.Certificates)
	}
	if len(first.Allowed) != 2 || first.Version != version || !strings.Contains(first.Report, "диагностика") || !strings.Contains(first.Report, "Сидоров Сидор") {
		t.Errorf("first snapshot: allowed %v, version %q, report:\n%s", first.Allowed, first.Version, first.Report)
	}
	if second := readSnapshot(t, record+".2"); len(second.Allowed) != 1 || second.Allowed[0] != "https://lk.example.ru" {
		t.Errorf("after the revoke the window shows %v", second.Allowed)
	}
	if b, _ := os.ReadFile(conf); strings.Contains(string(b), "b.example.ru") || !strings.Contains(string(b), "lk.example.ru") {
		t.Errorf("config after the revoke: %s", b)
	}
}

// TestSettingsAgentStartedMeanwhile: an agent that starts while the
// stand-alone window is open owns the configuration from then on; a
// revoke in the stand-alone window is refused rather than written behind
// the agent's back (its next save would undo it).
func TestSettingsAgentStartedMeanwhile(t *testing.T) {
	data := t.TempDir()
	t.Setenv("PODPIS_DATA_DIR", data)
	path := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(path, []byte(`{"allowedOrigins":["https://lk.example.ru"]}`), 0o600)
	conf, err := config.Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	src := &settingsSource{conf: conf, standalone: true}
	held, err := instance.Acquire(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Revoke(context.Background(), "https://lk.example.ru"); !errors.Is(err, settings.ErrAgentRunning) {
		t.Errorf("revoke with an agent running: %v", err)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), "lk.example.ru") {
		t.Errorf("the file was changed behind the agent: %s", b)
	}
	held.Release()
	if err := src.Revoke(context.Background(), "https://lk.example.ru"); err != nil || conf.Allowed("https://lk.example.ru") {
		t.Errorf("revoke with no agent: %v", err)
	}
}

// TestSettingsOpensInAgent: with an agent running, podpis settings asks
// it over the control channel, and the window is the agent's own (a
// snapshot of the certificates it serves); a headless agent has no window
// to show, and podpis settings then says so and leaves its config alone.
func TestSettingsOpensInAgent(t *testing.T) {
	ownAgentFolders(t)
	record := filepath.Join(t.TempDir(), "snapshot")
	// Not podpis settings' own window: the agent's, started by the agent.
	t.Setenv("PODPIS_UI", fakeUI(t, record+"-own", ""))
	agentUI := fakeUI(t, record, "")
	_, _, logs := startRun(t, []string{"PODPIS_UI=" + agentUI, "DISPLAY=:99", "PODPIS_NO_TRAY=1"},
		"--no-known-modules", "--module", tokenEnv.SoftToken, "--listen", "127.0.0.1:0")
	out, errOut, code := runCLI(t, "settings")
	if code != 0 || !strings.Contains(out, "запущенный podpis") {
		t.Fatalf("exit %d, stdout %q, stderr %q\n%s", code, out, errOut, logs.String())
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(record + ".1"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agent opened no window\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if snap := readSnapshot(t, record+".1"); len(snap.Certificates) == 0 {
		t.Errorf("the agent's window shows none of its certificates: %+v", snap)
	}
	if _, err := os.Stat(record + "-own.1"); err == nil {
		t.Error("podpis settings opened a window of its own beside the agent's")
	}
}

func TestSettingsHeadlessAgent(t *testing.T) {
	ownAgentFolders(t)
	record := filepath.Join(t.TempDir(), "snapshot")
	t.Setenv("PODPIS_UI", fakeUI(t, record, ""))
	startRun(t, []string{"PODPIS_PIN=1234"}, "--headless", "--no-known-modules", "--module", tokenEnv.SoftToken, "--listen", "127.0.0.1:0")
	_, errOut, code := runCLI(t, "settings")
	if code != exitAgentRunning || !strings.Contains(errOut, "«Настройки…»") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(record + ".1"); err == nil {
		t.Error("a window was opened beside the headless agent")
	}
}
