package revocation_test

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/podpis/podpis/internal/enginetest"
	"github.com/podpis/podpis/verify"
	"github.com/podpis/podpis/verify/revocation"
)

// TestVerifyWithRevocation: signatures made by OpenSSL's GOST engine for a
// person whose certificate the engine's CA revoked fail verification with
// REVOKED; with the CRL unreachable, "require" fails with
// REVOCATION_UNKNOWN and "prefer" passes.
func TestVerifyWithRevocation(t *testing.T) {
	enginetest.Require(t)
	var crl []byte
	up := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		w.Write(crl)
	}))
	defer srv.Close()
	dir := t.TempDir()
	c := newEngineCA(t, dir, srv.URL+"/ca.crl")
	c.person("good")
	c.person("bad")
	c.openssl("ca", "-revoke", c.p("bad.pem"))
	c.openssl("ca", "-gencrl", "-out", c.p("ca.crl"))
	crl, _ = os.ReadFile(c.p("ca.crl"))
	roots := []*x509.Certificate{readCert(t, c.p("ca.pem"))}

	sign := func(who string) []byte {
		os.WriteFile(c.p("doc.txt"), []byte("договор"), 0o600)
		enginetest.Run(t, nil, "cms", "-sign", "-engine", "gost", "-binary", "-nodetach", "-outform", "DER",
			"-signer", c.p(who+".pem"), "-inkey", c.p(who+".key"), "-in", c.p("doc.txt"), "-out", c.p(who+".p7s"))
		b, _ := os.ReadFile(c.p(who + ".p7s"))
		return b
	}
	check := func(policy revocation.Policy, sig []byte) error {
		r, _ := revocation.New(revocation.Config{Policy: policy})
		v, err := verify.New(verify.Config{Roots: roots, Revocation: r})
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.VerifySignature(sig, nil)
		return err
	}
	code := func(err error) verify.Code {
		var e *verify.Error
		if errors.As(err, &e) {
			return e.Code
		}
		return ""
	}
	good, bad := sign("good"), sign("bad")
	if err := check(revocation.Require, good); err != nil {
		t.Errorf("good signer: %v", err)
	}
	r, _ := revocation.New(revocation.Config{Policy: revocation.Require})
	v, _ := verify.New(verify.Config{Roots: roots, Revocation: r})
	if res, err := v.VerifySignature(good, nil); err != nil || len(res.Revocation) != 1 || res.Revocation[0] != "good: CRL "+srv.URL+"/ca.crl: not listed" {
		t.Errorf("how revocation was established: %v %q", err, res.Revocation)
	}
	if err := check(revocation.Require, bad); code(err) != verify.CodeRevoked {
		t.Errorf("revoked signer: %v", err)
	}
	up = false
	if err := check(revocation.Require, good); code(err) != verify.CodeRevocationUnknown {
		t.Errorf("CRL down, require: %v", err)
	}
	if err := check(revocation.Prefer, good); err != nil {
		t.Errorf("CRL down, prefer: %v", err)
	}
}

type engineCA struct {
	t   *testing.T
	dir string
}

func (c *engineCA) p(f string) string { return filepath.Join(c.dir, f) }

func newEngineCA(t *testing.T, dir, url string) *engineCA {
	c := &engineCA{t: t, dir: dir}
	os.MkdirAll(c.p("newcerts"), 0o700)
	os.WriteFile(c.p("index.txt"), nil, 0o600)
	os.WriteFile(c.p("serial"), []byte("2000\n"), 0o600)
	os.WriteFile(c.p("crlnumber"), []byte("2000\n"), 0o600)
	os.WriteFile(c.p("ca.cnf"), []byte(`[ca]
default_ca = CA
[CA]
database = `+c.p("index.txt")+`
new_certs_dir = `+c.p("newcerts")+`
serial = `+c.p("serial")+`
crlnumber = `+c.p("crlnumber")+`
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
keyUsage = critical,digitalSignature,nonRepudiation
crlDistributionPoints = URI:`+url+`
`), 0o600)
	enginetest.Run(t, nil, "genpkey", "-engine", "gost", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:B", "-out", c.p("ca.key"))
	enginetest.Run(t, nil, "req", "-engine", "gost", "-x509", "-new", "-key", c.p("ca.key"), "-subj", "/CN=Engine CA",
		"-days", "30", "-config", c.p("ca.cnf"), "-extensions", "v3ca", "-out", c.p("ca.pem"))
	return c
}

func (c *engineCA) openssl(args ...string) {
	c.t.Helper()
	enginetest.Run(c.t, nil, append([]string{args[0], "-engine", "gost", "-config", c.p("ca.cnf"), "-cert", c.p("ca.pem"), "-keyfile", c.p("ca.key")}, args[1:]...)...)
}

func (c *engineCA) person(name string) {
	enginetest.Run(c.t, nil, "genpkey", "-engine", "gost", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:A", "-out", c.p(name+".key"))
	enginetest.Run(c.t, nil, "req", "-engine", "gost", "-new", "-key", c.p(name+".key"), "-subj", "/CN="+name, "-config", c.p("ca.cnf"), "-out", c.p(name+".csr"))
	c.openssl("ca", "-batch", "-extensions", "leaf", "-in", c.p(name+".csr"), "-out", c.p(name+".pem"))
}

func readCert(t *testing.T, path string) *x509.Certificate {
	b, _ := os.ReadFile(path)
	blk, _ := pem.Decode(b)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
