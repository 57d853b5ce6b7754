package wsapi

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
)

// TestProtocolDoc keeps docs/protocol.md in step: every method has a
// section and every code its row with the message the agent sends.
func TestProtocolDoc(t *testing.T) {
	doc, err := os.ReadFile("../../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	for m := range Methods {
		if !strings.Contains(text, "### `"+m+"`") {
			t.Errorf("method %s is not documented", m)
		}
	}
	if !strings.Contains(text, "### `cancel`") {
		t.Error("cancel is not documented")
	}
	for _, c := range Codes {
		row := "| `" + string(c) + "` |"
		i := strings.Index(text, row)
		if i < 0 {
			t.Errorf("code %s is not documented", c)
			continue
		}
		line := text[i : i+strings.Index(text[i:], "\n")]
		if !strings.HasSuffix(strings.TrimSpace(line), "| "+c.Message()+" |") {
			t.Errorf("code %s: the document's message differs from %q", c, c.Message())
		}
	}
}

func TestErrorOf(t *testing.T) {
	for err, want := range map[error]Code{
		agent.ErrOriginDenied: OriginDenied,
		agent.ErrBusy:         Busy,
		errors.Join(agent.ErrBadRequest, errors.New("x")):                           BadRequest,
		keystore.ErrPINLocked:                                                       PINLocked,
		&keystore.Error{Code: keystore.CodeTokenRemoved, Err: errors.New("C_Sign")}: TokenRemoved,
		context.DeadlineExceeded:                                                    Timeout,
		errors.New("anything else"):                                                 Internal,
	} {
		if got := ErrorOf(err); got.Code != want || got.Message == "" {
			t.Errorf("%v → %v, want %v", err, got.Code, want)
		}
	}
}
