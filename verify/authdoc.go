package verify

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

// AuthFormat names version 2 of the authentication document: the one
// signed under OIDLogin. Version 1 was signed as plain data (id-data), so a
// document signature of the same bytes passed for a login; it is refused.
const AuthFormat = "podpis-auth:2"

// OIDLogin is id-podpis-login, 2.25.37206362184723365910724984244601700857
// (the OID of UUID 1bfdaf48-d92d-4761-ad2c-7a8eb1d541f9, ITU-T X.667): the
// CMS content type of a login, and of nothing else. The agent signs the
// authentication document under it, with signed attributes that repeat it;
// VerifyLogin accepts no other type and VerifySignature refuses this one, so
// no document signature is ever a login and no login a document signature.
var OIDLogin = func() x509.OID {
	oid, err := x509.ParseOID("2.25.37206362184723365910724984244601700857")
	if err != nil {
		panic(err)
	}
	return oid
}()

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

// authFormatPrefix is what every version of the document's format starts
// with.
const authFormatPrefix = "podpis-auth"

// IsLoginDocument reports whether data looks like an authentication
// document of any version, however encoded: a JSON object (after a byte
// order mark and white space; UTF-8, or UTF-16 with a mark) with a member
// whose name is "format" in any case and whose string value starts with
// "podpis-auth" in any case, wherever it stands and whatever follows the
// object. A signer of documents refuses such data: a verifier other than
// ours, or an old one that took plain data for a login, must never be
// handed a login made by signing a "document".
func IsLoginDocument(data []byte) bool {
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
		if len(format) >= len(authFormatPrefix) &&
			strings.EqualFold(format[:len(authFormatPrefix)], authFormatPrefix) {
			return true
		}
	}
	return false
}

// decodeText strips a byte order mark and turns UTF-16 into UTF-8, so that
// IsLoginDocument sees the text a lenient JSON reader would.
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
