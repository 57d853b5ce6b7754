package wsapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"sync"
	"time"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/cades"
	"github.com/podpis/podpis/crypto/streebog"
)

// Streams: a document of any size reaches the agent in chunks of at most
// ChunkSize bytes (each a request that fits a frame), hashed as they
// arrive and never held: a stream is a hash state and a few counters.
// The page waits for each chunk's answer (or keeps a few in flight): the
// agent reads a connection's messages one after another, so a page that
// sends faster than the agent hashes is held back by the connection
// itself. A connection holds at most MaxStreams streams, each dropped
// after StreamIdle without a chunk, and a stream is consumed by the
// request that signs it: a page cannot pile up state in the agent.

// ChunkSize is the largest chunk, decoded: its base64 and the request
// around it stay well under the 1 MiB frame.
const ChunkSize = 512 << 10

// ErrTooLarge: a message, a chunk or a reply over the protocol's limits.
var ErrTooLarge = errors.New("wsapi: over the size limit")

type stream struct {
	// mu is held while a chunk is hashed: a request that signs the
	// stream (in its own goroutine) waits for the chunk, and a chunk that
	// comes after it finds the stream done.
	mu   sync.Mutex
	done bool
	// broken: an upload into it failed half-way; a request that took
	// the stream while the body arrived must not sign the part.
	broken bool
	// uploading (under the connection's mu): a body arrives; a chunk
	// meanwhile is BUSY rather than held up in the read loop.
	uploading bool
	name      string
	size      int64 // declared, -1 when not
	got       int64
	digest    string
	h         hash.Hash
	idle      *time.Timer
}

func newStreamHash(name string) (hash.Hash, bool) {
	switch name {
	case "", "streebog256":
		return streebog.New256(), true
	case "streebog512":
		return streebog.New512(), true
	}
	return nil, false
}

// streamMethod answers streamBegin, streamChunk and streamAbort at once:
// they need no agent, only a hash (ok false for any other method).
func (c *Conn) streamMethod(req Request) (Response, bool) {
	var res any
	var err error
	switch req.Method {
	case "streamBegin":
		res, err = c.streamBegin(req.Params)
	case "streamChunk":
		res, err = c.streamChunk(req.Params)
	case "streamAbort":
		var p StreamAbortParams
		if err = decode(req.Params, &p); err == nil {
			_, ok := c.takeStream(p.Stream)
			res = CancelResult{Cancelled: ok}
		}
	default:
		return Response{}, false
	}
	if err != nil {
		return Response{ID: req.ID, Error: ErrorOf(err)}, true
	}
	return Response{ID: req.ID, Result: res}, true
}

func (c *Conn) streamBegin(params json.RawMessage) (any, error) {
	var p StreamBeginParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	h, ok := newStreamHash(p.Digest)
	if !ok || len([]rune(p.Name)) > agent.MaxName || p.Size != nil && *p.Size < 0 {
		return nil, agent.ErrBadRequest
	}
	s := &stream{name: p.Name, size: -1, digest: p.Digest, h: h}
	if p.Size != nil {
		s.size = *p.Size
	}
	var b [12]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, context.Canceled
	}
	if len(c.streams) >= c.limits.MaxStreams {
		return nil, agent.ErrBusy
	}
	s.idle = time.AfterFunc(c.limits.StreamIdle, func() { c.takeStream(id) })
	c.streams[id] = s
	res := StreamBeginResult{Stream: id, ChunkSize: ChunkSize}
	if c.limits.Uploads {
		c.api.addUpload(id, c)
		res.Upload = UploadPath + id
	}
	return res, nil
}

