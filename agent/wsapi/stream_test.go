package wsapi

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/crypto/streebog"
)

// TestStreamBounds (issue 24): a page cannot make the agent hold more
// than MaxStreams streams per connection (more get BUSY), a stream left
// without chunks is dropped after StreamIdle, a closed connection drops
// its streams and opens none, and a thousand streams opened and dropped
// leave no goroutine or timer behind.
func TestStreamBounds(t *testing.T) {
	api := New(agent.New(agent.Config{}))
	c := api.NewConn("https://lk.example.ru", Limits{MaxStreams: 3, StreamIdle: 150 * time.Millisecond})
	code := func(r *Response) Code {
		if r == nil {
			t.Fatal("no response")
		}
		if r.Error == nil {
			return "OK"
		}
		return r.Error.Code
	}
	n := 0
	send := func(method, params string) *Response {
		n++
		_, r := c.Receive([]byte(fmt.Sprintf(`{"id":%d,"method":%q,"params":%s}`, n, method, params)))
		return r
	}
	var ids []string
	for range 3 {
		r := send("streamBegin", `{}`)
		if code(r) != "OK" {
			t.Fatalf("streamBegin: %+v", r.Error)
		}
		ids = append(ids, r.Result.(StreamBeginResult).Stream)
	}
	if r := send("streamBegin", `{}`); code(r) != Busy {
		t.Fatalf("a fourth stream: %s", code(r))
	}
	// One kept alive by its chunks, the others left idle.
	chunk := base64.StdEncoding.EncodeToString([]byte("abc"))
	for i := range 4 {
		time.Sleep(60 * time.Millisecond)
		if r := send("streamChunk", fmt.Sprintf(`{"stream":%q,"offset":%d,"data":%q}`, ids[0], 3*i, chunk)); code(r) != "OK" {
			t.Fatalf("chunk %d: %s", i, code(r))
		}
	}
	if got := c.Streams(); got != 1 {
		t.Fatalf("%d streams after idling, want the one kept alive", got)
	}
	if r := send("streamChunk", fmt.Sprintf(`{"stream":%q,"offset":0,"data":%q}`, ids[1], chunk)); code(r) != BadRequest {
		t.Fatalf("chunk to an idle stream: %s", code(r))
	}
	if r := send("streamAbort", fmt.Sprintf(`{"stream":%q}`, ids[0])); code(r) != "OK" || r.Result != (CancelResult{Cancelled: true}) || c.Streams() != 0 {
		t.Fatalf("abort: %+v, %d streams", r, c.Streams())
	}
	send("streamBegin", `{}`)
	c.Close()
	if c.Streams() != 0 {
		t.Fatalf("%d streams after Close", c.Streams())
	}
	if r := send("streamBegin", `{}`); code(r) == "OK" {
		t.Fatal("a stream opened on a closed connection")
	}

	before := runtime.NumGoroutine()
	c2 := api.NewConn("https://lk.example.ru", Limits{})
	for i := range 1000 {
		_, r := c2.Receive([]byte(`{"id":1,"method":"streamBegin","params":{"name":"` + strings.Repeat("я", i%255) + `"}}`))
		if r.Error != nil {
			t.Fatalf("stream %d: %+v", i, r.Error)
		}
		c2.Receive([]byte(fmt.Sprintf(`{"id":2,"method":"streamAbort","params":{"stream":%q}}`, r.Result.(StreamBeginResult).Stream)))
	}
	c2.Close()
	if after := runtime.NumGoroutine(); after > before+2 {
		t.Fatalf("goroutines %d → %d", before, after)
	}
}

// TestTooLargeKeepsID: the transport's answer to an over-limit frame
// carries the request's id when it leads the message, null otherwise.
func TestTooLargeKeepsID(t *testing.T) {
	for _, tc := range []struct{ prefix, id string }{
		{`{"id":7,"method":"sign","params":{"data":"AAAA`, "7"},
		{`{"id":"a-1","method":"sign"`, `"a-1"`},
		{`{"method":"sign","params":{"data":"AAAA`, "null"},
		{`{"id":{"x":1},"method"`, "null"},
		{`garbage`, "null"},
	} {
		r := TooLarge([]byte(tc.prefix))
		if string(r.ID) != tc.id || r.Error.Code != TooLargeCode {
			t.Errorf("%s: %s %+v", tc.prefix, r.ID, r.Error)
		}
	}
}

