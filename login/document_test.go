package login

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

const origin = "https://lk.example.ru"

var testT0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// TestIsDocument: every spelling of a login document a lenient
// reader would take is recognised; ordinary documents are not.
func TestIsDocument(t *testing.T) {
	canonical := string(NewDocument(origin, "c", testT0).Marshal())
	utf16le := func(s string) string {
		b := []byte{0xff, 0xfe}
		for _, r := range s { // ASCII only here
			b = append(b, byte(r), 0)
		}
		return string(b)
	}
	for _, c := range []struct {
		data string
		want bool
	}{
		{canonical, true},
		{`{"format":"podpis-auth:1","origin":"https://victim.example","challenge":"x","time":"2026-11-23T10:00:00Z"}`, true},
		{"\ufeff" + canonical, true},
		{" \n\t" + canonical + "\n", true},
		{`{ "origin" : "x", "format" : "podpis-auth:9" }`, true},
		{`{"FORMAT":"Podpis-Auth:1"}`, true},
		{`{"format":"podpis\u002dauth:1"}`, true},
		{`{"format":" podpis-auth:1"}`, true},
		{`{"format":"other","format":"podpis-auth:1"}`, true},
		{`{"nested":{"a":[1,2]},"format":"podpis-auth:1"}`, true},
		{canonical + "trailing garbage", true},
		{utf16le(canonical), true},
		{`{"format":"pdf"}`, false},
		{`{"title":"podpis-auth:1"}`, false},
		{`{"format":["podpis-auth:1"]}`, false},
		{`[{"format":"podpis-auth:1"}]`, false},
		{`"podpis-auth:1"`, false},
		{"Договор № 1: format podpis-auth", false},
		{"", false},
		{"{", false},
	} {
		if got := IsDocument([]byte(c.data)); got != c.want {
			t.Errorf("IsDocument(%q) = %v", c.data, got)
		}
	}
}

// FuzzDocument: parse never panics, what parses is canonical, and
// whatever parses as a login document (or is accepted by a reader as
// lenient as encoding/json) is one that sign refuses (IsDocument).
func FuzzDocument(f *testing.F) {
	f.Add(NewDocument(origin, "abc", testT0).Marshal())
	f.Add([]byte(`{"format":"podpis-auth:1","origin":"","challenge":"","time":""}`))
	f.Add([]byte(`{"Format":"podpis-auth:2"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, _, err := ParseDocument(b)
		if err == nil && string(d.Marshal()) != string(b) {
			t.Fatalf("accepted non-canonical %q", b)
		}
		if err == nil && !IsDocument(b) {
			t.Fatalf("a login document not recognised: %q", b)
		}
		var lenient Document
		if json.Unmarshal(b, &lenient) == nil && strings.HasPrefix(lenient.Format, "podpis-auth") && !IsDocument(b) {
			t.Fatalf("encoding/json reads a login document that IsDocument misses: %q", b)
		}
	})
}

// TestParseDocumentRefuses: one document, one encoding: every other
// spelling fails with ErrDocument, so one login has one signature.
func TestParseDocumentRefuses(t *testing.T) {
	canonical := string(NewDocument(origin, "c", testT0).Marshal())
	if d, at, err := ParseDocument([]byte(canonical)); err != nil || d.Origin != origin || !at.Equal(testT0) {
		t.Fatalf("canonical: %+v %v %v", d, at, err)
	}
	for _, b := range []string{
		" " + canonical,
		canonical + "\n",
		strings.Replace(canonical, `","`, `", "`, 1),
		`{"origin":"https://lk.example.ru","format":"podpis-auth:2","challenge":"c","time":"2026-11-23T10:00:00Z"}`,
		strings.Replace(canonical, Format, "podpis-auth:1", 1),
		strings.Replace(canonical, `"}`, `","extra":"x"}`, 1),
		strings.Replace(canonical, "2026-11-23T10:00:00Z", "yesterday", 1),
		`{"format":"podpis-auth:2","origin":"` + strings.Repeat("a", 5000) + `","challenge":"c","time":"2026-11-23T10:00:00Z"}`,
		"",
	} {
		if _, _, err := ParseDocument([]byte(b)); !errors.Is(err, ErrDocument) {
			t.Errorf("ParseDocument(%.60q): %v", b, err)
		}
	}
}