// fastChunk reads a streamChunk message written exactly as podpis.js
// writes it — {"id":N,"method":"streamChunk","params":{"stream":"…",
// "offset":N,"data":"…"}} with no white space — in one pass, decoding the
// base64 straight from the message: the general path goes over a chunk's
// 700 KB five times (validation, the request, the params, unquoting,
// base64) and was most of the agent's time per chunk. Anything else —
// another order, escapes, spaces — is left to the general path (ok
// false), which gives the same answer.
func (c *Conn) fastChunk(msg []byte) (Response, bool) {
	rest, ok := bytes.CutPrefix(msg, []byte(`{"id":`))
	if !ok {
		return Response{}, false
	}
	i := bytes.IndexByte(rest, ',')
	if i < 1 || i > 20 {
		return Response{}, false
	}
	id := rest[:i]
	if !jsonUint(id) {
		return Response{}, false
	}
	if rest, ok = bytes.CutPrefix(rest[i:], []byte(`,"method":"streamChunk","params":{"stream":"`)); !ok {
		return Response{}, false
	}
	i = bytes.IndexByte(rest, '"')
	if i < 0 || i > 64 {
		return Response{}, false
	}
	stream := string(rest[:i])
	for _, ch := range []byte(stream) {
		if ch < 0x20 || ch >= 0x7f || ch == '\\' {
			return Response{}, false // escapes, control bytes, UTF-8: the general path
		}
	}
	if rest, ok = bytes.CutPrefix(rest[i:], []byte(`","offset":`)); !ok {
		return Response{}, false
	}
	i = bytes.IndexByte(rest, ',')
	if i < 1 || i > 18 {
		return Response{}, false
	}
	if !jsonUint(rest[:i]) {
		return Response{}, false
	}
	var off int64
	for _, ch := range rest[:i] {
		off = off*10 + int64(ch-'0')
	}
	if rest, ok = bytes.CutPrefix(rest[i:], []byte(`,"data":"`)); !ok {
		return Response{}, false
	}
	b64, ok := bytes.CutSuffix(rest, []byte(`"}}`))
	if !ok {
		return Response{}, false
	}
	// Only the base64 alphabet: the decoder would skip a raw line break
	// that JSON refuses. A table, OR-ed over the chunk: one branch for
	// 700 KB of random letters, not one a letter (mispredicted, those
	// made the agent three times slower).
	var bad byte
	for _, ch := range b64 {
		bad |= notBase64[ch]
	}
	if bad != 0 {
		return Response{}, false
	}
	rid := json.RawMessage(append([]byte{}, id...))
	res, err := c.chunk(stream, off, b64)
	if err != nil {
		return Response{ID: rid, Error: ErrorOf(err)}, true
	}
	return Response{ID: rid, Result: res}, true
}

// notBase64 is 1 for every byte outside the standard base64 alphabet.
var notBase64 = func() (t [256]byte) {
	for i := range t {
		t[i] = 1
	}
	for _, ch := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") {
		t[ch] = 0
	}
	return t
}()

// jsonUint: digits as JSON writes a number (no leading zero but "0").
func jsonUint(b []byte) bool {
	if len(b) == 0 || len(b) > 1 && b[0] == '0' {
		return false
	}
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return false
		}
	}
	return true
}

func (c *Conn) streamChunk(params json.RawMessage) (any, error) {
	var p StreamChunkParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	return c.chunk(p.Stream, p.Offset, []byte(p.Data))
}

// chunk hashes one chunk, b64 its base64, into the stream.
func (c *Conn) chunk(id string, offset int64, b64 []byte) (any, error) {
	if base64.StdEncoding.DecodedLen(len(b64)) > ChunkSize+2 {
		return nil, fmt.Errorf("%w: a chunk over %d bytes", ErrTooLarge, ChunkSize)
	}
	data := make([]byte, base64.StdEncoding.DecodedLen(len(b64)))
	n, err := base64.StdEncoding.Decode(data, b64)
	if err != nil {
		return nil, agent.ErrBadRequest
	}
	return c.hashChunk(id, offset, data[:n])
}

