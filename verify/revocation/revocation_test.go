package revocation

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podpis/podpis/internal/enginetest"
)

// ca is a GOST CA run by OpenSSL's GOST engine (openssl ca): the CRLs come
// from an implementation we did not write.
type ca struct {
	t   *testing.T
	dir string
	url string // the distribution point written into its certificates
}

func newCA(t *testing.T, name, url string) *ca {
	enginetest.Require(t)
	c := &ca{t: t, dir: t.TempDir(), url: url}
	os.MkdirAll(filepath.Join(c.dir, "newcerts"), 0o700)
	os.WriteFile(filepath.Join(c.dir, "index.txt"), nil, 0o600)
	os.WriteFile(filepath.Join(c.dir, "serial"), []byte("1000\n"), 0o600)
	os.WriteFile(filepath.Join(c.dir, "crlnumber"), []byte("1000\n"), 0o600)
	cnf := fmt.Sprintf(`[ca]
default_ca = CA
[CA]
dir = %[1]s
database = %[1]s/index.txt
new_certs_dir = %[1]s/newcerts
serial = %[1]s/serial
crlnumber = %[1]s/crlnumber
default_md = md_gost12_256
default_days = 30
default_crl_days = 7
policy = pol
unique_subject = no
[pol]
commonName = supplied
[req]
distinguished_name = dn
[dn]
[v3ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
[leaf]
basicConstraints = CA:false
keyUsage = critical,digitalSignature
crlDistributionPoints = URI:%[2]s
`, c.dir, url)
	os.WriteFile(c.path("ca.cnf"), []byte(cnf), 0o600)
	enginetest.Run(t, nil, "genpkey", "-engine", "gost", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:A", "-out", c.path("ca.key"))
	enginetest.Run(t, nil, "req", "-engine", "gost", "-x509", "-new", "-key", c.path("ca.key"), "-subj", "/CN="+name,
		"-days", "30", "-config", c.path("ca.cnf"), "-extensions", "v3ca", "-out", c.path("ca.pem"))
	return c
}

func (c *ca) path(f string) string { return filepath.Join(c.dir, f) }

func (c *ca) openssl(args ...string) {
	c.t.Helper()
	enginetest.Run(c.t, nil, append([]string{args[0], "-engine", "gost", "-config", c.path("ca.cnf"), "-cert", c.path("ca.pem"), "-keyfile", c.path("ca.key")}, args[1:]...)...)
}

func (c *ca) person(name string) *x509.Certificate {
	key, csr, out := c.path(name+".key"), c.path(name+".csr"), c.path(name+".pem")
	enginetest.Run(c.t, nil, "genpkey", "-engine", "gost", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:A", "-out", key)
	enginetest.Run(c.t, nil, "req", "-engine", "gost", "-new", "-key", key, "-subj", "/CN="+name, "-config", c.path("ca.cnf"), "-out", csr)
	c.openssl("ca", "-batch", "-extensions", "leaf", "-in", csr, "-out", out)
	return readCert(c.t, out)
}

func (c *ca) revoke(name string) {
	c.openssl("ca", "-revoke", c.path(name+".pem"), "-crl_reason", "keyCompromise")
}

// crl writes a fresh CRL and returns its DER.
func (c *ca) crl() []byte {
	c.openssl("ca", "-gencrl", "-out", c.path("ca.crl"))
	b, _ := os.ReadFile(c.path("ca.crl"))
	blk, _ := pem.Decode(b)
	return blk.Bytes
}

func (c *ca) cert() *x509.Certificate { return readCert(c.t, c.path("ca.pem")) }

func readCert(t *testing.T, path string) *x509.Certificate {
	b, _ := os.ReadFile(path)
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", path)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// crlServer serves whatever CRL it is given, counting downloads.
type crlServer struct {
	mu    sync.Mutex
	body  []byte
	down  bool
	hits  atomic.Int32
	delay time.Duration
	srv   *httptest.Server
}

func newServer(t *testing.T) *crlServer {
	s := &crlServer{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		time.Sleep(s.delay)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Write(s.body)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *crlServer) serve(b []byte) { s.mu.Lock(); s.body, s.down = b, false; s.mu.Unlock() }
func (s *crlServer) fail()          { s.mu.Lock(); s.down = true; s.mu.Unlock() }

// TestCRL: good, revoked, responder down, stale and wrong-signer CRLs
// under each policy; one download for many waiting logins.
func TestCRL(t *testing.T) {
	srv := newServer(t)
	c := newCA(t, "GOST CRL CA", srv.srv.URL+"/ca.crl")
	good, bad := c.person("Good Person"), c.person("Revoked Person")
	c.revoke("Revoked Person")
	srv.serve(c.crl())
	root := c.cert()
	now := time.Now()

	require, _ := New(Config{Policy: Require})
	if _, err := require.CheckRevocation(context.Background(), []*x509.Certificate{good, root}, now); err != nil {
		t.Errorf("good certificate: %v", err)
	}
	var rev *RevokedError
	if _, err := require.CheckRevocation(context.Background(), []*x509.Certificate{bad, root}, now); !errors.As(err, &rev) || rev.Reason != 1 || rev.Serial.Cmp(bad.SerialNumber) != 0 {
		t.Errorf("revoked certificate: %v", err)
	}
	if hits := srv.hits.Load(); hits != 1 {
		t.Errorf("%d downloads for two checks under one CRL, want 1 (cached)", hits)
	}

	// The distribution point is down: require refuses, prefer lets
	// through, but a revoked certificate is never let through while the
	// CRL is known.
	srv.fail()
	fresh, _ := New(Config{Policy: Require})
	if _, err := fresh.CheckRevocation(context.Background(), []*x509.Certificate{good, root}, now); !errors.Is(err, ErrUnknown) {
		t.Errorf("CRL down, require: %v", err)
	}
	prefer, _ := New(Config{Policy: Prefer})
	if _, err := prefer.CheckRevocation(context.Background(), []*x509.Certificate{good, root}, now); err != nil {
		t.Errorf("CRL down, prefer: %v", err)
	}
	off, _ := New(Config{Policy: Off})
	if _, err := off.CheckRevocation(context.Background(), []*x509.Certificate{bad, root}, now); err != nil {
		t.Errorf("off: %v", err)
	}

	// Stale: past the CRL's nextUpdate (7 days), with the server down.
	if _, err := require.CheckRevocation(context.Background(), []*x509.Certificate{good, root}, now.Add(8*24*time.Hour)); !errors.Is(err, ErrUnknown) {
		t.Errorf("stale CRL: %v", err)
	}

	// A CRL signed by another CA of the same name is not the issuer's.
	impostor := newCA(t, "GOST CRL CA", srv.srv.URL+"/ca.crl")
	srv.serve(impostor.crl())
	other, _ := New(Config{Policy: Require})
	if _, err := other.CheckRevocation(context.Background(), []*x509.Certificate{bad, root}, now); !errors.Is(err, ErrUnknown) {
		t.Errorf("CRL from an impostor: %v", err)
	}

	// Many logins wait on one download.
	srv.serve(c.crl())
	srv.hits.Store(0)
	srv.delay = 200 * time.Millisecond
	shared, _ := New(Config{Policy: Require})
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := shared.CheckRevocation(context.Background(), []*x509.Certificate{good, root}, now); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if hits := srv.hits.Load(); hits != 1 {
		t.Errorf("%d downloads for 50 concurrent logins, want 1", hits)
	}
}

// TestCRLFile: a configured CRL file serves certificates without a
// reachable distribution point.
func TestCRLFile(t *testing.T) {
	c := newCA(t, "Offline CA", "http://127.0.0.1:1/unreachable.crl")
	bad := c.person("Revoked Person")
	c.revoke("Revoked Person")
	c.crl()
	chk, err := New(Config{Policy: Require, CRLFiles: []string{c.path("ca.crl")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chk.CheckRevocation(context.Background(), []*x509.Certificate{bad, c.cert()}, time.Now()); !errors.Is(err, ErrRevoked) {
		t.Errorf("revoked by file: %v", err)
	}
}
