package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/podpis/podpis/internal/testdeps"
	"github.com/podpis/podpis/ui/uiproto"
)

// watcher is the desktop's side of StatusNotifierItem: the shell's tray
// host registers items; here the test plays it on a private session bus.
type watcher struct{ items chan string }

func (w *watcher) RegisterStatusNotifierItem(sender dbus.Sender, path string) *dbus.Error {
	w.items <- string(sender)
	return nil
}

type layout = struct {
	V0 int32
	V1 map[string]dbus.Variant
	V2 []dbus.Variant
}

// labels maps every visible item's label to its id.
func labels(l layout, into map[string]int32) {
	if v, ok := l.V1["visible"]; !ok || v.Value() == true {
		if lbl, ok := l.V1["label"]; ok {
			into[lbl.Value().(string)] = l.V0
		}
	}
	for _, c := range l.V2 {
		// A child arrives as a variant of the (ia{sv}av) struct.
		if f, ok := c.Value().([]any); ok && len(f) == 3 {
			id, _ := f[0].(int32)
			props, _ := f[1].(map[string]dbus.Variant)
			kids, _ := f[2].([]dbus.Variant)
			labels(layout{id, props, kids}, into)
		}
	}
}

// TestTray runs podpis with a desktop session as a tray host sees it over
// D-Bus: the icon registers, the menu shows the state and the soft token's
// certificate, «Диагностика» saves the doctor report and opens it, «Выход»
// ends the agent.
func TestTray(t *testing.T) {
	testdeps.Need(t, "dbus-daemon")
	bus := exec.Command("dbus-daemon", "--session", "--nofork", "--print-address=1")
	out, _ := bus.StdoutPipe()
	if err := bus.Start(); err != nil {
		t.Fatal(err)
	}
	defer bus.Process.Kill()
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	addr = strings.TrimSpace(addr)
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	w := &watcher{items: make(chan string, 1)}
	conn.Export(w, "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher")
	if r, err := conn.RequestName("org.kde.StatusNotifierWatcher", dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("watcher name: %v %v", r, err)
	}

	home, data := t.TempDir(), t.TempDir()
	opened := filepath.Join(data, "opened.txt")
	os.WriteFile(filepath.Join(data, "open.sh"), []byte("#!/bin/sh\necho \"$1\" >> '"+opened+"'\n"), 0o755)
	agent := exec.Command(os.Args[0], "run", "--no-known-modules", "--module", tokenEnv.SoftToken, "--listen", "127.0.0.1:0")
	agent.Env = append(os.Environ(), "PODPIS_RUN_MAIN=1", "DISPLAY=:77", "DBUS_SESSION_BUS_ADDRESS="+addr,
		"HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "PODPIS_DATA_DIR="+data,
		"PODPIS_CONFIG="+filepath.Join(data, "config.json"), "PODPIS_BROWSER="+filepath.Join(data, "open.sh"),
		"PODPIS_UI="+fakeUI(t, filepath.Join(data, "settings"), `{"action":"revoke","origin":"https://b.example.ru"}`))
	os.WriteFile(filepath.Join(data, "config.json"), []byte(`{"allowedOrigins":["https://lk.example.ru","https://b.example.ru"]}`), 0o600)
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	defer agent.Process.Kill()

	var item string
	select {
	case item = <-w.items:
	case <-time.After(20 * time.Second):
		t.Fatal("the tray icon did not register with the StatusNotifierWatcher")
	}
	menu := conn.Object(item, "/StatusNotifierItem/menu")
	read := func() map[string]int32 {
		var rev uint32
		var l layout
		if err := menu.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{}).Store(&rev, &l); err != nil {
			t.Fatal(err)
		}
		m := map[string]int32{}
		labels(l, m)
		return m
	}
	var items map[string]int32
	// The first refresh examines the token; the first GetLayout answers
	// one level deep only (for libdbusmenu's sake).
	for i := 0; i < 50; i++ {
		if items = read(); items["podpis работает"] != 0 && items["https://lk.example.ru — отозвать"] != 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	want := []string{"Настройки…", "podpis работает", "Сертификаты", "Разрешённые сайты", "https://lk.example.ru — отозвать",
		"Диагностика", "Журнал", "Перевыпустить сертификат", "Автозапуск", "Выход"}
	for _, l := range want {
		if items[l] == 0 {
			t.Errorf("menu lacks %q; it has %v", l, items)
		}
	}
	found := false
	for l := range items {
		found = found || strings.HasPrefix(l, "Сидоров Сидор — до ")
	}
	if !found {
		t.Errorf("the soft token's certificate is not in the menu: %v", items)
	}

	click := func(label string) {
		if err := menu.Call("com.canonical.dbusmenu.Event", 0, items[label], "clicked", dbus.MakeVariant(""), uint32(0)).Err; err != nil {
			t.Fatal(err)
		}
	}
	// «Настройки…» opens the agent's own settings window: a revoke there
	// changes the running agent's decisions (and its file).
	click("Настройки…")
	var settings *uiproto.Settings
	for i := 0; i < 100 && settings == nil; i++ {
		time.Sleep(100 * time.Millisecond)
		if b, err := os.ReadFile(filepath.Join(data, "settings.2")); err == nil && len(b) > 0 {
			settings = readSnapshot(t, filepath.Join(data, "settings.2"))
		}
	}
	if settings == nil || len(settings.Allowed) != 1 || settings.Allowed[0] != "https://lk.example.ru" {
		t.Errorf("the settings window after its revoke: %+v", settings)
	}
	if first := readSnapshot(t, filepath.Join(data, "settings.1")); len(first.Certificates) != 1 || first.Certificates[0].Owner != "Сидоров Сидор" ||
		!strings.Contains(first.Report, "Агент: запущен") {
		t.Errorf("the settings window's first snapshot: %+v", first)
	}
	if b, _ := os.ReadFile(filepath.Join(data, "config.json")); strings.Contains(string(b), "b.example.ru") {
		t.Errorf("the settings window's revoke was not saved: %s", b)
	}

	click("Диагностика")
	var report string
	for i := 0; i < 100 && report == ""; i++ {
		time.Sleep(100 * time.Millisecond)
		if b, err := os.ReadFile(opened); err == nil {
			report = strings.TrimSpace(string(b))
		}
	}
	if b, err := os.ReadFile(report); err != nil || !strings.Contains(string(b), "диагностика") || !strings.Contains(string(b), "Сидоров Сидор") {
		t.Errorf("diagnostics report %q: %v\n%s", report, err, b)
	}

	click("https://lk.example.ru — отозвать")
	for i := 0; i < 50; i++ {
		if b, _ := os.ReadFile(filepath.Join(data, "config.json")); !strings.Contains(string(b), "lk.example.ru") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if b, _ := os.ReadFile(filepath.Join(data, "config.json")); strings.Contains(string(b), "lk.example.ru") {
		t.Errorf("revoking left the site allowed: %s", b)
	}

	click("Выход")
	done := make(chan error, 1)
	go func() { done <- agent.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("agent after «Выход»: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("«Выход» did not end the agent")
	}
}
