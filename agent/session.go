package agent

import (
	"context"
	"net/netip"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/net/publicsuffix"
)

// Session is the consent scope of one connection: «Только сейчас» allows
// the origin for what that connection asks next — the certificates and
// then the authenticate of one login are one question, not two — and
// never for another connection. The transport makes one per connection
// and puts it into each request's context with WithSession.
type Session struct {
	mu      sync.Mutex
	allowed map[string]bool
}

// NewSession returns an empty consent scope.
func NewSession() *Session { return &Session{allowed: map[string]bool{}} }

func (s *Session) allow(origin string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.allowed[origin] = true
}

func (s *Session) has(origin string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.allowed[origin]
}

type sessionKey struct{}

// WithSession returns ctx carrying the connection's consent scope.
func WithSession(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// sessionOf returns the scope in ctx, or nil: then «Только сейчас» covers
// the one request.
func sessionOf(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionKey{}).(*Session)
	return s
}

// promptDomain is what the prompt limit counts by: the registrable domain
// (eTLD+1 from the public suffix list) of the origin's host, so that one
// party's twenty subdomains share one budget. A trailing dot is dropped
// (browsers keep it in the origin, but a.example. is a.example, and the
// public suffix list refuses the empty label: every such host would be a
// domain of its own). IP literals are their own domain, an IPv4-mapped
// IPv6 one counting as its IPv4 address; localhost (with its subdomains)
// is one domain.
func promptDomain(origin string) string {
	u, err := url.Parse(origin)
	if err != nil {
		return origin
	}
	host := strings.TrimRight(strings.ToLower(u.Hostname()), ".")
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.Unmap().WithZone("").String()
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return "localhost"
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return host // a public suffix itself, e.g. https://github.io
	}
	return d
}
