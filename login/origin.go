package login

import (
	"errors"
	"net"
	"net/url"
	"strings"
)

// ErrOrigin is returned for an origin podpis does not serve.
var ErrOrigin = errors.New("login: not an origin podpis serves")

// NormalizeOrigin checks that origin is a web origin podpis may serve and
// returns it in canonical form (scheme://host[:port], lower case, default
// port dropped). Only https is accepted, except http on 127.0.0.1 and
// [::1], which local development uses. The agent signs logins for the
// normalised origin and verify compares normalised origins, so that both
// sides name a site alike: one function, here, is the rule for both.
func NormalizeOrigin(origin string) (string, error) {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", ErrOrigin
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
			return "", ErrOrigin
		}
		if port == "80" {
			port = ""
		}
	default:
		return "", ErrOrigin
	}
	if !validHost(host) {
		return "", ErrOrigin
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		return scheme + "://" + host + ":" + port, nil
	}
	return scheme + "://" + host, nil
}

// validHost accepts what a browser puts in an Origin: an IP literal, or a
// DNS name in ASCII (IDNs arrive as punycode) whose labels are letters,
// digits, '-' and '_', with the trailing dot browsers keep. Anything else
// — '*' above all, which would make a name match a wildcard trust rule —
// is not a site.
func validHost(host string) bool {
	if net.ParseIP(host) != nil {
		return true
	}
	if len(host) > 254 {
		return false
	}
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return false
		}
		for _, r := range l {
			if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}