// TestChunkPaths: a chunk written as podpis.js writes it (the one-pass
// path) and written any other valid way (spaces, another order, an
// escaped stream id) hash the same bytes; a bad chunk is refused the same
// way by both.
func TestChunkPaths(t *testing.T) {
	api := New(agent.New(agent.Config{}))
	c := api.NewConn("https://lk.example.ru", Limits{})
	defer c.Close()
	_, r := c.Receive([]byte(`{"id":1,"method":"streamBegin"}`))
	id := r.Result.(StreamBeginResult).Stream
	parts := [][]byte{[]byte("первая часть;"), []byte("вторая/часть+"), []byte("третья"), []byte("четвёртая")}
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	escaped := `\u00` + fmt.Sprintf("%x", id[0]) + id[1:]
	var off int
	msgs := []string{
		`{"id":2,"method":"streamChunk","params":{"stream":"%s","offset":%d,"data":"%s"}}`,
		`{ "id": 3, "method": "streamChunk", "params": { "data": "%[3]s", "offset": %[2]d, "stream": "%[1]s" } }`,
		`{"id":4,"method":"streamChunk","params":{"stream":"` + escaped + `","offset":%[2]d,"data":"%[3]s"}}`,
		`{"id":"x","method":"streamChunk","params":{"stream":"%s","offset":%d,"data":"%s"}}`,
	}
	var all []byte
	for i, m := range msgs {
		msg := fmt.Sprintf(m, id, off, b64(parts[i]))
		if _, r := c.Receive([]byte(msg)); r == nil || r.Error != nil {
			t.Fatalf("%s: %+v", msg, r)
		}
		off += len(parts[i])
		all = append(all, parts[i]...)
	}
	for _, bad := range []string{
		`{"id":5,"method":"streamChunk","params":{"stream":"%s","offset":%d,"data":"@@@@"}}`,
		`{"id":5,"method":"streamChunk","params":{"stream":"%s","offset":0,"data":"%[3]s"}}`,
	} {
		msg := fmt.Sprintf(bad, id, off, b64([]byte("x")))
		_, fast := c.Receive([]byte(msg))
		_, slow := c.Receive([]byte(strings.Replace(msg, `"id":5,`, `"id": 5,`, 1)))
		if fast.Error == nil || slow.Error == nil || fast.Error.Code != slow.Error.Code {
			t.Errorf("%s: fast %+v, general %+v", msg, fast.Error, slow.Error)
		}
	}
	doc, err := c.finished(id)
	if err != nil {
		t.Fatal(err)
	}
	want := streebog.Sum256(all)
	if string(doc.Digest) != string(want[:]) || doc.Size != int64(len(all)) {
		t.Fatalf("digest %x of %d bytes, want %x of %d", doc.Digest, doc.Size, want, len(all))
	}
}

// TestChunkRacesSign: a page that sends a chunk right after the request
// that signs its stream (which runs in its own goroutine) gets either the
// chunk refused or the chunk in what is signed — never a digest of half
// a chunk (go test -race finds the data race this once was).
func TestChunkRacesSign(t *testing.T) {
	api := New(agent.New(agent.Config{}))
	c := api.NewConn("https://lk.example.ru", Limits{})
	defer c.Close()
	a, b := []byte(strings.Repeat("a", 1000)), []byte(strings.Repeat("b", 200_000))
	withA, withAB := streebog.Sum256(a), streebog.Sum256(append(append([]byte{}, a...), b...))
	for range 50 {
		_, r := c.Receive([]byte(`{"id":1,"method":"streamBegin"}`))
		id := r.Result.(StreamBeginResult).Stream
		c.Receive([]byte(fmt.Sprintf(`{"id":2,"method":"streamChunk","params":{"stream":%q,"offset":0,"data":%q}}`, id, base64.StdEncoding.EncodeToString(a))))
		got := make(chan agent.Document, 1)
		go func() {
			d, _ := c.finished(id)
			got <- d
		}()
		_, r = c.Receive([]byte(fmt.Sprintf(`{"id":3,"method":"streamChunk","params":{"stream":%q,"offset":%d,"data":%q}}`, id, len(a), base64.StdEncoding.EncodeToString(b))))
		d := <-got
		switch {
		case r.Error == nil && string(d.Digest) == string(withAB[:]):
		case r.Error != nil && string(d.Digest) == string(withA[:]):
		default:
			t.Fatalf("chunk answered %+v, signed digest %x", r.Error, d.Digest)
		}
	}
}

