// Package testtsa is an RFC 3161 time-stamping authority for tests: an
// HTTP handler in front of OpenSSL's `openssl ts -reply` with the GOST
// engine, so the tokens our client and verifier read come from an
// implementation we did not write. It makes its own CA, TSA certificate
// (extendedKeyUsage timeStamping, critical) and OpenSSL configuration in
// a temporary directory, so it works from a clean clone.
package testtsa

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/podpis/podpis/internal/enginetest"
)

// Kind is the TSA's key: a GOST R 34.10-2012 one of either size, or RSA.
type Kind string

const (
	GOST256 Kind = "gost2012_256"
	GOST512 Kind = "gost2012_512"
	RSA     Kind = "rsa"
)

// TSA is a running test TSA.
type TSA struct {
	// URL is where it takes application/timestamp-query POSTs.
	URL string
	// Root is the CA that issued the TSA certificate; Cert is that
	// certificate.
	Root, Cert *x509.Certificate
	// Tamper, when set, rewrites each query before OpenSSL answers it,
	// for tests of a TSA that answers another question.
	Tamper func(query []byte) []byte
	// Down makes it answer HTTP 503.
	Down atomic.Bool
	// Hits counts the queries answered.
	Hits atomic.Int32

	dir string
	mu  sync.Mutex // openssl ts keeps its serial in a file
}

// Start makes a TSA of kind, served until the test ends.
func Start(t testing.TB, kind Kind) *TSA {
	t.Helper()
	enginetest.Require(t)
	s := &TSA{dir: t.TempDir()}
	if err := s.setup(kind); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/tsa"
	return s
}

func (s *TSA) path(f string) string { return filepath.Join(s.dir, f) }

// config is the OpenSSL configuration: the engine loaded by the
// configuration (openssl ts -verify reads the CA file before a -engine
// flag takes effect), the certificate extensions and the TSA section.
const config = `openssl_conf = openssl_def
[openssl_def]
engines = engine_section
[engine_section]
gost = gost_section
[gost_section]
engine_id = gost
default_algorithms = ALL
[req]
distinguished_name = dn
[dn]
[v3ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[tsaext]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[tsa]
default_tsa = tsa_config
[tsa_config]
dir = %[1]s
serial = %[1]s/serial
signer_cert = %[1]s/tsa.pem
signer_key = %[1]s/tsa.key
certs = %[1]s/tsa.pem
signer_digest = %[2]s
default_policy = 1.2.643.100.1.1.1
other_policies = 1.2.3.4.5
digests = md_gost12_256, md_gost12_512, sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = %[2]s
`

// Policy is the TSA's default policy OID, as a string.
const Policy = "1.2.643.100.1.1.1"

func (s *TSA) setup(kind Kind) error {
	digest := "md_gost12_256"
	keyArgs := []string{"-algorithm", string(kind), "-pkeyopt", "paramset:A"}
	switch kind {
	case GOST512:
		digest = "md_gost12_512"
	case RSA:
		digest = "sha256"
		keyArgs = []string{"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"}
	}
	if err := os.WriteFile(s.path("openssl.cnf"), fmt.Appendf(nil, config, s.dir, digest), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(s.path("serial"), []byte("01\n"), 0o600); err != nil {
		return err
	}
	steps := [][]string{
		append([]string{"genpkey", "-out", s.path("ca.key")}, keyArgs...),
		{"req", "-x509", "-new", "-key", s.path("ca.key"), "-subj", "/CN=Тестовая служба времени: корневой УЦ/O=podpis", "-utf8",
			"-days", "30", "-extensions", "v3ca", "-" + strings.TrimPrefix(digest, "-"), "-out", s.path("ca.pem")},
		append([]string{"genpkey", "-out", s.path("tsa.key")}, keyArgs...),
		{"req", "-new", "-key", s.path("tsa.key"), "-subj", "/CN=Тестовая служба времени/O=podpis", "-utf8", "-out", s.path("tsa.csr")},
		{"x509", "-req", "-in", s.path("tsa.csr"), "-CA", s.path("ca.pem"), "-CAkey", s.path("ca.key"), "-set_serial", "2",
			"-days", "30", "-extfile", s.path("openssl.cnf"), "-extensions", "tsaext", "-" + digest, "-out", s.path("tsa.pem")},
	}
	for _, args := range steps {
		if args[0] == "req" {
			args = append(args, "-config", s.path("openssl.cnf"))
		}
		if _, err := s.openssl(nil, args...); err != nil {
			return err
		}
	}
	var err error
	if s.Root, err = readCert(s.path("ca.pem")); err != nil {
		return err
	}
	s.Cert, err = readCert(s.path("tsa.pem"))
	return err
}

// openssl runs openssl under the TSA's configuration.
func (s *TSA) openssl(stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command("openssl", args...)
	cmd.Env = append(os.Environ(), "OPENSSL_CONF="+s.path("openssl.cnf"))
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("openssl %s: %w\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return stdout.Bytes(), nil
}

// Verify runs `openssl ts -verify` on a token (DER ContentInfo) over data
// with the TSA's root: nil when OpenSSL accepts it.
func (s *TSA) Verify(token, data []byte) error {
	dir, err := os.MkdirTemp(s.dir, "verify")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	tok, dat := filepath.Join(dir, "token.der"), filepath.Join(dir, "data")
	os.WriteFile(tok, token, 0o600)
	os.WriteFile(dat, data, 0o600)
	out, err := s.openssl(nil, "ts", "-verify", "-token_in", "-in", tok, "-data", dat, "-CAfile", s.path("ca.pem"))
	if err != nil {
		return err
	}
	if !bytes.Contains(out, []byte("Verification: OK")) {
		return fmt.Errorf("openssl ts -verify: %s", out)
	}
	return nil
}

// RootFile is the root's PEM file, for openssl command lines.
func (s *TSA) RootFile() string { return s.path("ca.pem") }

// ServeHTTP answers one query with `openssl ts -reply`.
func (s *TSA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/timestamp-query" {
		http.Error(w, "POST application/timestamp-query", http.StatusBadRequest)
		return
	}
	if s.Down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	q, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if s.Tamper != nil {
		q = s.Tamper(q)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	qf, rf := s.path("query.tsq"), s.path("reply.tsr")
	os.Remove(rf)
	if err := os.WriteFile(qf, q, 0o600); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if _, err := s.openssl(nil, "ts", "-reply", "-config", s.path("openssl.cnf"), "-queryfile", qf, "-out", rf); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	resp, err := os.ReadFile(rf)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.Hits.Add(1)
	w.Header().Set("Content-Type", "application/timestamp-reply")
	w.Write(resp)
}

func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s: no PEM", path)
	}
	return x509.ParseCertificate(blk.Bytes)
}
