package uiproto

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// TestSettingsRoundTrip: a snapshot and an action arrive as sent, one
// line each, however small the reader's buffer.
func TestSettingsRoundTrip(t *testing.T) {
	at := time.Date(2027, 11, 30, 0, 0, 0, 0, time.UTC)
	want := &Settings{Version: "1.2.3", Allowed: []string{"https://lk.example.ru"}, Report: "строка 1\nстрока 2",
		Certificates: []SettingsCertificate{{Owner: "Иванов Иван", SNILS: "12345678901", NotAfter: at, DER: bytes.Repeat([]byte{0x30}, 5000), Problems: []string{"EXPIRED"}}}}
	var b bytes.Buffer
	if err := WriteSettings(&b, want); err != nil {
		t.Fatal(err)
	}
	WriteAction(&b, SettingsAction{Action: ActionRevoke, Origin: "https://lk.example.ru"})
	r := bufio.NewReaderSize(&b, 16)
	got, err := ReadSettings(r)
	if err != nil {
		t.Fatal(err)
	}
	if got.Report != want.Report || !got.Certificates[0].NotAfter.Equal(at) || !bytes.Equal(got.Certificates[0].DER, want.Certificates[0].DER) || got.Certificates[0].Owner != "Иванов Иван" {
		t.Errorf("snapshot: %+v", got)
	}
	if a, err := ReadAction(r); err != nil || a != (SettingsAction{Action: ActionRevoke, Origin: "https://lk.example.ru"}) {
		t.Errorf("action: %+v %v", a, err)
	}
	if _, err := ReadAction(r); !errors.Is(err, io.EOF) {
		t.Errorf("at the end: %v", err)
	}
}

// TestReadBounds: a peer cannot make the other side buffer an endless
// line, and a line cut short or not JSON is an error, not a zero value.
func TestReadBounds(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want error
	}{
		{"action over its bound", `{"action":"revoke","origin":"` + strings.Repeat("a", MaxActionLine) + "\"}\n", ErrLineTooLong},
		{"endless action", strings.Repeat("a", 3*MaxActionLine), ErrLineTooLong},
		{"cut short", `{"action":"revoke"`, io.ErrUnexpectedEOF},
		{"not JSON", "revoke https://lk.example.ru\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadAction(bufio.NewReader(strings.NewReader(tc.in)))
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("ReadAction: %v, want %v", err, tc.want)
			}
		})
	}
	line := `{"report":"` + strings.Repeat("a", MaxSettingsLine) + "\"}\n"
	if _, err := ReadSettings(bufio.NewReader(strings.NewReader(line))); !errors.Is(err, ErrLineTooLong) {
		t.Errorf("ReadSettings over its bound: %v", err)
	}
}
