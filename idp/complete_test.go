package idp_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/podpis/podpis/idp"
	"golang.org/x/oauth2"
)

// pending starts a flow and stops at the login page: the request id the
// account service would get.
func pending(t *testing.T, e *env, c *goClient, opts ...oauth2.AuthCodeOption) (flow, string, *browser) {
	t.Helper()
	f := c.start(opts...)
	b := newBrowser(t, "alice", idp.AMRPassword)
	to, status, body := b.visit(f.url, e.srv.URL+"/login")
	if to == nil {
		t.Fatalf("not sent to the login page: %d %s", status, body)
	}
	return f, to.Query().Get("request"), b
}

// TestCompleteRules: the seam refuses a login that does not answer the
// request, and releases certificate claims only from a certificate login.
func testCompleteRules(t *testing.T, open opener) {
	e := newEnv(t, open)
	c := newGoClient(t, e, "certificate")
	ctx := context.Background()
	pwd := func(authTime time.Time) idp.Subject {
		amr := []string{idp.AMRPassword}
		cl := person("alice", []string{idp.AMRCertificate}) // claims an account remembers from an older certificate login
		return idp.Subject{ID: "alice", SessionID: "s1", AMR: amr, AuthTime: authTime, Claims: cl}
	}

	if _, err := e.p.Complete(ctx, "no-such-request", pwd(e.now())); !errors.Is(err, idp.ErrNoRequest) {
		t.Errorf("unknown request: %v", err)
	}
	_, id, _ := pending(t, e, c, oauth2.SetAuthURLParam("acr_values", idp.ACRCertificate))
	if lr, err := e.p.Request(ctx, id); err != nil || !lr.Certificate || lr.ClientName != "Доверенность" {
		t.Errorf("Request: %+v %v", lr, err)
	}
	if _, err := e.p.Complete(ctx, id, pwd(e.now())); !errors.Is(err, idp.ErrStepUp) {
		t.Errorf("password login for a certificate request: %v", err)
	}
	_, id, _ = pending(t, e, c, oauth2.SetAuthURLParam("max_age", "60"))
	if _, err := e.p.Complete(ctx, id, pwd(e.now().Add(-time.Hour))); !errors.Is(err, idp.ErrReauthenticate) {
		t.Errorf("an hour-old login for max_age=60: %v", err)
	}
	_, id, _ = pending(t, e, c, oauth2.SetAuthURLParam("prompt", "login"))
	if _, err := e.p.Complete(ctx, id, pwd(e.now().Add(-time.Hour))); !errors.Is(err, idp.ErrReauthenticate) {
		t.Errorf("an old login for prompt=login: %v", err)
	}
	_, id, _ = pending(t, e, c)
	e.advance(11 * time.Minute)
	if _, err := e.p.Complete(ctx, id, pwd(e.now())); !errors.Is(err, idp.ErrRequestExpired) {
		t.Errorf("an expired request: %v", err)
	}

	// A password login: no certificate claims, even if the account has them.
	f, id, b := pending(t, e, c)
	to, err := e.p.Complete(ctx, id, pwd(e.now()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.p.Complete(ctx, id, pwd(e.now())); !errors.Is(err, idp.ErrRequestDone) {
		t.Errorf("completed twice: %v", err)
	}
	// A leaked request id: another browser at the callback gets no code.
	if sent, status, _ := newBrowser(t, "mallory", idp.AMRPassword).visit(to, webRedirect); sent != nil || status != http.StatusForbidden {
		t.Errorf("another browser at the callback: sent to %v, %d", sent, status)
	}
	cb, _ := url.Parse(to)
	flowCookies := b.c.Jar.Cookies(cb)
	q := b.authorize(to, webRedirect)
	// Nor does the same browser a second time.
	if sent, status, _ := b.visit(to, webRedirect); sent != nil || status != http.StatusForbidden {
		t.Errorf("the callback again: sent to %v, %d", sent, status)
	}
	// Even with the flow cookie kept, a second visit mints no second code.
	copied := newBrowser(t, "alice", idp.AMRPassword)
	copied.c.Jar.SetCookies(cb, flowCookies)
	if again := copied.authorize(to, webRedirect); again.Get("code") != "" || again.Get("error") == "" {
		t.Errorf("the callback again with the cookie: %v", again)
	}
	tok, err := c.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}
	li := c.check(tok, f.nonce)
	for _, k := range []string{"snils", "inn", "organization", "cert_thumbprint"} {
		if _, ok := li.claims[k]; ok {
			t.Errorf("%s released after a password login: %v", k, li.claims)
		}
	}
}

// TestConcurrentExchange: of several simultaneous exchanges of one code,
// or refreshes with one refresh token, exactly one wins.
func testConcurrentExchange(t *testing.T, open opener) {
	e := newEnv(t, open)
	c := newGoClient(t, e, "offline_access")
	race := func(f func() error) int {
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		start := make(chan struct{})
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if f() == nil {
					mu.Lock()
					won++
					mu.Unlock()
				}
			}()
		}
		close(start)
		wg.Wait()
		return won
	}
	f := c.start()
	q := newBrowser(t, "alice", idp.AMRPassword).authorize(f.url, webRedirect)
	if won := race(func() error {
		_, err := c.oauth.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(f.verifier))
		return err
	}); won != 1 {
		t.Fatalf("%d exchanges of one code succeeded", won)
	}
	li := c.login(newBrowser(t, "alice", idp.AMRPassword))
	if won := race(func() error {
		_, err := c.oauth.TokenSource(context.Background(), &oauth2.Token{RefreshToken: li.token.RefreshToken}).Token()
		return err
	}); won > 1 {
		t.Fatalf("%d refreshes with one refresh token succeeded", won)
	}
}
