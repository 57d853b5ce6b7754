package idp_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/podpis/podpis/idp"
	"golang.org/x/oauth2"
)

// TestKeysSealedAtRest: a copy of the database does not give the
// signing keys, and a sealed key does not open under another key's id.
func testKeysSealedAtRest(t *testing.T, open opener) {
	e := newEnv(t, open)
	ctx := context.Background()
	var sealed []byte
	if err := e.db.QueryRow(`SELECT sealed FROM idp_signing_keys`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if _, err := x509.ParsePKCS8PrivateKey(sealed); err == nil {
		t.Fatal("the signing key is stored in the clear")
	}
	if n := jwksModulus(t, e); len(n) < 256 || bytes.Contains(sealed, n) {
		t.Fatal("the stored key shows its modulus: not encrypted")
	}

	// Another key encryption key: refused at once, not at a login.
	cfg := e.cfg
	cfg.KeyEncryptionKey = randomBytes(32)
	if _, err := idp.New(ctx, cfg); !errors.Is(err, idp.ErrKeyDecrypt) {
		t.Errorf("New with another key encryption key: %v", err)
	}

	// Two keys with their ciphertexts swapped: neither opens.
	if err := e.p.RotateKey(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := e.db.Query(`SELECT id, sealed FROM idp_signing_keys`)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	var blobs [][]byte
	for rows.Next() {
		var id string
		var b []byte
		rows.Scan(&id, &b)
		ids, blobs = append(ids, id), append(blobs, b)
	}
	rows.Close()
	if len(ids) != 2 {
		t.Fatalf("%d keys", len(ids))
	}
	for i := range 2 {
		if _, err := e.db.Exec(`UPDATE idp_signing_keys SET sealed = $1 WHERE id = $2`, blobs[1-i], ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := idp.New(ctx, e.cfg); !errors.Is(err, idp.ErrKeyDecrypt) {
		t.Errorf("swapped keys: %v", err)
	}
}

// TestKeyRotatesByAge: a key older than KeyRotation stops signing on its
// own.
func testKeyRotatesByAge(t *testing.T, open opener) {
	e := newEnv(t, open, func(c *idp.Config) { c.KeyRotation = time.Hour })
	c := newGoClient(t, e)
	b := newBrowser(t, "alice", idp.AMRPassword)
	first := kid(t, c.login(b).raw)
	e.advance(time.Hour)
	second := kid(t, c.login(b).raw)
	if first == second {
		t.Fatal("a key older than KeyRotation still signs")
	}
	if kids := jwksKids(t, e); len(kids) != 2 {
		t.Errorf("JWKS %v, want the new key and the old one", kids)
	}
}

func jwksModulus(t *testing.T, e *env) []byte {
	t.Helper()
	resp, err := http.Get(e.issuer + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var set struct {
		Keys []struct {
			N string `json:"n"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("JWKS %s: %v", body, err)
	}
	n, err := base64.RawURLEncoding.DecodeString(set.Keys[0].N)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestConfigRefused(t *testing.T) {
	d, dialect := openSQLite(t)
	good := func() idp.Config {
		return idp.Config{Issuer: "https://id.example.ru/oidc", LoginURL: "https://id.example.ru/login", DB: d, Dialect: dialect,
			KeyEncryptionKey: make([]byte, 32), Sessions: &standIn{},
			Clients: []idp.Client{{ID: "a", Secret: "0123456789abcdef", RedirectURIs: []string{"https://a.example.ru/cb"}}}}
	}
	if _, err := idp.New(context.Background(), good()); err != nil {
		t.Fatalf("the good configuration: %v", err)
	}
	for _, tc := range []struct {
		name string
		f    func(*idp.Config)
	}{
		{"http issuer", func(c *idp.Config) { c.Issuer = "http://id.example.ru/oidc" }},
		{"issuer with slash", func(c *idp.Config) { c.Issuer = "https://id.example.ru/oidc/" }},
		{"issuer with query", func(c *idp.Config) { c.Issuer = "https://id.example.ru/oidc?x=1" }},
		{"no login URL", func(c *idp.Config) { c.LoginURL = "" }},
		{"short key", func(c *idp.Config) { c.KeyEncryptionKey = make([]byte, 16) }},
		{"no sessions", func(c *idp.Config) { c.Sessions = nil }},
		{"unknown dialect", func(c *idp.Config) { c.Dialect = "mysql" }},
		{"short secret", func(c *idp.Config) { c.Clients[0].Secret = "short" }},
		{"repeated client", func(c *idp.Config) { c.Clients = append(c.Clients, c.Clients[0]) }},
		{"no redirect URI", func(c *idp.Config) { c.Clients[0].RedirectURIs = nil }},
		{"relative redirect URI", func(c *idp.Config) { c.Clients[0].RedirectURIs = []string{"/cb"} }},
		{"redirect URI with fragment", func(c *idp.Config) { c.Clients[0].RedirectURIs = []string{"https://a.example.ru/cb#x"} }},
		{"private_key_jwt without keys", func(c *idp.Config) { c.Clients[0].Auth = idp.AuthPrivateKeyJWT }},
		{"unknown auth", func(c *idp.Config) { c.Clients[0].Auth = "tls_client_auth" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good()
			tc.f(&cfg)
			if _, err := idp.New(context.Background(), cfg); !errors.Is(err, idp.ErrConfig) {
				t.Errorf("%v, want ErrConfig", err)
			}
		})
	}
}

// testPrune: Prune deletes what can no longer be used, and nothing that
// can.
func testPrune(t *testing.T, open opener) {
	e := newEnv(t, open)
	ctx := context.Background()
	c := newGoClient(t, e, "offline_access")
	li := c.login(newBrowser(t, "alice", idp.AMRPassword))
	if err := e.p.RotateKey(ctx); err != nil {
		t.Fatal(err)
	}
	count := func(table string) int {
		var n int
		if err := e.db.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	e.advance(11*time.Minute + time.Second)
	if err := e.p.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if count("idp_auth_requests") != 0 || count("idp_signing_keys") != 1 || count("idp_access_tokens") != 0 {
		t.Errorf("after 11 minutes: %d requests, %d keys, %d access tokens", count("idp_auth_requests"), count("idp_signing_keys"), count("idp_access_tokens"))
	}
	tok, err := c.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: li.token.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("a live refresh token was pruned: %v", err)
	}
	c.check(tok, "")
	e.advance(31 * 24 * time.Hour)
	if err := e.p.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"idp_refresh_tokens", "idp_access_tokens", "idp_grants", "idp_auth_requests"} {
		if n := count(table); n != 0 {
			t.Errorf("%s: %d rows after everything expired", table, n)
		}
	}
}