// FuzzChunkPaths: whatever the message, when the one-pass reader takes a
// streamChunk, the general JSON path (the same message with a space
// after its first brace, which the one-pass reader never takes) answers
// the same — the same code, or the same count received and digest.
func FuzzChunkPaths(f *testing.F) {
	f.Add([]byte(`{"id":1,"method":"streamChunk","params":{"stream":"s","offset":0,"data":"YWJj"}}`))
	f.Add([]byte(`{"id":1,"method":"streamChunk","params":{"stream":"s","offset":0,"data":"YWJ"}}`))
	f.Add([]byte(`{"id":12,"method":"streamChunk","params":{"stream":"s","offset":0,"data":"YW\nJj"}}`))
	f.Add([]byte(`{"id":1,"method":"streamChunk","params":{"stream":"t","offset":0,"data":""}}`))
	f.Add([]byte(`{"id":1,"method":"streamChunk","params":{"stream":"s","offset":00,"data":"YWJj"}}`))
	f.Add([]byte(`{"id":1,"method":"streamChunk","params":{"stream":"s","offset":0,"data":"YWJj"}}}`))
	api := New(agent.New(agent.Config{}))
	f.Fuzz(func(t *testing.T, msg []byte) {
		conns := [2]*Conn{api.NewConn("https://lk.example.ru", Limits{}), api.NewConn("https://lk.example.ru", Limits{})}
		for _, c := range conns {
			defer c.Close()
			c.streams["s"] = &stream{size: -1, h: streebog.New256(), idle: time.NewTimer(time.Hour)}
		}
		fast, ok := conns[0].fastChunk(msg)
		if !ok {
			return
		}
		general := append([]byte("{ "), msg[1:]...)
		if _, ok := conns[1].fastChunk(general); ok {
			t.Fatal("the one-pass reader took a message with a space")
		}
		_, slow := conns[1].Receive(general)
		if slow == nil {
			t.Fatalf("%q: no answer from the general path", msg)
		}
		code := func(r *Response) Code {
			if r.Error == nil {
				return "OK"
			}
			return r.Error.Code
		}
		if code(&fast) != code(slow) || string(fast.ID) != string(slow.ID) {
			t.Fatalf("%q: one-pass %s %s, general %s %s", msg, fast.ID, code(&fast), slow.ID, code(slow))
		}
		if fast.Error == nil && (fast.Result != slow.Result ||
			string(conns[0].streams["s"].h.Sum(nil)) != string(conns[1].streams["s"].h.Sum(nil))) {
			t.Fatalf("%q: one-pass %+v, general %+v", msg, fast.Result, slow.Result)
		}
	})
}

