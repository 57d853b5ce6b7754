package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/podpis/podpis/agent/wsapi"
)

// upload answers POST wsapi.UploadPath+id?offset=N: a stream's bytes as
// one body (docs/protocol.md «Uploads»), and the CORS preflight before
// it (XMLHttpRequest with upload progress always sends one). Only origins
// the agent serves get CORS headers; whether this origin owns the stream
// is the protocol's to say (wsapi.API.Upload), from the browser's Origin
// header — a request without one is no browser's and is refused.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" || !s.API.Serves(origin) {
		http.Error(w, "origin denied", http.StatusForbidden)
		return
	}
	if allowCORS(w, r, origin, http.MethodPost) {
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	id := strings.TrimPrefix(r.URL.Path, wsapi.UploadPath)
	var offset int64
	if v := r.URL.Query().Get("offset"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			uploadFailed(w, wsapi.ErrorOf(wsapi.ErrNoUpload), http.StatusBadRequest)
			return
		}
		offset = n
	}
	start := time.Now()
	// A body that stops arriving for a stream's idle time ends the upload
	// (the server has no read timeout: WebSockets live long).
	body := &idleReader{r: r.Body, rc: http.NewResponseController(w), idle: uploadIdle}
	res, err := s.API.Upload(origin, id, offset, body)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, wsapi.ErrNoUpload) {
			status = http.StatusNotFound
		}
		uploadFailed(w, wsapi.ErrorOf(err), status)
		s.Log.Info("upload", "origin", origin, "bytes", body.n, "ms", time.Since(start).Milliseconds(), "code", wsapi.ErrorOf(err).Code, "err", err.Error())
		return
	}
	s.Log.Info("upload", "origin", origin, "bytes", body.n, "ms", time.Since(start).Milliseconds(), "code", "OK")
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(res)
}

func uploadFailed(w http.ResponseWriter, e *wsapi.Error, status int) {
	w.Header().Set("Content-Type", "application/json")
	// The rest of the body is not read: the connection closes after the
	// answer.
	w.Header().Set("Connection", "close")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Error *wsapi.Error `json:"error"`
	}{e})
}

// uploadIdle is how long an upload's body may pause: a stream's idle time
// between chunks.
const uploadIdle = time.Minute

// idleReader reads a request body, giving each read idle more time.
type idleReader struct {
	r    io.Reader
	rc   *http.ResponseController
	idle time.Duration
	n    int64
}

func (b *idleReader) Read(p []byte) (int, error) {
	b.rc.SetReadDeadline(time.Now().Add(b.idle))
	k, err := b.r.Read(p)
	b.n += int64(k)
	return k, err
}
