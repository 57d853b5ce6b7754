package esia_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/enginetest"
	"github.com/podpis/podpis/sso/esia"
	"github.com/podpis/podpis/sso/esia/esiatest"
)

const (
	clientID    = "PODPIS01"
	redirectURI = "https://id.example.ru/esia/callback"
)

// orgKeyFile makes the organisation's key and self-signed certificate with
// OpenSSL's GOST engine, as an organisation would before registering at
// ESIA, and loads them as files.
func orgKeyFile(t *testing.T, cn string) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	enginetest.Require(t)
	dir := t.TempDir()
	keyPath := enginetest.GenKey(t, dir, enginetest.Paramset{Algorithm: "gost2012_256", Name: "A"})
	certPath := filepath.Join(dir, "org.pem")
	enginetest.Run(t, nil, "req", "-engine", "gost", "-x509", "-new", "-key", keyPath,
		"-subj", "/CN="+cn+"/O=ООО Подпись", "-days", "2", "-out", certPath)
	certPEM, _ := os.ReadFile(certPath)
	keyPEM, _ := os.ReadFile(keyPath)
	cert, key, err := esia.LoadKeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

type setup struct {
	stand  *esiatest.Server
	client *esia.Client
	cfg    esia.Config
}

func newSetup(t *testing.T, stand esiatest.Config, edit func(*esia.Config)) *setup {
	t.Helper()
	cert, key := orgKeyFile(t, "Подпись ЕСИА")
	stand.ClientID, stand.RedirectURI, stand.ClientCertificate = clientID, redirectURI, cert
	srv := esiatest.New(t, stand)
	cfg := esia.Config{
		ClientID: clientID, RedirectURI: redirectURI, Scope: []string{"openid", "fullname", "snils"},
		Endpoints: srv.Endpoints(), Certificate: cert, Key: key, ProviderKey: srv.PublicKey(),
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := esia.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &setup{stand: srv, client: c, cfg: cfg}
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorize plays the browser at ESIA: it opens the authorization URL and
// returns the query ESIA redirects back with, or ESIA's error page.
func authorize(t *testing.T, authURL string) (url.Values, string) {
	t.Helper()
	resp, err := noRedirects.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusFound {
		return nil, string(body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), redirectURI+"?") {
		t.Fatalf("redirected to %q", resp.Header.Get("Location"))
	}
	return loc.Query(), ""
}

func begin(t *testing.T, s *setup) (*esia.Request, url.Values) {
	t.Helper()
	req, err := s.client.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cb, page := authorize(t, req.URL)
	if cb == nil {
		t.Fatalf("ESIA refused the authorization request: %s", page)
	}
	return req, cb
}

// TestLogin: authorize → redirect with the code → token → person data,
// with ESIA's tokens signed GOST3410_2012_256 and RS256.
func TestLogin(t *testing.T) {
	for _, rs := range []bool{false, true} {
		name := "GOST3410_2012_256"
		if rs {
			name = "RS256"
		}
		t.Run(name, func(t *testing.T) {
			s := newSetup(t, esiatest.Config{RS256: rs}, nil)
			req, cb := begin(t, s)
			q, _ := url.Parse(req.URL)
			if q.Query().Get("state") != req.State || len(req.State) != 36 || cb.Get("state") != req.State {
				t.Fatalf("state %q in the URL, %q in the request, %q back", q.Query().Get("state"), req.State, cb.Get("state"))
			}
			id, err := s.client.Finish(context.Background(), req, cb)
			if err != nil {
				t.Fatal(err)
			}
			if id.OID != "1000299654" || id.Person.FullName() != "Петров Иван Сергеевич" || id.Person.SNILS != "112-233-445 95" ||
				!id.Person.Trusted || id.AuthMethod != "PWD" || time.Since(id.AuthTime) > time.Minute {
				t.Fatalf("identity: %+v", id)
			}
			sid := id.Identity()
			if sid.Provider != "esia" || sid.Subject != "1000299654" || sid.Name != "Петров Иван Сергеевич" ||
				sid.Claims["snils"] != "112-233-445 95" || sid.Claims["trusted"] != "true" || sid.Claims["amr"] != "PWD" {
				t.Fatalf("sso identity: %+v", sid)
			}
		})
	}
}

// TestLogout: the logout URL names the client and the way back, which
// ESIA (the stand-in) sends the browser to after ending its session.
func TestLogout(t *testing.T) {
	s := newSetup(t, esiatest.Config{}, nil)
	u := s.client.LogoutURL("https://id.example.ru/bye")
	resp, err := noRedirects.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://id.example.ru/bye" {
		t.Fatalf("logout: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if !strings.HasPrefix(esia.Production.Logout, "https://esia.gosuslugi.ru/") {
		t.Fatalf("production logout %q", esia.Production.Logout)
	}
}

// TestAuthorizationURL: the parameters the recommendations list, the
// timestamp in ESIA's format.
func TestAuthorizationURL(t *testing.T) {
	s := newSetup(t, esiatest.Config{}, nil)
	req, err := s.client.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(req.URL)
	q := u.Query()
	for k, want := range map[string]string{"client_id": clientID, "redirect_uri": redirectURI, "scope": "openid fullname snils",
		"response_type": "code", "access_type": "online"} {
		if q.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, q.Get(k), want)
		}
	}
	ts, err := time.Parse("2006.01.02 15:04:05 -0700", q.Get("timestamp"))
	if err != nil || time.Since(ts) > time.Minute {
		t.Errorf("timestamp %q: %v", q.Get("timestamp"), err)
	}
	if strings.ContainsAny(q.Get("client_secret"), "+/=") {
		t.Errorf("client_secret is not unpadded base64url: %q", q.Get("client_secret"))
	}
	if !req.Expires.After(time.Now().Add(9*time.Minute)) || req.Expires.After(time.Now().Add(11*time.Minute)) {
		t.Errorf("expires %s", req.Expires)
	}
}

