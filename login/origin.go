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
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		return scheme + "://" + host + ":" + port, nil
	}
	return scheme + "://" + host, nil
}
