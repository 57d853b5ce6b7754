// Package esiatest runs sso/esia/esiastand, the local ESIA stand-in, on a
// loopback port for the duration of a test. When OpenSSL's GOST engine,
// which the stand checks client_secret with, is missing, the test stops
// under internal/testdeps's Engine rule: a skip, or a failure under make
// test.
package esiatest

import (
	"net/http/httptest"
	"testing"

	"github.com/podpis/podpis/internal/enginetest"
	"github.com/podpis/podpis/sso/esia/esiastand"
)

// Config is the stand's configuration.
type Config = esiastand.Config

// Server is the running stand: its Endpoints and PublicKey configure an
// esia.Client; URL is its base address.
type Server struct {
	*esiastand.Stand
	URL string
}

// New starts the stand for cfg until t ends.
func New(t testing.TB, cfg Config) *Server {
	t.Helper()
	enginetest.Require(t)
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	stand, err := esiastand.New(cfg, base)
	if err != nil {
		ts.Close()
		t.Fatal(err)
	}
	ts.Config.Handler = stand
	ts.Start()
	t.Cleanup(func() {
		ts.Close()
		stand.Close()
	})
	return &Server{Stand: stand, URL: base}
}