func TestSecretMessage(t *testing.T) {
	// The concatenation in the recommendations' order, no separators.
	got := string(esia.SecretMessage("openid fullname", "2026.11.30 13:00:00 +0300", "PODPIS01", "a1b2c3d4-0000-4000-8000-000000000000"))
	want := "openid fullname2026.11.30 13:00:00 +0300PODPIS01a1b2c3d4-0000-4000-8000-000000000000"
	if got != want {
		t.Fatalf("%q", got)
	}
	msk := time.FixedZone("MSK", 3*3600)
	if s := time.Date(2026, 11, 30, 13, 0, 5, 0, msk).Format(esia.TimestampLayout); s != "2026.11.30 13:00:05 +0300" {
		t.Fatalf("timestamp %q", s)
	}
}

// TestStandInRefuses: the stand-in (OpenSSL) refuses a client_secret that
// does not sign the request: one byte of the scope changed, a secret from
// a certificate that is not registered.
func TestStandInRefuses(t *testing.T) {
	s := newSetup(t, esiatest.Config{}, nil)
	req, err := s.client.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(req.URL)
	q := u.Query()
	q.Set("scope", "openid fullname snilt") // one byte of the scope
	u.RawQuery = q.Encode()
	if cb, page := authorize(t, u.String()); cb != nil || !strings.Contains(page, "client_secret does not verify") {
		t.Fatalf("tampered scope: callback %v, page %q", cb, page)
	}
	q.Set("scope", "openid fullname snils")
	q.Set("client_secret", q.Get("client_secret")[:len(q.Get("client_secret"))-4]+"AAAA") // the signature's last bytes
	u.RawQuery = q.Encode()
	if cb, page := authorize(t, u.String()); cb != nil || !strings.Contains(page, "client_secret does not verify") {
		t.Fatalf("tampered signature: callback %v, page %q", cb, page)
	}

	// A timestamp an hour old: a client_secret seen once is no good later.
	slow := s.cfg
	slow.Now = func() time.Time { return time.Now().Add(-time.Hour) }
	late, err := esia.New(slow)
	if err != nil {
		t.Fatal(err)
	}
	req, _ = late.Begin(context.Background())
	if cb, page := authorize(t, req.URL); cb != nil || !strings.Contains(page, "timestamp is too far") {
		t.Fatalf("stale timestamp: callback %v, page %q", cb, page)
	}

	// Another organisation's certificate, properly signed but not the one
	// registered with the client_id.
	otherCert, otherKey := orgKeyFile(t, "Чужая организация")
	cfg := s.cfg
	cfg.Certificate, cfg.Key = otherCert, otherKey
	other, err := esia.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req, _ = other.Begin(context.Background())
	if cb, page := authorize(t, req.URL); cb != nil || !strings.Contains(page, "client_secret does not verify") {
		t.Fatalf("unregistered certificate: callback %v, page %q", cb, page)
	}
}

