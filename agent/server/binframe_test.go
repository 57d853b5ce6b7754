package server

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/wsapi"
	"github.com/podpis/podpis/crypto/streebog"
)

// binaryFrame builds a binary chunk (docs/protocol.md «Binary chunks»).
func binaryFrame(t *testing.T, version byte, stream string, off uint64, id uint32, data []byte) []byte {
	t.Helper()
	sid, err := hex.DecodeString(stream)
	if err != nil || len(sid) != 12 {
		t.Fatalf("stream id %q", stream)
	}
	f := make([]byte, wsapi.BinaryHeader, wsapi.BinaryHeader+len(data))
	f[0] = version
	copy(f[1:13], sid)
	binary.BigEndian.PutUint64(f[13:21], off)
	binary.BigEndian.PutUint32(f[21:25], id)
	return append(f, data...)
}

// sendBinary writes a binary message and reads the JSON answer.
func (c *client) sendBinary(msg []byte) wsapi.Response {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.BinaryMessage, msg); err != nil {
		c.t.Fatal(err)
	}
	var r struct {
		ID     json.RawMessage
		Result json.RawMessage
		Error  *wsapi.Error
	}
	c.ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	if err := c.ws.ReadJSON(&r); err != nil {
		c.t.Fatalf("no answer to a binary message: %v", err)
	}
	return wsapi.Response{ID: r.ID, Result: r.Result, Error: r.Error}
}

// TestBinaryChunks: a document sent as binary chunks (mixed with JSON
// ones: the same stream) is hashed like streamChunk's and signed over
// exactly its bytes; each chunk is acknowledged in JSON with the id of
// its header.
func TestBinaryChunks(t *testing.T) {
	p := &counting{}
	h := start(t, agent.Config{Prompter: p})
	c := connect(t, h, site, false)
	doc := make([]byte, 2*wsapi.ChunkSize+1000)
	for i := range doc {
		doc[i] = byte(i * 13)
	}
	size := int64(len(doc))
	id := result[wsapi.StreamBeginResult](t, c.call("streamBegin", wsapi.StreamBeginParams{Name: "отчёт.bin", Size: &size})).Stream
	for i, off := range []int{0, wsapi.ChunkSize, 2 * wsapi.ChunkSize} {
		part := doc[off:min(off+wsapi.ChunkSize, len(doc))]
		var r wsapi.Response
		if i == 1 {
			r = c.call("streamChunk", wsapi.StreamChunkParams{Stream: id, Offset: int64(off), Data: base64.StdEncoding.EncodeToString(part)})
		} else {
			r = c.sendBinary(binaryFrame(t, wsapi.BinaryVersion, id, uint64(off), uint32(4000+i), part))
			if string(r.ID) != fmt.Sprint(4000+i) {
				t.Fatalf("acknowledgement id %s, want %d", r.ID, 4000+i)
			}
		}
		if got := result[wsapi.StreamChunkResult](t, r); got.Received != int64(off+len(part)) {
			t.Fatalf("received %d after %d", got.Received, off+len(part))
		}
	}
	cmsOf(t, c.call("sign", wsapi.SignParams{Certificate: certID, Stream: id}))
	if len(p.shown) != 1 || p.shown[0].Streebog != fmt.Sprintf("%x", streebog.Sum256(doc)) {
		t.Fatalf("shown %+v, want the digest of the document", p.shown)
	}
}

