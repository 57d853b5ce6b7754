package server

import (
	"testing"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/wsapi"
)

// TestAllowOnceConnection: one «Только сейчас» covers a login — the
// certificates and the authenticate of that connection — with one
// question; a second connection of the same site is asked again.
func TestAllowOnceConnection(t *testing.T) {
	p := &asking{decision: agent.AllowOnce}
	h := start(t, agent.Config{Prompter: p})
	c := connect(t, h, "https://new.example", false)
	if r := c.call("certificates", nil); r.Error != nil {
		t.Fatal(r.Error)
	}
	if r := c.call("authenticate", wsapi.AuthenticateParams{Certificate: certID, Challenge: "abc"}); r.Error != nil {
		t.Fatal(r.Error)
	}
	if n := p.origins.Load(); n != 1 {
		t.Fatalf("one login asked %d times about the site, want once", n)
	}
	c2 := connect(t, h, "https://new.example", false)
	if r := c2.call("certificates", nil); r.Error != nil {
		t.Fatal(r.Error)
	}
	if n := p.origins.Load(); n != 2 {
		t.Fatalf("a second connection was not asked (%d questions)", n)
	}
}
