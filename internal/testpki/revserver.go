package testpki

import (
	"crypto/x509"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"golang.org/x/crypto/ocsp"
)

// RevServer serves an issuer's revocation status over HTTP: its CRL at
// CRLURL (issued afresh on every download) and, for an RSA or ECDSA
// issuer, OCSP at OCSPURL (x/crypto/ocsp signs no GOST). Close stops it,
// for tests of what still verifies when the CA's servers are gone.
type RevServer struct {
	CRLURL, OCSPURL string

	iss     *Issuer
	srv     *httptest.Server
	mu      sync.Mutex
	revoked []x509.RevocationListEntry
}

// Serve starts iss's revocation server; it stops when the test ends.
func (iss *Issuer) Serve(t testing.TB) *RevServer {
	t.Helper()
	s := &RevServer{iss: iss}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /crl", func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		w.Write(iss.CRL(t, s.entries(), now.Add(-time.Minute), now.Add(time.Hour)))
	})
	mux.HandleFunc("POST /ocsp", s.ocsp)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	s.CRLURL, s.OCSPURL = s.srv.URL+"/crl", s.srv.URL+"/ocsp"
	return s
}

// Close stops the server: downloads and OCSP requests then fail.
func (s *RevServer) Close() { s.srv.Close() }

// Revoke lists serial as revoked at at.
func (s *RevServer) Revoke(serial *big.Int, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = append(s.revoked, x509.RevocationListEntry{SerialNumber: serial, RevocationTime: at, ReasonCode: 1})
}

func (s *RevServer) entries() []x509.RevocationListEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]x509.RevocationListEntry(nil), s.revoked...)
}

func (s *RevServer) ocsp(w http.ResponseWriter, r *http.Request) {
	if _, gost := s.iss.Key.Public().(*gost3410.PublicKey); gost {
		http.Error(w, "no GOST OCSP here", http.StatusNotImplemented)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	req, err := ocsp.ParseRequest(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	now := time.Now()
	tmpl := ocsp.Response{Status: ocsp.Good, SerialNumber: req.SerialNumber, ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour)}
	for _, e := range s.entries() {
		if e.SerialNumber.Cmp(req.SerialNumber) == 0 {
			tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, e.RevocationTime, ocsp.KeyCompromise
		}
	}
	resp, err := ocsp.CreateResponse(s.iss.Cert, s.iss.Cert, tmpl, s.iss.Key)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(resp)
}