// TestFinishRefuses: the callback and the tokens are checked, each attack
// refused with its own error.
func TestFinishRefuses(t *testing.T) {
	ctx := context.Background()
	past := func(c map[string]any) { c["exp"] = time.Now().Add(-2 * time.Hour).Unix() }
	future := func(c map[string]any) { c["nbf"] = time.Now().Add(2 * time.Hour).Unix() }
	otherRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
	otherGOST, _ := gost3410.GenerateKey(gost3410.CurveCryptoProA, rand.Reader)

	for _, tc := range []struct {
		name   string
		stand  esiatest.Config
		client func(*esia.Config)
		attack func(t *testing.T, s *setup) (*esia.Request, url.Values)
		want   error
		msg    string
	}{
		{name: "wrong state", want: esia.ErrState, attack: func(t *testing.T, s *setup) (*esia.Request, url.Values) {
			req, cb := begin(t, s)
			cb.Set("state", "00000000-0000-4000-8000-000000000000")
			return req, cb
		}},
		{name: "another login's callback", want: esia.ErrState, attack: func(t *testing.T, s *setup) (*esia.Request, url.Values) {
			// The attacker's own callback, planted in the victim's session.
			_, cb := begin(t, s)
			victim, _ := s.client.Begin(ctx)
			return victim, cb
		}},
		{name: "no login started", want: esia.ErrState, attack: func(t *testing.T, s *setup) (*esia.Request, url.Values) {
			_, cb := begin(t, s)
			return &esia.Request{}, cb
		}},
		{name: "replayed callback", want: esia.ErrReplayed, attack: func(t *testing.T, s *setup) (*esia.Request, url.Values) {
			req, cb := begin(t, s)
			if _, err := s.client.Finish(ctx, req, cb); err != nil {
				t.Fatal(err)
			}
			return req, cb
		}},
		{name: "replayed code", want: esia.ErrTokenCall, msg: "already used", attack: func(t *testing.T, s *setup) (*esia.Request, url.Values) {
			req, cb := begin(t, s)
			if _, err := s.client.Finish(ctx, req, cb); err != nil {
				t.Fatal(err)
			}
			// A fresh login's state with the old, spent code.
			req2, cb2 := begin(t, s)
			cb2.Set("code", cb.Get("code"))
			return req2, cb2
		}},
		{name: "made-up code", want: esia.ErrTokenCall, msg: "invalid_grant", attack: func(t *testing.T, s *setup) (*esia.Request, url.Values) {
			req, cb := begin(t, s)
			cb.Set("code", "0123456789abcdef0123456789abcdef")
			return req, cb
		}},
		{name: "login too slow", want: esia.ErrExpired, attack: func(t *testing.T, s *setup) (*esia.Request, url.Values) {
			req, cb := begin(t, s)
			req.Expires = time.Now().Add(-time.Second)
			return req, cb
		}},
		{name: "person declined", stand: esiatest.Config{Decline: true}, want: esia.ErrDenied, msg: "access_denied"},
		{name: "expired id_token", stand: esiatest.Config{EditIDToken: past}, want: esia.ErrToken, msg: "id_token: expired"},
		{name: "id_token not yet valid", stand: esiatest.Config{EditIDToken: future}, want: esia.ErrToken, msg: "not valid before"},
		{name: "id_token for another client", stand: esiatest.Config{EditIDToken: func(c map[string]any) { c["aud"] = "OTHERSYS" }}, want: esia.ErrToken, msg: "issued to OTHERSYS"},
		{name: "id_token for several clients", stand: esiatest.Config{EditIDToken: func(c map[string]any) { c["aud"] = []string{clientID, "OTHERSYS"} }}, want: esia.ErrToken, msg: "issued to"},
		{name: "id_token from another issuer", stand: esiatest.Config{EditIDToken: func(c map[string]any) { c["iss"] = "http://esia.evil.example/" }}, want: esia.ErrToken, msg: "issued by"},
		{name: "id_token without subject", stand: esiatest.Config{EditIDToken: func(c map[string]any) { delete(c, "sub") }}, want: esia.ErrToken, msg: "no subject"},
		{name: "expired access token", stand: esiatest.Config{EditAccessToken: past}, want: esia.ErrToken, msg: "access token: expired"},
		{name: "access token for another person", stand: esiatest.Config{EditAccessToken: func(c map[string]any) { c["urn:esia:sbj_id"] = 1000000001 }}, want: esia.ErrToken, msg: "another person"},
		{name: "access token for another client", stand: esiatest.Config{EditAccessToken: func(c map[string]any) { c["client_id"] = "OTHERSYS" }}, want: esia.ErrToken, msg: "issued to"},
		{name: "tokens signed by another GOST key", client: func(c *esia.Config) { c.ProviderKey = otherGOST.PublicKey() }, want: esia.ErrToken, msg: "not ESIA's"},
		{name: "tokens signed by another RSA key", stand: esiatest.Config{RS256: true}, client: func(c *esia.Config) { c.ProviderKey = &otherRSA.PublicKey }, want: esia.ErrToken, msg: "not ESIA's"},
		{name: "GOST token where ESIA signs RS256", client: func(c *esia.Config) { c.ProviderKey = &otherRSA.PublicKey }, want: esia.ErrToken, msg: `signed with "GOST3410_2012_256"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSetup(t, tc.stand, tc.client)
			attack := tc.attack
			if attack == nil {
				attack = begin
			}
			req, cb := attack(t, s)
			id, err := s.client.Finish(ctx, req, cb)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %+v, %v; want %v with %q", id, err, tc.want, tc.msg)
			}
			if code, msg := esia.Explain(err); code == "ESIA_UNAVAILABLE" || !strings.Contains(msg, "Госуслуг") {
				t.Fatalf("%v explained as %s: %s", err, code, msg)
			}
		})
	}
}

// TestNewRefuses: a configuration that cannot work fails at start.
func TestNewRefuses(t *testing.T) {
	cert, key := orgKeyFile(t, "Подпись ЕСИА")
	_, otherKey := orgKeyFile(t, "Чужая")
	pub, _ := gost3410.GenerateKey(gost3410.CurveCryptoProA, rand.Reader)
	good := esia.Config{ClientID: clientID, RedirectURI: redirectURI, Scope: []string{"openid", "fullname"},
		Endpoints: esia.Test, Certificate: cert, Key: key, ProviderKey: pub.PublicKey()}
	if _, err := esia.New(good); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*esia.Config){
		"no client id":        func(c *esia.Config) { c.ClientID = "" },
		"relative redirect":   func(c *esia.Config) { c.RedirectURI = "/callback" },
		"no openid scope":     func(c *esia.Config) { c.Scope = []string{"fullname"} },
		"scope with a space":  func(c *esia.Config) { c.Scope = []string{"openid", "fullname snils"} },
		"no endpoints":        func(c *esia.Config) { c.Endpoints = esia.Endpoints{} },
		"no key":              func(c *esia.Config) { c.Key = nil },
		"key of another cert": func(c *esia.Config) { c.Key = otherKey },
		"no ESIA key":         func(c *esia.Config) { c.ProviderKey = nil },
		"512-bit ESIA GOST key": func(c *esia.Config) {
			k, _ := gost3410.GenerateKey(gost3410.CurveTC26512A, rand.Reader)
			c.ProviderKey = k.PublicKey()
		},
	} {
		cfg := good
		edit(&cfg)
		if _, err := esia.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
