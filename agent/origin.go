package agent

import (
	"errors"
	"fmt"
	"strings"

	"github.com/podpis/podpis/login"
)

// ErrOriginDenied is returned for an origin the agent will not serve.
var ErrOriginDenied = errors.New("agent: origin denied")

// NormalizeOrigin is login.NormalizeOrigin, the one rule the agent and
// verify share, failing with ErrOriginDenied, which the protocol layer
// maps to its code.
func NormalizeOrigin(origin string) (string, error) {
	n, err := login.NormalizeOrigin(origin)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrOriginDenied, err)
	}
	return n, nil
}

// ParseRule checks a trust rule — an https origin, an https://*.domain
// pattern or http on 127.0.0.1 — and returns it in normal form (lower
// case, default port dropped), as Match compares it. The command line and
// the configuration files take rules through it.
func ParseRule(s string) (Rule, error) {
	const wild, stand = "://*.", "://wildcard."
	n, err := NormalizeOrigin(strings.Replace(s, wild, stand, 1))
	if err != nil {
		return "", fmt.Errorf("%w: %q is not an https origin, an https://*.domain pattern or http on 127.0.0.1", ErrOriginDenied, s)
	}
	if strings.Contains(s, wild) {
		n = strings.Replace(n, stand, wild, 1)
	}
	return Rule(n), nil
}

// Rule matches origins: an exact origin ("https://lk.example.ru",
// "https://lk.example.ru:8443") or a wildcard over subdomains
// ("https://*.example.ru", which does not match example.ru itself).
type Rule string

// Match reports whether the normalised origin matches the rule.
func (r Rule) Match(origin string) bool {
	rule := string(r)
	if i := strings.Index(rule, "://*."); i >= 0 {
		scheme, suffix := rule[:i], rule[i+len("://*."):]
		if !strings.HasPrefix(origin, scheme+"://") {
			return false
		}
		host := strings.TrimPrefix(origin, scheme+"://")
		return strings.HasSuffix(host, "."+suffix) && !strings.Contains(strings.TrimSuffix(host, "."+suffix), "/")
	}
	n, err := NormalizeOrigin(rule)
	return err == nil && n == origin
}

// Decision is what the user said about an origin.
type Decision int

const (
	// Deny refuses the origin (this time).
	Deny Decision = iota
	// AllowOnce allows this request only.
	AllowOnce
	// AllowAlways remembers the origin as trusted.
	AllowAlways
)
