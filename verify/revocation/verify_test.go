package revocation_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
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
	c := revocation.NewEngineCA(t, "Engine CA", srv.URL+"/ca.crl")
	c.Person("good")
	c.Person("bad")
	c.Revoke("bad")
	crl = c.CRL()
	roots := []*x509.Certificate{c.Cert()}

	sign := func(who string) []byte {
		os.WriteFile(c.Path("doc.txt"), []byte("договор"), 0o600)
		enginetest.Run(t, nil, "cms", "-sign", "-engine", "gost", "-binary", "-nodetach", "-outform", "DER",
			"-signer", c.Path(who+".pem"), "-inkey", c.Path(who+".key"), "-in", c.Path("doc.txt"), "-out", c.Path(who+".p7s"))
		b, _ := os.ReadFile(c.Path(who + ".p7s"))
		return b
	}
	check := func(policy revocation.Policy, sig []byte) error {
		r, _ := revocation.New(revocation.Config{Policy: policy})
		v, err := verify.New(verify.Config{Roots: roots, Revocation: r})
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.VerifySignature(context.Background(), sig, nil)
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
	if res, err := v.VerifySignature(context.Background(), good, nil); err != nil || len(res.Revocation) != 1 ||
		res.Revocation[0].Source != revocation.CRL || res.Revocation[0].Where != srv.URL+"/ca.crl" || res.Revocation[0].Subject != "good" ||
		res.Revocation[0].String() != "good: CRL "+srv.URL+"/ca.crl: not listed" {
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
