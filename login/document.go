package login

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Format names version 2 of the login document: the one signed under OID.
// Version 1 was signed as plain data (id-data), so a document signature of
// the same bytes passed for a login; it is refused.
const Format = "podpis-auth:2"

// OID is id-podpis-login, 2.25.37206362184723365910724984244601700857
// (the OID of UUID 1bfdaf48-d92d-4761-ad2c-7a8eb1d541f9, ITU-T X.667): the
// CMS content type of a login, and of nothing else. The agent signs the
// login document under it, with signed attributes that repeat it; verify's
// VerifyLogin accepts no other type and its VerifySignature refuses this
// one, so no document signature is ever a login and no login a document
// signature.
var OID = func() x509.OID {
	oid, err := x509.ParseOID("2.25.37206362184723365910724984244601700857")
	if err != nil {
		panic(err)
	}
	return oid
}()

// Document is what the agent signs to log a person in: the site's origin
// as the browser reported it in the WebSocket handshake (never what the
// page claims), normalised (NormalizeOrigin), the server's challenge and
// the agent's clock. It is exchanged as canonical JSON: these four members
// in this order, no whitespace, no HTML escaping.
type Document struct {
	Format    string `json:"format"`
	Origin    string `json:"origin"`
	Challenge string `json:"challenge"`
	Time      string `json:"time"` // RFC 3339, UTC, whole seconds
}

// NewDocument returns the document for origin and challenge at t.
func NewDocument(origin, challenge string, t time.Time) Document {
	return Document{Format: Format, Origin: origin, Challenge: challenge, Time: t.UTC().Format(time.RFC3339)}
}

// Marshal returns the canonical encoding.
func (d Document) Marshal() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(d) // a struct of strings always encodes
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

const maxDocument = 4096

// ErrDocument is wrapped by every error of ParseDocument.
var ErrDocument = errors.New("login: not a login document")

// ParseDocument parses the canonical encoding; anything else, however
// equivalent as JSON, is refused so that one document has one signature.
// It returns the document and its time.
func ParseDocument(b []byte) (Document, time.Time, error) {
	var d Document
	if len(b) > maxDocument {
		return d, time.Time{}, fmt.Errorf("%w: larger than %d bytes", ErrDocument, maxDocument)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return d, time.Time{}, fmt.Errorf("%w: %w", ErrDocument, err)
	}
	if d.Format != Format {
		return d, time.Time{}, fmt.Errorf("%w: format %q", ErrDocument, d.Format)
	}
	if !bytes.Equal(d.Marshal(), b) {
		return d, time.Time{}, fmt.Errorf("%w: not in canonical form", ErrDocument)
	}
	t, err := time.Parse(time.RFC3339, d.Time)
	if err != nil {
		return d, time.Time{}, fmt.Errorf("%w: time: %w", ErrDocument, err)
	}
	return d, t, nil
}

// formatPrefix is what every version of the document's format starts
// with.
const formatPrefix = "podpis-auth"

// IsDocument reports whether data looks like a login document of any
// version, however encoded: a JSON object (after a byte
// order mark and white space; UTF-8, or UTF-16 with a mark) with a member
// whose name is "format" in any case and whose string value starts with
// "podpis-auth" in any case, wherever it stands and whatever follows the
// object. A signer of documents refuses such data: a verifier other than
// ours, or an old one that took plain data for a login, must never be
// handed a login made by signing a "document".
func IsDocument(data []byte) bool {
	data = decodeText(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		name, _ := t.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return false
		}
		if !strings.EqualFold(name, "format") {
			continue
		}
		var format string
		json.Unmarshal(value, &format)
		format = strings.TrimSpace(format)
		if len(format) >= len(formatPrefix) &&
			strings.EqualFold(format[:len(formatPrefix)], formatPrefix) {
			return true
		}
	}
	return false
}

// decodeText strips a byte order mark and turns UTF-16 into UTF-8, so that
// IsDocument sees the text a lenient JSON reader would.
func decodeText(b []byte) []byte {
	switch {
	case bytes.HasPrefix(b, []byte{0xef, 0xbb, 0xbf}):
		return b[3:]
	case len(b) >= 2 && (b[0] == 0xff && b[1] == 0xfe || b[0] == 0xfe && b[1] == 0xff):
		little := b[0] == 0xff
		b = b[2:]
		u := make([]uint16, len(b)/2)
		for i := range u {
			if little {
				u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
			} else {
				u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
			}
		}
		var out []byte
		for _, r := range utf16.Decode(u) {
			out = utf8.AppendRune(out, r)
		}
		return out
	}
	return b
}
