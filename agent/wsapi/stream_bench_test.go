package wsapi

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/podpis/podpis/agent"
)

// BenchmarkStreamChunk: what the agent spends on one 512 KiB chunk, from
// the JSON message to the hash (the read loop's share of a streamed
// document).
func BenchmarkStreamChunk(b *testing.B) {
	api := New(agent.New(agent.Config{}))
	c := api.NewConn("https://lk.example.ru", Limits{})
	defer c.Close()
	_, r := c.Receive([]byte(`{"id":1,"method":"streamBegin"}`))
	id := r.Result.(StreamBeginResult).Stream
	// Random bytes: the base64 of zeros ("AAAA…") hides per-letter
	// branches that random documents pay for.
	raw := make([]byte, ChunkSize)
	rand.Read(raw)
	data := base64.StdEncoding.EncodeToString(raw)
	b.SetBytes(ChunkSize)
	off := 0
	for b.Loop() {
		msg := []byte(`{"id":2,"method":"streamChunk","params":{"stream":"` + id + `","offset":` + fmt.Sprint(off) + `,"data":"` + data + `"}}`)
		off += ChunkSize
		if _, r := c.Receive(msg); r.Error != nil {
			b.Fatal(r.Error)
		}
	}
}
