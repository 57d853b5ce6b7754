package wsapi

import (
	"context"
	"fmt"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/cades"
	"github.com/podpis/podpis/crypto/tsp"
)

// longTerm is how a sign request's signature is to be raised: its CAdES
// form and TSA.
type longTerm struct {
	level cades.Level
	tsa   string
}

// planLongTerm reads the request's cades and tsa before anything is asked
// of the person, so that a request that cannot be served is refused
// (BAD_REQUEST) instead of signed and then failed. The TSA is the site's
// rule in the agent's configuration, else the page's; a tsa without
// cades means t. Only http and https TSAs are asked.
func planLongTerm(a *agent.Agent, origin string, p SignParams) (longTerm, error) {
	spelled := p.CAdES
	if spelled == "" && p.TSA != "" {
		spelled = "t"
	}
	level, err := cades.ParseLevel(spelled)
	if err != nil {
		return longTerm{}, fmt.Errorf("%w: %w", agent.ErrBadRequest, err)
	}
	if level == cades.BES {
		return longTerm{level: level}, nil
	}
	url := a.TSAFor(origin)
	if url == "" {
		url = p.TSA
	}
	if url == "" {
		return longTerm{}, fmt.Errorf("%w: cades %s needs a TSA (tsa, or the site's rule)", agent.ErrBadRequest, level)
	}
	if err := tsp.CheckURL(url); err != nil {
		return longTerm{}, fmt.Errorf("%w: %w", agent.ErrBadRequest, err)
	}
	return longTerm{level: level, tsa: url}, nil
}

// extend raises a signature the person approved: a TSA or revocation
// failure is its own error code (TSA_UNAVAILABLE, TSA_BAD_RESPONSE,
// REVOCATION_UNAVAILABLE), never a CAdES-BES handed back as if asked for.
func (l longTerm) extend(ctx context.Context, der []byte) ([]byte, error) {
	if l.level == cades.BES {
		return der, nil
	}
	return cades.Extend(ctx, der, l.level, cades.Options{TSA: &tsp.Client{URL: l.tsa}, FetchIssuers: true})
}
