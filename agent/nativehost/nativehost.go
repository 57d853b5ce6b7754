// Package nativehost carries the agent's protocol (agent/wsapi) over
// native messaging: a browser extension starts `podpis native-host`, which
// speaks the browsers' framing on stdin/stdout and forwards every message
// over a per-user local channel (a unix socket in the runtime folder, a
// named pipe on Windows) to the one running agent, which keeps the PIN
// cache and the token sessions. Each message travels in an envelope with
// the origin the browser reported for the page's tab or frame: the
// extension writes it from sender.origin, never from anything the page
// says. Like agent/server it is a transport: it decodes, checks and
// dispatches, and never signs, prompts or touches keys itself.
package nativehost

import (
	"encoding/json"

	"github.com/podpis/podpis/agent/wsapi"
)

// Name is the native messaging host's name in the browsers' manifests.
const Name = "ru.podpis.agent"

// Envelope is one message from the extension (and over the channel): a
// protocol request and the origin of the page that sent it.
type Envelope struct {
	Origin  string          `json:"origin"`
	Message json.RawMessage `json:"message"`
}

// Reply is one message to the extension: a protocol response for the page
// of Origin, or an Error of the transport itself (no agent, a message too
// large) with the request's ID when it could be read.
type Reply struct {
	Origin  string          `json:"origin,omitempty"`
	Message json.RawMessage `json:"message,omitempty"`
	Error   *wsapi.Error    `json:"error,omitempty"`
	ID      json.RawMessage `json:"id,omitempty"`
}

// The transport's own codes, in Reply.Error; the protocol's codes come
// in the message.
const (
	NotRunning  wsapi.Code = "NOT_RUNNING"
	TooLarge               = wsapi.TooLargeCode // its message is the protocol's
	BadEnvelope wsapi.Code = "BAD_REQUEST"
)

var transportMessages = map[wsapi.Code]string{
	NotRunning:  "podpis не запущен: запустите его и повторите",
	TooLarge:    wsapi.TooLargeCode.Message(),
	BadEnvelope: "Неверный запрос",
}

func transportError(origin string, id json.RawMessage, code wsapi.Code) []byte {
	m, ok := transportMessages[code]
	if !ok {
		m = code.Message()
	}
	b, _ := json.Marshal(Reply{Origin: origin, ID: id, Error: &wsapi.Error{Code: code, Message: m}})
	return b
}

// peek reads an envelope's origin and its message's id, for replying to
// it without the agent; either is empty when the envelope is not one.
func peek(env []byte) (origin string, id json.RawMessage) {
	var e struct {
		Origin  string `json:"origin"`
		Message struct {
			ID json.RawMessage `json:"id"`
		} `json:"message"`
	}
	json.Unmarshal(env, &e)
	if len(e.Message.ID) > 64 {
		e.Message.ID = nil
	}
	return e.Origin, e.Message.ID
}
