package idp_test

import (
	"context"
	"testing"

	"github.com/podpis/podpis/idp"
	"golang.org/x/oauth2"
)

// BenchmarkCodeFlow is one single sign-on login of a client on SQLite:
// authorize, the login page answering from its session, the callback,
// and the code exchanged for tokens (with a refresh token) — the
// provider's share of a login, over loopback HTTP.
func BenchmarkCodeFlow(b *testing.B) {
	e := newEnv(b, openSQLite)
	c := newGoClient(b, e, "offline_access")
	br := newBrowser(b, "alice", idp.AMRPassword)
	c.login(br) // the session
	b.ReportAllocs()
	for b.Loop() {
		f := c.start()
		q := br.authorize(f.url, webRedirect)
		if _, err := c.oauth.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(f.verifier)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefresh is one refresh with rotation on SQLite.
func BenchmarkRefresh(b *testing.B) {
	e := newEnv(b, openSQLite)
	c := newGoClient(b, e, "offline_access")
	rt := c.login(newBrowser(b, "alice", idp.AMRPassword)).token.RefreshToken
	b.ReportAllocs()
	for b.Loop() {
		tok, err := c.oauth.TokenSource(context.Background(), &oauth2.Token{RefreshToken: rt}).Token()
		if err != nil {
			b.Fatal(err)
		}
		rt = tok.RefreshToken
	}
}