// TestUploadRegistry: only a connection of a transport with an upload path
// (Limits.Uploads: the WebSocket) names one; the native host's streams do
// not. Whatever ends a stream — signing, abort, idleness, the connection's
// close — ends its upload path too, and an upload to it finds nothing.
func TestUploadRegistry(t *testing.T) {
	api := New(agent.New(agent.Config{}))
	begin := func(c *Conn) StreamBeginResult {
		t.Helper()
		_, r := c.Receive([]byte(`{"id":1,"method":"streamBegin","params":{}}`))
		if r.Error != nil {
			t.Fatal(r.Error)
		}
		return r.Result.(StreamBeginResult)
	}
	native := api.NewConn("https://lk.example.ru", Limits{})
	if b := begin(native); b.Upload != "" || api.UploadsOpen() != 0 {
		t.Fatalf("a stream without an upload path names %q", b.Upload)
	}
	c := api.NewConn("https://lk.example.ru", Limits{Uploads: true, StreamIdle: 300 * time.Millisecond})
	idle, aborted := begin(c), begin(c)
	if idle.Upload != UploadPath+idle.Stream || api.UploadsOpen() != 2 {
		t.Fatalf("upload %q, %d open", idle.Upload, api.UploadsOpen())
	}
	c.Receive([]byte(fmt.Sprintf(`{"id":2,"method":"streamAbort","params":{"stream":%q}}`, aborted.Stream)))
	if _, err := api.Upload("https://lk.example.ru", aborted.Stream, 0, strings.NewReader("x")); !errors.Is(err, ErrNoUpload) {
		t.Fatalf("upload to an aborted stream: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	// An upload keeps its stream from idling out while it lasts.
	slow := io.MultiReader(strings.NewReader("ab"), &sleepy{d: 500 * time.Millisecond}, strings.NewReader("c"))
	if r, err := api.Upload("https://lk.example.ru", idle.Stream, 0, slow); err != nil || r.Received != 3 {
		t.Fatalf("a slow upload: %v %+v", err, r)
	}
	time.Sleep(700 * time.Millisecond)
	if _, err := api.Upload("https://lk.example.ru", idle.Stream, 3, strings.NewReader("x")); !errors.Is(err, ErrNoUpload) {
		t.Fatalf("upload to an idle stream: %v", err)
	}
	closed := begin(c)
	if api.UploadsOpen() != 1 {
		t.Fatalf("%d uploads open, want the last stream's", api.UploadsOpen())
	}
	c.Close()
	if _, err := api.Upload("https://lk.example.ru", closed.Stream, 0, strings.NewReader("x")); !errors.Is(err, ErrNoUpload) || api.UploadsOpen() != 0 {
		t.Fatalf("upload after close: %v, %d open", err, api.UploadsOpen())
	}
}

// sleepy is a body that pauses once, then ends.
type sleepy struct{ d time.Duration }

func (s *sleepy) Read([]byte) (int, error) {
	time.Sleep(s.d)
	return 0, io.EOF
}

// TestUploadBrokenWhileSigning: a page asks to sign a stream (of no
// announced size) while its upload still arrives; the body then breaks
// off. The request waited for the upload, and it must not sign the part
// that came.
func TestUploadBrokenWhileSigning(t *testing.T) {
	api := New(agent.New(agent.Config{}))
	c := api.NewConn("https://lk.example.ru", Limits{Uploads: true})
	_, r := c.Receive([]byte(`{"id":1,"method":"streamBegin","params":{}}`))
	id := r.Result.(StreamBeginResult).Stream
	release := make(chan struct{})
	uploaded := make(chan error, 1)
	go func() {
		_, err := api.Upload("https://lk.example.ru", id, 0, io.MultiReader(strings.NewReader("first half"), &blocked{release}))
		uploaded <- err
	}()
	for !c.streamBusy(id) {
		time.Sleep(time.Millisecond)
	}
	signed := make(chan error, 1)
	go func() {
		_, err := c.finished(id)
		signed <- err
	}()
	time.Sleep(50 * time.Millisecond)
	close(release)
	if err := <-uploaded; err == nil {
		t.Fatal("a broken body was taken")
	}
	if err := <-signed; !errors.Is(err, agent.ErrBadRequest) {
		t.Fatalf("the part of a broken upload was taken for signing: %v", err)
	}
}

// blocked is a body that waits, then breaks off.
type blocked struct{ release chan struct{} }

func (b *blocked) Read([]byte) (int, error) {
	<-b.release
	return 0, io.ErrUnexpectedEOF
}

// streamBusy: an upload or chunk holds the stream now.
func (c *Conn) streamBusy(id string) bool {
	c.mu.Lock()
	s := c.streams[id]
	c.mu.Unlock()
	if s == nil || !s.mu.TryLock() {
		return s != nil
	}
	s.mu.Unlock()
	return false
}

// TestUploadEndsWithItsStream: while a body arrives, a chunk for the same
// stream is BUSY at once (the connection's read loop is not held up), and
// an abort ends the upload at its next read instead of hashing the rest
// of the body into a stream nobody can sign.
func TestUploadEndsWithItsStream(t *testing.T) {
	api := New(agent.New(agent.Config{}))
	c := api.NewConn("https://lk.example.ru", Limits{Uploads: true})
	_, r := c.Receive([]byte(`{"id":1,"method":"streamBegin","params":{}}`))
	id := r.Result.(StreamBeginResult).Stream
	uploaded := make(chan error, 1)
	go func() {
		_, err := api.Upload("https://lk.example.ru", id, 0, &trickle{left: 200})
		uploaded <- err
	}()
	for !c.streamBusy(id) {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	_, r = c.Receive([]byte(fmt.Sprintf(`{"id":2,"method":"streamChunk","params":{"stream":%q,"offset":0,"data":"AAAA"}}`, id)))
	if r.Error == nil || r.Error.Code != Busy || time.Since(start) > time.Second {
		t.Fatalf("a chunk during an upload: %+v after %v", r.Error, time.Since(start))
	}
	c.Receive([]byte(fmt.Sprintf(`{"id":3,"method":"streamAbort","params":{"stream":%q}}`, id)))
	select {
	case err := <-uploaded:
		if err == nil {
			t.Fatal("the upload of an aborted stream was answered as taken")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the upload went on after its stream was aborted")
	}
}

// trickle is a body that sends a byte every 20 ms.
type trickle struct{ left int }

func (b *trickle) Read(p []byte) (int, error) {
	if b.left == 0 {
		return 0, io.EOF
	}
	time.Sleep(20 * time.Millisecond)
	b.left--
	p[0] = 'x'
	return 1, nil
}
