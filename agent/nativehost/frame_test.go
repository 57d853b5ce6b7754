package nativehost

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/podpis/podpis/agent/wsapi"
)

func frame(n uint32, body []byte) []byte {
	b := binary.NativeEndian.AppendUint32(nil, n)
	return append(b, body...)
}

func TestFrameRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	msgs := [][]byte{[]byte(`{"a":1}`), []byte(`"` + strings.Repeat("я", 1000) + `"`), bytes.Repeat([]byte("x"), MaxMessage)}
	for _, m := range msgs {
		if err := WriteFrame(&buf, m, MaxMessage); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range msgs {
		got, err := ReadFrame(&buf, MaxMessage)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("frame %d: %v, %d bytes, want %d", i, err, len(got), len(want))
		}
	}
	if _, err := ReadFrame(&buf, MaxMessage); err != io.EOF {
		t.Fatalf("after the last frame: %v, want io.EOF", err)
	}
}

// The length is in the machine's byte order, as Chrome and Firefox write it.
func TestFrameNativeByteOrder(t *testing.T) {
	var buf bytes.Buffer
	WriteFrame(&buf, []byte("{}"), 10)
	if got := binary.NativeEndian.Uint32(buf.Bytes()); got != 2 {
		t.Fatalf("length %d", got)
	}
}

func TestReadFrameBroken(t *testing.T) {
	next := frame(2, []byte("{}"))
	for _, tc := range []struct {
		name     string
		in       []byte
		err      error
		readable bool // the next frame can still be read
	}{
		{"zero length", frame(0, nil), ErrEmpty, true},
		{"over the limit, skipped", frame(11, bytes.Repeat([]byte("x"), 11)), ErrTooLarge, true},
		{"beyond any browser's limit", frame(MaxFromBrowser+1, nil), ErrFraming, false},
		{"truncated length", []byte{1, 0}, io.ErrUnexpectedEOF, false},
		{"truncated body", frame(5, []byte("{}")), io.ErrUnexpectedEOF, false},
		{"truncated oversize body", frame(100, []byte("{}")), io.ErrUnexpectedEOF, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := bytes.NewReader(tc.in)
			if tc.readable {
				r = bytes.NewReader(append(tc.in, next...))
			}
			if _, err := ReadFrame(r, 10); !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
			if tc.readable {
				if got, err := ReadFrame(r, 10); err != nil || string(got) != "{}" {
					t.Fatalf("next frame: %q %v", got, err)
				}
			}
		})
	}
}

func TestWriteFrameRefuses(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteFrame(&buf, bytes.Repeat([]byte("x"), 11), 10); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize: %v", err)
	}
	if err := WriteFrame(&buf, nil, 10); !errors.Is(err, ErrEmpty) {
		t.Fatalf("empty: %v", err)
	}
	if buf.Len() != 0 {
		t.Fatalf("wrote %d bytes of a refused frame", buf.Len())
	}
}

// TestProtocolDoc: the transport's codes are in docs/protocol.md with the
// message the host sends.
func TestProtocolDoc(t *testing.T) {
	doc, err := os.ReadFile("../../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	if !strings.Contains(text, "## Native messaging") || !strings.Contains(text, `"ru.podpis.agent"`) {
		t.Fatal("no Native messaging section")
	}
	for _, c := range []wsapi.Code{NotRunning, TooLarge} {
		row := "| `" + string(c) + "` |"
		i := strings.Index(text, row)
		if i < 0 {
			t.Fatalf("code %s is not documented", c)
		}
		line := text[i : i+strings.Index(text[i:], "\n")]
		if !strings.HasSuffix(strings.TrimSpace(line), "| "+transportMessages[c]+" |") {
			t.Errorf("code %s: the document's message differs from %q", c, transportMessages[c])
		}
	}
}