// hashChunk hashes one chunk's bytes into the stream: the checks every
// encoding of a chunk (JSON, binary frame) goes through.
func (c *Conn) hashChunk(id string, offset int64, data []byte) (any, error) {
	p := StreamChunkParams{Stream: id, Offset: offset}
	if len(data) > ChunkSize {
		return nil, fmt.Errorf("%w: a chunk over %d bytes", ErrTooLarge, ChunkSize)
	}
	c.mu.Lock()
	s, ok := c.streams[p.Stream]
	busy := ok && s.uploading
	if ok && !busy && s.idle.Stop() {
		// The idle clock stops while the chunk is hashed and starts
		// again after it.
		defer c.rearm(p.Stream, s)
	}
	c.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: no such stream", agent.ErrBadRequest)
	}
	if busy {
		return nil, fmt.Errorf("%w: the stream's body is arriving", agent.ErrBusy)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case p.Offset != s.got:
		// A lost or repeated chunk would sign another document than
		// the page holds.
		return nil, fmt.Errorf("%w: chunk at %d, %d received", agent.ErrBadRequest, p.Offset, s.got)
	case s.done:
		return nil, fmt.Errorf("%w: stream already signed", agent.ErrBadRequest)
	case s.size >= 0 && s.got+int64(len(data)) > s.size:
		c.takeStream(p.Stream)
		return nil, fmt.Errorf("%w: more than the %d bytes announced", agent.ErrBadRequest, s.size)
	}
	s.h.Write(data)
	s.got += int64(len(data))
	return StreamChunkResult{Received: s.got}, nil
}

// rearm starts a stream's idle clock again, unless the stream is gone
// meanwhile (signed, aborted, its connection closed).
func (c *Conn) rearm(id string, s *stream) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.streams[id] == s {
		s.idle.Reset(c.limits.StreamIdle)
	}
}

// takeStream removes a stream: consumed, aborted or idle too long.
func (c *Conn) takeStream(id string) (*stream, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.streams[id]
	if ok {
		s.idle.Stop()
		delete(c.streams, id)
		c.api.dropUpload(id)
	}
	return s, ok
}

// finished takes a stream for signing: it must be there and complete.
func (c *Conn) finished(id string) (agent.Document, error) {
	s, ok := c.takeStream(id)
	if !ok {
		return agent.Document{}, fmt.Errorf("%w: no such stream", agent.ErrBadRequest)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = true
	if s.broken {
		return agent.Document{}, fmt.Errorf("%w: stream broken off", agent.ErrBadRequest)
	}
	if s.size >= 0 && s.got != s.size {
		return agent.Document{}, fmt.Errorf("%w: stream ended at %d of %d bytes", agent.ErrBadRequest, s.got, s.size)
	}
	if s.got == 0 {
		return agent.Document{}, fmt.Errorf("%w: empty stream", agent.ErrBadRequest)
	}
	return agent.Document{Name: s.name, Size: s.got, Digest: s.h.Sum(nil)}, nil
}

// Streams is how many streams the connection holds (for tests and logs).
func (c *Conn) Streams() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.streams)
}

// connMethods need the connection: its streams.
var connMethods = map[string]func(*Conn) handler{
	"sign":      func(c *Conn) handler { return c.sign },
	"signHash":  func(c *Conn) handler { return c.signHash },
	"signBatch": func(c *Conn) handler { return c.signBatch },
	"cosign":    func(c *Conn) handler { return c.cosign },
}

// sign is the sign method: inline data (sign above), or a stream
// signed detached over its digest.
func (c *Conn) sign(ctx context.Context, a *agent.Agent, origin string, params json.RawMessage) (any, error) {
	var p SignParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	lt, err := planLongTerm(a, origin, p)
	if err != nil {
		return nil, err
	}
	if p.Stream == "" {
		// The reply must fit a frame: an attached signature repeats the
		// document, a third bigger in base64.
		if !p.Detached && base64.StdEncoding.DecodedLen(len(p.Data)) > MaxAttached {
			return nil, fmt.Errorf("%w: attached signatures of at most %d bytes; stream the document", ErrTooLarge, MaxAttached)
		}
		res, err := sign(ctx, a, origin, params)
		if err != nil || lt.level == cades.BES {
			return res, err
		}
		der, _ := base64.StdEncoding.DecodeString(res.(SignResult).CMS)
		if der, err = lt.extend(ctx, der); err != nil {
			return nil, err
		}
		return SignResult{CMS: base64.StdEncoding.EncodeToString(der)}, nil
	}
	if p.Data != "" || len([]rune(p.Description)) > MaxDescription {
		return nil, agent.ErrBadRequest
	}
	doc, err := c.finished(p.Stream)
	if err != nil {
		return nil, err
	}
	res, err := a.SignDigests(ctx, origin, agent.DigestSignRequest{Certificate: p.Certificate, Description: p.Description, Documents: []agent.Document{doc}})
	if err != nil {
		return nil, err
	}
	if res[0].Err != nil {
		return nil, res[0].Err
	}
	der, err := lt.extend(ctx, res[0].CMS)
	if err != nil {
		return nil, err
	}
	return SignResult{CMS: base64.StdEncoding.EncodeToString(der)}, nil
}

