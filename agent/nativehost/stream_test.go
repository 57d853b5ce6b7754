//go:build linux

package nativehost

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/podpis/podpis/agent/wsapi"
	"github.com/podpis/podpis/crypto/cms"
)

// TestHostStream (issue 24): a 3 MB document goes through the extension's
// channel in 512 KiB chunks (each its own native message, under the
// browser's 1 MiB) and is signed detached; the CMS verifies over the
// document; a chunk over ChunkSize gets TOO_LARGE and the channel goes on.
func TestHostStream(t *testing.T) {
	defer env.ResetPIN()
	path, _ := startAgent(t, &prompter{})
	b := startHost(t, hostFor(path))
	doc := make([]byte, 3<<20+5)
	for i := range doc {
		doc[i] = byte(i*13 + i>>9)
	}
	id := 1
	r := b.call(site, id, "streamBegin", map[string]any{"name": "doc.bin", "size": len(doc)})
	var begin wsapi.StreamBeginResult
	if r.Message.Error != nil || json.Unmarshal(r.result, &begin) != nil {
		t.Fatalf("streamBegin: %+v", r.Message.Error)
	}
	id++
	if r := b.call(site, id, "streamChunk", map[string]any{"stream": begin.Stream, "offset": 0,
		"data": base64.StdEncoding.EncodeToString(make([]byte, wsapi.ChunkSize+1))}); r.Message.Error == nil || r.Message.Error.Code != wsapi.TooLargeCode {
		t.Fatalf("an oversize chunk: %+v", r.Message.Error)
	}
	for off := 0; off < len(doc); off += wsapi.ChunkSize {
		id++
		part := doc[off:min(off+wsapi.ChunkSize, len(doc))]
		if r := b.call(site, id, "streamChunk", map[string]any{"stream": begin.Stream, "offset": off, "data": base64.StdEncoding.EncodeToString(part)}); r.Message.Error != nil {
			t.Fatalf("chunk at %d: %+v", off, r.Message.Error)
		}
	}
	id++
	r = b.call(site, id, "sign", wsapi.SignParams{Certificate: certID, Stream: begin.Stream})
	var res wsapi.SignResult
	if r.Message.Error != nil || json.Unmarshal(r.result, &res) != nil {
		t.Fatalf("sign: %+v", r.Message.Error)
	}
	der, _ := base64.StdEncoding.DecodeString(res.CMS)
	sd, err := cms.Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := sd.Signers[0].FindCertificate(sd.Certificates)
	if err := sd.VerifySigner(sd.Signers[0], signer, doc); err != nil {
		t.Fatalf("the CMS over the streamed document: %v", err)
	}
}
