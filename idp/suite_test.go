package idp_test

import (
	"database/sql"
	"testing"

	"github.com/podpis/podpis/idp"
	"github.com/podpis/podpis/internal/testpg"
)

// suite is every test of the provider; each runs on SQLite and on
// PostgreSQL, the account service's two databases.
var suite = []struct {
	name string
	f    func(*testing.T, opener)
}{
	{"GoOIDCDiscovery", testGoOIDCDiscovery},
	{"GoOIDCCodeFlow", testGoOIDCCodeFlow},
	{"PKCE", testPKCE},
	{"PublicClientNeedsS256", testPublicClientNeedsS256},
	{"ReplayedCode", testReplayedCode},
	{"RedirectURI", testRedirectURI},
	{"RefreshRotation", testRefreshRotation},
	{"EndEverywhere", testEndEverywhere},
	{"KeyRotation", testKeyRotation},
	{"KeyRotatesByAge", testKeyRotatesByAge},
	{"KeysSealedAtRest", testKeysSealedAtRest},
	{"Prune", testPrune},
	{"RPCodeFlow", testRPCodeFlow},
	{"RPWrongState", testRPWrongState},
	{"RPLogout", testRPLogout},
	{"RPStepUp", testRPStepUp},
	{"RPPrivateKeyJWT", testRPPrivateKeyJWT},
	{"CompleteRules", testCompleteRules},
	{"ConcurrentExchange", testConcurrentExchange},
}

func TestSQLite(t *testing.T) {
	for _, tc := range suite {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, openSQLite) })
	}
}

// TestPostgres runs the suite on one PostgreSQL server, a fresh database
// per case.
func TestPostgres(t *testing.T) {
	srv := testpg.Start(t)
	open := func(t testing.TB) (*sql.DB, string) {
		d, err := sql.Open("pgx", srv.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d, idp.Postgres
	}
	for _, tc := range suite {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, open) })
	}
}
