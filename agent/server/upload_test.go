package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/wsapi"
	"github.com/podpis/podpis/crypto/streebog"
	"github.com/podpis/podpis/internal/enginetest"
)

// post sends body to the agent's path with origin ("" for none) and
// returns the status and the JSON answer.
func (h *harness) post(t *testing.T, path, origin string, body io.Reader) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("POST", "http://"+h.addr+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	raw, _ := io.ReadAll(resp.Body)
	json.Unmarshal(raw, &v)
	if origin != "" && resp.StatusCode != http.StatusForbidden && resp.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Errorf("POST %s: no CORS for %s: %v", path, origin, resp.Header)
	}
	return resp.StatusCode, v
}

func errorCode(v map[string]any) string {
	e, _ := v["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// TestUploadSign: a document POSTed whole to the path streamBegin names
// is the stream's document — the person sees its name, size and digest,
// and OpenSSL's GOST engine checks the detached signature against it —
// exactly as if it had come in chunks; the stream may also be begun in
// chunks and finished by an upload from the bytes received.
func TestUploadSign(t *testing.T) {
	p := &counting{}
	h := start(t, agent.Config{Prompter: p})
	c := connect(t, h, site, false)
	doc := make([]byte, 5<<20+3)
	for i := range doc {
		doc[i] = byte(i*13 + i>>11)
	}
	size := int64(len(doc))
	b := result[wsapi.StreamBeginResult](t, c.call("streamBegin", wsapi.StreamBeginParams{Name: "отчёт.pdf", Size: &size}))
	if b.Upload != wsapi.UploadPath+b.Stream {
		t.Fatalf("streamBegin over the WebSocket: upload %q", b.Upload)
	}
	// The CORS preflight a page's XMLHttpRequest with upload progress sends.
	req, _ := http.NewRequest("OPTIONS", "http://"+h.addr+b.Upload, nil)
	req.Header.Set("Origin", site)
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != site ||
		resp.Header.Get("Access-Control-Allow-Methods") != "POST" {
		t.Fatalf("preflight: %v %+v", err, resp)
	}
	resp.Body.Close()
	status, v := h.post(t, b.Upload, site, bytes.NewReader(doc))
	if status != http.StatusOK || v["received"] != float64(len(doc)) {
		t.Fatalf("upload: %d %v", status, v)
	}
	der := cmsOf(t, c.call("sign", wsapi.SignParams{Certificate: certID, Stream: b.Stream, Description: "Отчёт"}))
	sum := streebog.Sum256(doc)
	if len(p.shown) != 1 || p.shown[0].Documents[0].Name != "отчёт.pdf" || p.shown[0].Documents[0].Size != size ||
		p.shown[0].Streebog != fmt.Sprintf("%x", sum) {
		t.Fatalf("shown %+v", p.shown)
	}
	if n := h.srv.API.UploadsOpen(); n != 0 {
		t.Errorf("%d uploads open after the stream was signed", n)
	}
	if status, v := h.post(t, b.Upload, site, strings.NewReader("more")); status != http.StatusNotFound || errorCode(v) != "BAD_REQUEST" {
		t.Errorf("an upload to a signed stream: %d %v", status, v)
	}

	// Chunks first, the rest uploaded from where they ended.
	b = result[wsapi.StreamBeginResult](t, c.call("streamBegin", wsapi.StreamBeginParams{Name: "отчёт.pdf", Size: &size}))
	c.call("streamChunk", wsapi.StreamChunkParams{Stream: b.Stream, Data: "AAAA"}) // 3 zero bytes: not doc's
	if status, v := h.post(t, b.Upload, site, bytes.NewReader(doc)); status != http.StatusBadRequest || errorCode(v) != "BAD_REQUEST" {
		t.Errorf("an upload from offset 0 after 3 bytes: %d %v", status, v)
	}
	b = result[wsapi.StreamBeginResult](t, c.call("streamBegin", wsapi.StreamBeginParams{Name: "отчёт.pdf", Size: &size}))
	result[wsapi.StreamChunkResult](t, c.call("streamChunk", wsapi.StreamChunkParams{Stream: b.Stream, Data: "AAAA"}))
	mixed := append([]byte{0, 0, 0}, doc[3:]...)
	if status, v := h.post(t, b.Upload+"?offset=3", site, bytes.NewReader(mixed[3:])); status != http.StatusOK || v["received"] != float64(len(doc)) {
		t.Fatalf("upload after a chunk: %d %v", status, v)
	}
	der = cmsOf(t, c.call("sign", wsapi.SignParams{Certificate: certID, Stream: b.Stream}))
	enginetest.Require(t)
	if err := engineAccepts(t, der, mixed); err != nil {
		t.Fatal(err)
	}
	if engineAccepts(t, der, doc) == nil {
		t.Fatal("the engine accepts the signature over another document")
	}
}

// TestUploadAttacks: what is not the page that opened the stream cannot
// feed it, and a body that is not the whole announced document never
// becomes one. Each refusal leaves nothing signable behind, and the person
// is never asked.
func TestUploadAttacks(t *testing.T) {
	p := &counting{}
	h := start(t, agent.Config{Prompter: p, Trusted: []agent.Rule{mustRule(t, "https://other.example")}})
	c := connect(t, h, site, false)
	begin := func(size int64) wsapi.StreamBeginResult {
		return result[wsapi.StreamBeginResult](t, c.call("streamBegin", wsapi.StreamBeginParams{Name: "a.pdf", Size: &size}))
	}
	untouched := func(what string, b wsapi.StreamBeginResult) {
		t.Helper()
		if r := c.call("streamChunk", wsapi.StreamChunkParams{Stream: b.Stream, Data: "AAAA"}); r.Error != nil {
			t.Errorf("%s: the stream is no longer at 0: %+v", what, r.Error)
		}
		c.call("streamAbort", wsapi.StreamAbortParams{Stream: b.Stream})
	}

	// Another site, served by the agent and holding the stream's id (a
	// leak, a guess), is told the same as for no stream at all.
	b := begin(10)
	if status, v := h.post(t, b.Upload, "https://other.example", strings.NewReader("0123456789")); status != http.StatusNotFound || errorCode(v) != "BAD_REQUEST" {
		t.Errorf("another origin: %d %v", status, v)
	}
	untouched("another origin", b)
	// Not a browser: no Origin at all. And an origin the agent does not serve.
	b = begin(10)
	for _, origin := range []string{"", "http://evil.example", "null"} {
		if status, _ := h.post(t, b.Upload, origin, strings.NewReader("0123456789")); status != http.StatusForbidden {
			t.Errorf("origin %q: %d", origin, status)
		}
	}
	untouched("no origin", b)
	// A guessed id, a malformed offset, another method.
	b = begin(10)
	if status, _ := h.post(t, wsapi.UploadPath+strings.Repeat("0", 24), site, strings.NewReader("x")); status != http.StatusNotFound {
		t.Errorf("a guessed stream: %d", status)
	}
	if status, _ := h.post(t, b.Upload+"?offset=-1", site, strings.NewReader("x")); status != http.StatusBadRequest {
		t.Errorf("offset -1: %d", status)
	}
	if resp, err := http.Get("http://" + h.addr + b.Upload); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET without an origin: %v %v", err, resp)
	}
	untouched("guesses", b)

	// More than announced: refused, and the stream is gone (its first
	// bytes are part of no document the page holds).
	b = begin(10)
	if status, v := h.post(t, b.Upload, site, strings.NewReader("0123456789+")); status != http.StatusBadRequest || errorCode(v) != "BAD_REQUEST" {
		t.Errorf("over the size: %d %v", status, v)
	}
	if r := c.call("sign", wsapi.SignParams{Certificate: certID, Stream: b.Stream}); r.Error == nil {
		t.Error("a stream run over its size was signed")
	}

	// A body broken off half-way: the stream is dropped, never signed
	// short (here no size was announced, so only the drop guards it).
	r := result[wsapi.StreamBeginResult](t, c.call("streamBegin", wsapi.StreamBeginParams{Name: "b.pdf"}))
	conn, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\nContent-Length: 1000000\r\n\r\n%s", r.Upload, h.addr, site, strings.Repeat("x", 5000))
	time.Sleep(200 * time.Millisecond)
	conn.Close()
	waitFor(t, "the broken upload's stream dropped", func() bool { return h.srv.API.UploadsOpen() == 0 })
	if r := c.call("sign", wsapi.SignParams{Certificate: certID, Stream: r.Stream}); r.Error == nil || r.Error.Code != wsapi.BadRequest {
		t.Errorf("a broken-off upload was signed: %+v", r.Error)
	}

	// The connection closed: its streams take no upload.
	c2 := connect(t, h, site, false)
	b = result[wsapi.StreamBeginResult](t, c2.call("streamBegin", wsapi.StreamBeginParams{Name: "c.pdf"}))
	c2.ws.Close()
	waitFor(t, "the closed connection's uploads dropped", func() bool { return h.srv.API.UploadsOpen() == 0 })
	if status, _ := h.post(t, b.Upload, site, strings.NewReader("x")); status != http.StatusNotFound {
		t.Errorf("an upload to a closed connection's stream: %d", status)
	}
	if len(p.shown) != 0 || p.pins != 0 {
		t.Errorf("the person was asked: %+v, %d PINs", p.shown, p.pins)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("%s: not within 5 s", what)
		}
	}
}
