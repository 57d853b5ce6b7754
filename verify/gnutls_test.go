package verify

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/internal/enginetest"
	"github.com/podpis/podpis/login"
)

// TestCerttoolNoKeyUsage: GnuTLS's certtool makes a CA and, under it, a
// signer's certificate without a keyUsage extension, on each curve it
// knows. A document signed with that key (by us: certtool makes no CMS)
// is valid under RFC 5280, a login with it is KEY_USAGE, and the same
// document under another CA is UNTRUSTED, not KEY_USAGE: the chain is
// judged first.
func TestCerttoolNoKeyUsage(t *testing.T) {
	enginetest.RequireCerttool(t)
	dir := t.TempDir()
	caTmpl := writeFile(t, filepath.Join(dir, "ca.tmpl"), "cn = \"certtool CA\"\nserial = 1\nexpiration_days = 30\nca\ncert_signing_key\ncrl_signing_key\n")
	leafTmpl := writeFile(t, filepath.Join(dir, "leaf.tmpl"), "cn = \"certtool signer\"\nserial = 2\nexpiration_days = 10\n")
	ctx := context.Background()
	for _, cc := range enginetest.CerttoolCurves {
		t.Run(cc.Curve, func(t *testing.T) {
			gen := func(name string) string {
				p := filepath.Join(dir, cc.Curve+"-"+name+".key")
				enginetest.Certtool(t, "--generate-privkey", "--key-type", cc.KeyType, "--curve", cc.Curve, "--no-text", "--outfile", p)
				return p
			}
			caKey, leafKey := gen("ca"), gen("leaf")
			caCert, leafCert := filepath.Join(dir, cc.Curve+"-ca.pem"), filepath.Join(dir, cc.Curve+"-leaf.pem")
			enginetest.Certtool(t, "--generate-self-signed", "--load-privkey", caKey, "--template", caTmpl, "--outfile", caCert)
			enginetest.Certtool(t, "--generate-certificate", "--load-privkey", leafKey, "--load-ca-certificate", caCert,
				"--load-ca-privkey", caKey, "--template", leafTmpl, "--outfile", leafCert)
			root, leaf := loadCert(t, caCert), loadCert(t, leafCert)
			if slices.ContainsFunc(leaf.Extensions, func(e pkix.Extension) bool { return e.Id.String() == "2.5.29.15" }) {
				t.Fatal("certtool wrote a keyUsage extension: the test needs a leaf without one")
			}
			key, err := gostx509.ParsePKCS8PrivateKey(enginetest.ReadPEM(t, leafKey))
			if err != nil {
				t.Fatal(err)
			}
			var msg bytes.Buffer
			w, err := cms.NewWriter(&msg, leaf, key, &cms.SignOptions{Certificates: []*x509.Certificate{root}})
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte("Документ"))
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			v, err := New(Config{Origins: []string{origin}, Roots: []*x509.Certificate{root}, Revocation: RevocationOff})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.VerifySignature(ctx, msg.Bytes(), nil); err != nil {
				t.Fatalf("document by a certificate without keyUsage: %v", err)
			}
			c, _ := v.IssueChallenge(ctx, origin)
			loginMsg, err := cms.Sign(login.NewDocument(origin, c.Value, time.Now()).Marshal(), leaf, key,
				&cms.SignOptions{ContentType: login.OID, Certificates: []*x509.Certificate{root}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.VerifyLogin(ctx, loginMsg, origin); !errors.Is(err, ErrKeyUsage) {
				t.Fatalf("login by a certificate without keyUsage: %v", err)
			}
			other, _ := New(Config{Roots: []*x509.Certificate{newTestPKI(t).root}, Revocation: RevocationOff, Documents: ProfileKeyUsage})
			if _, err := other.VerifySignature(ctx, msg.Bytes(), nil); !errors.Is(err, ErrUntrusted) {
				t.Fatalf("foreign CA and no keyUsage: %v", err)
			}
		})
	}
}
