package main

import (
	"encoding/json"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/podpis/podpis/internal/testwait"
)

// TestPromptWithNoOpener: podpis run on a machine with no desktop and no
// program that opens a page (xdg-open missing, PODPIS_BROWSER unset). The
// question is not lost in silence: the page that asked gets the notice
// PROMPT_NOT_SHOWN (never the address), the agent prints the file to
// open, in Russian, to stderr and its log, and the question behind it is
// served over plain http on 127.0.0.1 — no certificate for a browser to
// warn about — where the person answers it.
func TestPromptWithNoOpener(t *testing.T) {
	l, _ := net.Listen("tcp4", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	data, runtimeDir := t.TempDir(), t.TempDir()
	cmd, _, logs := startRun(t, []string{"PATH=" + t.TempDir(), "PODPIS_BROWSER=", "DISPLAY=", "WAYLAND_DISPLAY=",
		"XDG_RUNTIME_DIR=" + runtimeDir, "PODPIS_DATA_DIR=" + data, "PODPIS_CONFIG=" + filepath.Join(data, "config.json")},
		"--no-known-modules", "--module", tokenEnv.SoftToken, "--listen", addr)

	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", http.Header{"Origin": {"https://new.example"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.WriteJSON(map[string]any{"id": 7, "method": "certificates"})
	ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, raw, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("no notice: %v\n%s", err, logs)
	}
	var notice struct {
		ID     json.RawMessage `json:"id"`
		Notice struct {
			Request json.RawMessage `json:"request"`
			Code    string          `json:"code"`
			Message string          `json:"message"`
		} `json:"notice"`
	}
	json.Unmarshal(raw, &notice)
	if notice.ID != nil || string(notice.Notice.Request) != "7" || notice.Notice.Code != "PROMPT_NOT_SHOWN" ||
		!strings.Contains(notice.Notice.Message, "Откройте адрес, который podpis напечатал") {
		t.Fatalf("the page got %s, want the notice PROMPT_NOT_SHOWN for request 7", raw)
	}
	if strings.Contains(string(raw), "/prompt/") || strings.Contains(string(raw), "file:") {
		t.Fatalf("the notice leads the page to the question: %s", raw)
	}

	// The person reads the agent's log (and terminal) and opens the file.
	fileRE := regexp.MustCompile(`Откройте в браузере этого компьютера адрес (file://\S+)`)
	var file string
	testwait.Until(t, "the log tells the person the file to open", func() bool {
		b, _ := os.ReadFile(filepath.Join(data, "podpis.log"))
		if m := fileRE.FindSubmatch(b); m != nil && strings.Contains(string(b), `level=WARN msg="prompt not shown`) {
			file = string(m[1])
			return true
		}
		return false
	})
	u, _ := url.Parse(file)
	if !strings.HasPrefix(u.Path, filepath.Join(runtimeDir, "podpis")+"/") {
		t.Fatalf("told %s, not a file in the person's own runtime folder", file)
	}
	forward, err := os.ReadFile(u.Path)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`url=([^"]+)"`).FindSubmatch(forward)
	if m == nil {
		t.Fatalf("the file holds %q", forward)
	}
	question := html.UnescapeString(string(m[1]))
	if !strings.HasPrefix(question, "http://"+addr+"/prompt/") {
		t.Fatalf("the question is at %s, want plain http on the agent's loopback address", question)
	}
	jar, _ := cookiejar.New(nil)
	web := &http.Client{Jar: jar}
	resp, err := web.Get(question)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindSubmatch(page)
	if resp.StatusCode != 200 || csrf == nil || !strings.Contains(string(page), "new.example") {
		t.Fatalf("the question: %d %s", resp.StatusCode, page)
	}
	req, _ := http.NewRequest("POST", question, strings.NewReader(url.Values{"choice": {"deny"}, "csrf": {string(csrf[1])}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://"+addr)
	if resp, err := web.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("answer: %v %v", resp, err)
	}
	_, raw, err = ws.ReadMessage()
	if err != nil || !strings.Contains(string(raw), `"id":7`) || !strings.Contains(string(raw), "ORIGIN_DENIED") {
		t.Fatalf("after the person's answer: %s %v", raw, err)
	}

	cmd.Process.Kill()
	cmd.Wait()
	if !strings.Contains(logs.String(), "podpis: не удалось открыть окно запроса. Откройте в браузере этого компьютера адрес "+file) {
		t.Errorf("stderr does not tell the person the file:\n%s", logs)
	}
	if strings.Contains(logs.String(), "/prompt/") {
		t.Errorf("stderr shows the question's address:\n%s", logs)
	}
}
