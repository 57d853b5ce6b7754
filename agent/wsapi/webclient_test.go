package wsapi

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// clientCodes reads podpis.js's MESSAGES: code → message, in order.
func clientMessages(t *testing.T, js string) (codes []string, msgs map[string]string) {
	t.Helper()
	start := strings.Index(js, "export const MESSAGES = {")
	if start < 0 {
		t.Fatal("podpis.js: no MESSAGES")
	}
	body := js[start+len("export const MESSAGES = {"):]
	body = body[:strings.Index(body, "\n};")]
	// KEY: "text" [+ "text"]... , with comments between entries.
	entry := regexp.MustCompile(`(?s)([A-Z][A-Z_]*):\s*((?:"[^"\\]*"\s*\+?\s*)+),`)
	msgs = map[string]string{}
	rest := regexp.MustCompile(`(?m)^\s*//.*$`).ReplaceAllString(body, "")
	for _, m := range entry.FindAllStringSubmatch(rest, -1) {
		var text string
		for _, part := range regexp.MustCompile(`"[^"\\]*"`).FindAllString(m[2], -1) {
			s, err := strconv.Unquote(part)
			if err != nil {
				t.Fatal(err)
			}
			text += s
		}
		codes = append(codes, m[1])
		msgs[m[1]] = text
	}
	if strings.TrimSpace(entry.ReplaceAllString(rest, "")) != "" {
		t.Fatalf("podpis.js: MESSAGES holds what this test cannot read: %q", entry.ReplaceAllString(rest, ""))
	}
	return codes, msgs
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func names(cs []Code) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}

// TestClientMessages: podpis.js knows exactly the protocol's codes, with
// the agent's very messages (a page shows the same words whether the agent
// sent them or the client fell back on its table), and the client's own
// codes besides.
func TestClientMessages(t *testing.T) {
	codes, msgs := clientMessages(t, read(t, "../../webclient/podpis.js"))
	if len(codes) < len(Codes) || !slices.Equal(codes[:len(Codes)], names(Codes)) {
		t.Fatalf("podpis.js MESSAGES starts with %v, want the protocol's codes %v", codes, Codes)
	}
	for _, c := range Codes {
		if msgs[string(c)] != c.Message() {
			t.Errorf("podpis.js: %s is %q, the agent says %q", c, msgs[string(c)], c.Message())
		}
	}
	for _, c := range codes[len(Codes):] {
		if c == "TIMEOUT" || slices.Contains(names(Codes), c) {
			t.Errorf("podpis.js: %s twice", c)
		}
		if msgs[c] == "" {
			t.Errorf("podpis.js: %s has no message", c)
		}
	}
}

// TestDeclaredCodes: podpis.d.ts's ErrorCode is exactly the protocol's
// codes, then exactly the client's own (those podpis.js has beyond them).
func TestDeclaredCodes(t *testing.T) {
	dts := read(t, "../../webclient/podpis.d.ts")
	start := strings.Index(dts, "export type ErrorCode =")
	if start < 0 {
		t.Fatal("podpis.d.ts: no ErrorCode")
	}
	decl := dts[start : start+strings.Index(dts[start:], ";")]
	server, client, ok := strings.Cut(decl, "// produced by the client")
	if !ok {
		t.Fatal("podpis.d.ts: ErrorCode does not mark the client's codes")
	}
	quoted := func(s string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`"([A-Z_]+)"`).FindAllStringSubmatch(s, -1) {
			out = append(out, m[1])
		}
		return out
	}
	if got := quoted(server); !slices.Equal(got, names(Codes)) {
		t.Errorf("podpis.d.ts protocol codes %v, want %v", got, Codes)
	}
	codes, _ := clientMessages(t, read(t, "../../webclient/podpis.js"))
	own := slices.DeleteFunc(codes, func(c string) bool { return slices.Contains(names(Codes), c) })
	if got, want := quoted(client), own; !slices.Equal(got, want) {
		t.Errorf("podpis.d.ts client codes %v, podpis.js has %v", got, want)
	}
}

// TestDemoCodes: the demo page keeps no message table of its own for the
// agent's or the client's codes (it shows the message the error carries),
// and every code it looks for exists.
func TestDemoCodes(t *testing.T) {
	js := read(t, "../../webclient/demo/app.js")
	agentCodes, _ := clientMessages(t, read(t, "../../webclient/podpis.js"))
	// The page also logs in through the site's account service, whose
	// codes and words come from its own table (account/errors.go).
	codes := slices.Clone(agentCodes)
	for _, m := range regexp.MustCompile(`def\("([A-Z][A-Z_]*)"`).FindAllStringSubmatch(read(t, "../../account/errors.go"), -1) {
		codes = append(codes, m[1])
	}
	for _, m := range regexp.MustCompile(`(?m)^\s*"?([A-Z][A-Z_]*)"?\s*:`).FindAllStringSubmatch(js, -1) {
		if slices.Contains(agentCodes, m[1]) {
			t.Errorf("demo/app.js has its own message for %s", m[1])
		}
	}
	// Quoted upper-case words are codes the page compares with err.code
	// (HTTP methods aside).
	used := 0
	for _, m := range regexp.MustCompile(`"([A-Z][A-Z_]*)"`).FindAllStringSubmatch(js, -1) {
		if m[1] == "POST" || m[1] == "GET" {
			continue
		}
		used++
		if !slices.Contains(codes, m[1]) {
			t.Errorf("demo/app.js looks for %s, which neither the agent, podpis.js nor the account service produces", m[1])
		}
	}
	if used == 0 {
		t.Error("demo/app.js: no codes found; has the page changed shape?")
	}
}

// TestClientNotices: podpis.js's NOTICES are exactly the agent's notices,
// with the agent's texts, and docs/protocol.md names each.
func TestClientNotices(t *testing.T) {
	js := read(t, "../../webclient/podpis.js")
	start := strings.Index(js, "export const NOTICES = {")
	if start < 0 {
		t.Fatal("podpis.js: no NOTICES")
	}
	body := js[start+len("export const NOTICES = {"):]
	body = body[:strings.Index(body, "\n};")]
	entry := regexp.MustCompile(`(?s)([A-Z][A-Z_]*):\s*((?:"[^"\\]*"\s*\+?\s*)+),`)
	got := map[string]string{}
	for _, m := range entry.FindAllStringSubmatch(body, -1) {
		for _, part := range regexp.MustCompile(`"[^"\\]*"`).FindAllString(m[2], -1) {
			s, _ := strconv.Unquote(part)
			got[m[1]] += s
		}
	}
	if len(got) != len(notices) {
		t.Errorf("podpis.js NOTICES %v, the agent has %d", got, len(notices))
	}
	doc := read(t, "../../docs/protocol.md")
	for _, n := range notices {
		if got[string(n.notice)] != n.ru {
			t.Errorf("podpis.js: notice %s is %q, the agent says %q", n.notice, got[string(n.notice)], n.ru)
		}
		if !strings.Contains(doc, "`"+string(n.notice)+"`") {
			t.Errorf("docs/protocol.md does not name the notice %s", n.notice)
		}
	}
}
