package wsapi

import (
	"errors"
	"fmt"
	"io"

	"github.com/podpis/podpis/agent"
)

// Uploads: a stream of a WebSocket connection may also take its bytes as
// the body of one HTTP POST to the agent's port (UploadPath + the stream's
// id). Chromium sends a Blob body from its own process at two to three
// times the speed of the same bytes in WebSocket messages (measured
// against servers that only count them), and as fast as the agent hashes:
// the WebSocket, not the agent, was what bounded a page's document.
//
// An upload is nothing but another encoding of the stream's chunks: the
// same offset, size and "already signed" checks, hashed as it arrives and
// never held. It is bound to the stream's connection by the stream's id —
// 96 random bits the page learnt over its WebSocket — and to its origin:
// the browser's Origin header must be the one of the WebSocket handshake,
// so another site that learnt the id cannot feed the stream. Only the
// WebSocket transport offers it (Limits.Uploads): the native host has no
// port.

// UploadPath is where a stream's bytes are POSTed: UploadPath + its id.
const UploadPath = "/v1/streams/"

// uploadBuffer is what one upload holds while it hashes: 256 connections
// uploading at once hold 16 MiB.
const uploadBuffer = 64 << 10

// ErrNoUpload: no stream of that id takes an upload from that origin. The
// same answer for both, so that another origin learns nothing.
var ErrNoUpload = fmt.Errorf("%w: no such stream", agent.ErrBadRequest)

func (api *API) addUpload(id string, c *Conn) {
	api.mu.Lock()
	defer api.mu.Unlock()
	if api.uploads == nil {
		api.uploads = map[string]*Conn{}
	}
	api.uploads[id] = c
}

func (api *API) dropUpload(id string) {
	api.mu.Lock()
	defer api.mu.Unlock()
	delete(api.uploads, id)
}

// Upload hashes body into the stream id from its byte offset (what the
// stream has received so far), for a request whose browser Origin is
// origin. A body that runs over the stream's announced size, breaks off or
// outlives the stream's connection drops the stream: a part of a document
// must never be signed as the document.
func (api *API) Upload(origin, id string, offset int64, body io.Reader) (StreamChunkResult, error) {
	api.mu.Lock()
	c := api.uploads[id]
	api.mu.Unlock()
	n, err := agent.NormalizeOrigin(origin)
	if c == nil || err != nil || n != c.origin {
		return StreamChunkResult{}, ErrNoUpload
	}
	c.mu.Lock()
	s, ok := c.streams[id]
	if ok && s.uploading {
		c.mu.Unlock()
		return StreamChunkResult{}, fmt.Errorf("%w: another body is arriving", agent.ErrBadRequest)
	}
	if ok {
		s.uploading = true
		if s.idle.Stop() {
			// No idle clock while the body arrives (the transport
			// bounds a silent body); it starts again after it.
			defer c.rearm(id, s)
		}
	}
	c.mu.Unlock()
	if !ok {
		return StreamChunkResult{}, ErrNoUpload
	}
	defer func() {
		c.mu.Lock()
		s.uploading = false
		c.mu.Unlock()
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.done:
		return StreamChunkResult{}, fmt.Errorf("%w: stream already signed", agent.ErrBadRequest)
	case offset != s.got:
		return StreamChunkResult{}, fmt.Errorf("%w: upload at %d, %d received", agent.ErrBadRequest, offset, s.got)
	}
	// A failed upload drops the stream, and marks it for a request that
	// took it meanwhile (and waits for this one to end).
	fail := func(err error) (StreamChunkResult, error) {
		s.broken = true
		c.takeStream(id)
		return StreamChunkResult{}, err
	}
	buf := make([]byte, uploadBuffer)
	for {
		if err := c.ctx.Err(); err != nil {
			return fail(err)
		}
		if !c.holds(id, s) {
			// Aborted, idle or taken by a request while the body
			// arrives: what came is no document to sign.
			return fail(fmt.Errorf("%w: stream ended during the upload", agent.ErrBadRequest))
		}
		k, err := body.Read(buf)
		if s.size >= 0 && s.got+int64(k) > s.size {
			return fail(fmt.Errorf("%w: more than the %d bytes announced", agent.ErrBadRequest, s.size))
		}
		s.h.Write(buf[:k])
		s.got += int64(k)
		if errors.Is(err, io.EOF) {
			return StreamChunkResult{Received: s.got}, nil
		}
		if err != nil {
			return fail(fmt.Errorf("%w: upload broken off at %d: %v", agent.ErrBadRequest, s.got, err))
		}
	}
}

// holds reports whether the stream id is still s, the connection's.
func (c *Conn) holds(id string, s *stream) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.streams[id] == s
}

// UploadsOpen is how many streams take uploads (for tests: none outlives
// its connection).
func (api *API) UploadsOpen() int {
	api.mu.Lock()
	defer api.mu.Unlock()
	return len(api.uploads)
}
