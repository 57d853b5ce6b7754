package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// AuthFormat names version 1 of the authentication document.
const AuthFormat = "podpis-auth:1"

// AuthDocument is what the agent signs to log a person in: the site's
// origin as the browser reported it in the WebSocket handshake (never what
// the page claims), the server's challenge and the agent's clock. It is
// exchanged as canonical JSON: these four members in this order, no
// whitespace, no HTML escaping.
type AuthDocument struct {
	Format    string `json:"format"`
	Origin    string `json:"origin"`
	Challenge string `json:"challenge"`
	Time      string `json:"time"` // RFC 3339, UTC, whole seconds
}

// NewAuthDocument returns the document for origin and challenge at t.
func NewAuthDocument(origin, challenge string, t time.Time) AuthDocument {
	return AuthDocument{Format: AuthFormat, Origin: origin, Challenge: challenge, Time: t.UTC().Format(time.RFC3339)}
}

// Marshal returns the canonical encoding.
func (d AuthDocument) Marshal() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(d) // a struct of strings always encodes
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

const maxAuthDocument = 4096

// ParseAuthDocument parses the canonical encoding; anything else, however
// equivalent as JSON, is refused so that one document has one signature.
func ParseAuthDocument(b []byte) (AuthDocument, time.Time, error) {
	var d AuthDocument
	if len(b) > maxAuthDocument {
		return d, time.Time{}, errors.New("authentication document too large")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return d, time.Time{}, fmt.Errorf("authentication document: %w", err)
	}
	if d.Format != AuthFormat {
		return d, time.Time{}, fmt.Errorf("authentication document format %q", d.Format)
	}
	if !bytes.Equal(d.Marshal(), b) {
		return d, time.Time{}, errors.New("authentication document is not in canonical form")
	}
	t, err := time.Parse(time.RFC3339, d.Time)
	if err != nil {
		return d, time.Time{}, fmt.Errorf("authentication document time: %w", err)
	}
	return d, t, nil
}