// MaxAttached bounds the document of an attached sign: its reply (the
// document again, in base64, with the certificates) stays under 1 MiB.
const MaxAttached = 512 << 10

func parseHash(s string) ([]byte, error) {
	if b, err := hex.DecodeString(s); err == nil && len(b) > 0 {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) > 0 {
		return b, nil
	}
	return nil, fmt.Errorf("%w: hash must be hex or base64", agent.ErrBadRequest)
}

func (c *Conn) signHash(ctx context.Context, a *agent.Agent, origin string, params json.RawMessage) (any, error) {
	var p SignHashParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	if len([]rune(p.Description)) > MaxDescription || len([]rune(p.Name)) > agent.MaxName {
		return nil, agent.ErrBadRequest
	}
	d, err := parseHash(p.Hash)
	if err != nil {
		return nil, err
	}
	res, err := a.SignDigests(ctx, origin, agent.DigestSignRequest{Certificate: p.Certificate, Description: p.Description,
		Documents: []agent.Document{{Name: p.Name, Size: -1, Digest: d}}, HashOnly: true})
	if err != nil {
		return nil, err
	}
	if res[0].Err != nil {
		return nil, res[0].Err
	}
	return SignResult{CMS: base64.StdEncoding.EncodeToString(res[0].CMS)}, nil
}

func (c *Conn) signBatch(ctx context.Context, a *agent.Agent, origin string, params json.RawMessage) (any, error) {
	var p SignBatchParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	if len(p.Documents) == 0 || len(p.Documents) > agent.MaxBatch || len([]rune(p.Description)) > MaxDescription {
		return nil, agent.ErrBadRequest
	}
	docs := make([]agent.Document, len(p.Documents))
	hashOnly := false
	var bad error
	for i, d := range p.Documents {
		switch {
		case (d.Stream == "") == (d.Hash == ""), len([]rune(d.Name)) > agent.MaxName:
			bad = agent.ErrBadRequest
		case d.Stream != "":
			doc, err := c.finished(d.Stream)
			if err != nil {
				bad = err
			}
			if d.Name != "" {
				doc.Name = d.Name
			}
			docs[i] = doc
		default:
			h, err := parseHash(d.Hash)
			if err != nil {
				bad = err
			}
			docs[i] = agent.Document{Name: d.Name, Size: -1, Digest: h}
			hashOnly = true
		}
	}
	if bad != nil {
		// Every stream named was consumed all the same: a page does not
		// get to keep them by sending a bad batch.
		return nil, bad
	}
	res, err := a.SignDigests(ctx, origin, agent.DigestSignRequest{Certificate: p.Certificate, Description: p.Description, Documents: docs, HashOnly: hashOnly})
	if err != nil {
		return nil, err
	}
	out := SignBatchResult{Results: make([]BatchResult, len(res))}
	for i, r := range res {
		if r.Err != nil {
			out.Results[i].Error = ErrorOf(r.Err)
		} else {
			out.Results[i].CMS = base64.StdEncoding.EncodeToString(r.CMS)
		}
	}
	return out, nil
}

func (c *Conn) cosign(ctx context.Context, a *agent.Agent, origin string, params json.RawMessage) (any, error) {
	var p CosignParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	if len([]rune(p.Description)) > MaxDescription {
		return nil, agent.ErrBadRequest
	}
	der, err := base64.StdEncoding.DecodeString(p.CMS)
	if err != nil || len(der) == 0 {
		return nil, agent.ErrBadRequest
	}
	req := agent.CoSignRequest{Certificate: p.Certificate, Description: p.Description, CMS: der}
	if p.Stream != "" {
		doc, err := c.finished(p.Stream)
		if err != nil {
			return nil, err
		}
		req.Document = &doc
	}
	out, err := a.CoSign(ctx, origin, req)
	if err != nil {
		return nil, err
	}
	return SignResult{CMS: base64.StdEncoding.EncodeToString(out)}, nil
}