// TestBinaryChunkRefusals attacks the binary chunk: a bad header, another
// version, a JSON request sent as binary, a stream of no one or of another
// connection, a wrong offset, a chunk over ChunkSize, a message over the
// frame — each gets its protocol error (with the header's id when there
// is a whole header), never a dropped connection, and none reaches a
// signature: the stream is signed over exactly the bytes accepted.
func TestBinaryChunkRefusals(t *testing.T) {
	p := &counting{}
	h := start(t, agent.Config{Prompter: p})
	c := connect(t, h, site, false)
	other := connect(t, h, site, false)
	size := int64(10)
	begin := func(c *client) string {
		return result[wsapi.StreamBeginResult](t, c.call("streamBegin", wsapi.StreamBeginParams{Size: &size})).Stream
	}
	id := begin(c)
	big := result[wsapi.StreamBeginResult](t, c.call("streamBegin", wsapi.StreamBeginParams{})).Stream
	theirs := begin(other)
	good := binaryFrame(t, wsapi.BinaryVersion, id, 0, 7, []byte("01234"))
	for _, tc := range []struct {
		name   string
		msg    []byte
		code   wsapi.Code
		withID bool
	}{
		{"empty", nil, wsapi.BadRequest, false},
		{"short header", good[:wsapi.BinaryHeader-1], wsapi.BadRequest, false},
		{"another version", append([]byte{2}, good[1:]...), wsapi.BadRequest, false},
		{"a JSON request as binary", []byte(`{"id":1,"method":"info","params":{}}`), wsapi.BadRequest, false},
		{"unknown stream", binaryFrame(t, wsapi.BinaryVersion, "00112233445566778899aabb", 0, 7, []byte("0")), wsapi.BadRequest, true},
		{"another connection's stream", binaryFrame(t, wsapi.BinaryVersion, theirs, 0, 7, []byte("0")), wsapi.BadRequest, true},
		{"offset ahead", binaryFrame(t, wsapi.BinaryVersion, id, 1, 7, []byte("0")), wsapi.BadRequest, true},
		{"offset past int64", binaryFrame(t, wsapi.BinaryVersion, id, 1<<63, 7, []byte("0")), wsapi.BadRequest, true},
		{"over the announced size", binaryFrame(t, wsapi.BinaryVersion, begin(c), 0, 7, make([]byte, 11)), wsapi.BadRequest, true},
		{"chunk over ChunkSize", binaryFrame(t, wsapi.BinaryVersion, big, 0, 7, make([]byte, wsapi.ChunkSize+1)), wsapi.TooLargeCode, true},
		{"message over the frame", binaryFrame(t, wsapi.BinaryVersion, big, 0, 7, make([]byte, 2<<20)), wsapi.TooLargeCode, true},
	} {
		r := c.sendBinary(tc.msg)
		if r.Error == nil || r.Error.Code != tc.code {
			t.Errorf("%s: %+v, want %s", tc.name, r.Error, tc.code)
		}
		if want := map[bool]string{true: "7", false: "null"}[tc.withID]; string(r.ID) != want {
			t.Errorf("%s: id %s, want %s", tc.name, r.ID, want)
		}
	}
	// The connection still serves, and the stream took only good bytes:
	// a repeated chunk is refused, the rest completes it.
	if got := result[wsapi.StreamChunkResult](t, c.sendBinary(good)); got.Received != 5 {
		t.Fatalf("received %d", got.Received)
	}
	if r := c.sendBinary(good); r.Error == nil || r.Error.Code != wsapi.BadRequest {
		t.Fatalf("a repeated chunk: %+v", r.Error)
	}
	result[wsapi.StreamChunkResult](t, c.sendBinary(binaryFrame(t, wsapi.BinaryVersion, id, 5, 8, []byte("56789"))))
	cmsOf(t, c.call("sign", wsapi.SignParams{Certificate: certID, Stream: id}))
	if len(p.shown) != 1 || p.shown[0].Streebog != fmt.Sprintf("%x", streebog.Sum256([]byte("0123456789"))) {
		t.Fatalf("shown %+v", p.shown)
	}
	// The other connection's stream was not touched.
	if got := result[wsapi.StreamChunkResult](t, other.sendBinary(binaryFrame(t, wsapi.BinaryVersion, theirs, 0, 9, []byte("x")))); got.Received != 1 {
		t.Fatalf("their stream: received %d", got.Received)
	}
}
