package agent

import (
	"errors"
	"net"
	"net/url"
	"strings"
)

// ErrOriginDenied is returned for an origin the agent will not serve.
var ErrOriginDenied = errors.New("agent: origin denied")

// NormalizeOrigin checks that origin is a web origin podpis may serve and
// returns it in canonical form (scheme://host[:port], lower case, default
// port dropped). Only https is accepted, except http on 127.0.0.1 and
// [::1], which local development uses.
func NormalizeOrigin(origin string) (string, error) {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", ErrOriginDenied
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	switch scheme {
	case "https":
		if port == "443" {
			port = ""
		}
	case "http":
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() || (host != "127.0.0.1" && host != "::1") {
			return "", ErrOriginDenied
		}
		if port == "80" {
			port = ""
		}
	default:
		return "", ErrOriginDenied
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		return scheme + "://" + host + ":" + port, nil
	}
	return scheme + "://" + host, nil
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
