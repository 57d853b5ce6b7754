// Package prompt holds the agent's Prompter implementations.
package prompt

import (
	"context"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
)

// NonInteractive never asks anyone: for headless servers, kiosks and
// tests. It denies every origin and every signature prompt, and answers a
// PIN request with Secret when set (podpis run --headless takes it from
// PODPIS_PIN), else PIN_REQUIRED. It cannot be reached from a page: only
// the command line chooses it.
type NonInteractive struct {
	Secret []byte
}

// Unattended: no person answers; see agent.Unattended.
func (n *NonInteractive) Unattended() bool { return true }

func (n *NonInteractive) ConfirmOrigin(ctx context.Context, origin string) (agent.Decision, error) {
	return agent.Deny, nil
}

func (n *NonInteractive) ConfirmSign(ctx context.Context, origin string, cert *keystore.Certificate, what agent.SignSummary) (bool, error) {
	return false, nil
}

func (n *NonInteractive) PIN(ctx context.Context, origin string, req keystore.PINRequest) ([]byte, bool, error) {
	if len(n.Secret) == 0 {
		return nil, false, keystore.ErrPINRequired
	}
	return append([]byte{}, n.Secret...), false, nil
}
