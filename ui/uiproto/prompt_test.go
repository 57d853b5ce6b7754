package uiproto

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestRoundTrip: a prompt, an answer with a PIN and an outcome travel as
// one line each; the PIN arrives as the same bytes.
func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	pin := []byte("12 3%\x00ё")
	Write(&buf, Prompt{Origin: "https://пример.рф", OriginASCII: "https://xn--e1afmkfd.xn--p1ai", Login: true})
	Write(&buf, Answer{PIN: pin, Save: true})
	Write(&buf, Outcome{Status: OutcomeWrong, FinalTry: true})
	if n := strings.Count(buf.String(), "\n"); n != 3 {
		t.Fatalf("%d lines for three messages", n)
	}
	r := NewReader(&buf)
	var p Prompt
	var a Answer
	var o Outcome
	if err := r.Read(&p); err != nil || p.Origin != "https://пример.рф" || !p.Login {
		t.Fatalf("prompt: %+v %v", p, err)
	}
	if err := r.Read(&a); err != nil || !bytes.Equal(a.PIN, pin) || !a.Save {
		t.Fatalf("answer: %+v %v", a, err)
	}
	if err := r.Read(&o); err != nil || o.Status != OutcomeWrong || !o.FinalTry {
		t.Fatalf("outcome: %+v %v", o, err)
	}
	if err := r.Read(&o); err != io.EOF {
		t.Fatalf("after the last line: %v", err)
	}
}

// TestReadBounded: a line longer than MaxLine is refused, not buffered
// without end.
func TestReadBounded(t *testing.T) {
	long := `{"origin":"` + strings.Repeat("x", MaxLine) + `"}` + "\n"
	var p Prompt
	if err := NewReader(strings.NewReader(long)).Read(&p); !errors.Is(err, ErrTooLong) {
		t.Fatalf("a %d-byte line: %v", len(long), err)
	}
}
