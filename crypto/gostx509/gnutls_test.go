package gostx509

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/enginetest"
)

const certtoolTemplate = `cn = "certtool test"
serial = 9
expiration_days = 10
ca
cert_signing_key
signing_key
`

// TestGnuTLS: GnuTLS keys (wrapped PKCS#8) and self-signed certificates
// (signature parameters absent) are read and checked by us, and GnuTLS
// signs certificates with keys we wrote, which we then check.
func TestGnuTLS(t *testing.T) {
	enginetest.RequireCerttool(t)
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "tmpl")
	os.WriteFile(tmpl, []byte(certtoolTemplate), 0o600)
	for _, cc := range enginetest.CerttoolCurves {
		t.Run(cc.Curve, func(t *testing.T) {
			keyPath := filepath.Join(dir, cc.Curve+".key")
			certPath := filepath.Join(dir, cc.Curve+".pem")
			enginetest.Certtool(t, "--generate-privkey", "--key-type", cc.KeyType, "--curve", cc.Curve, "--no-text", "--outfile", keyPath)
			key, err := ParsePKCS8PrivateKey(enginetest.ReadPEM(t, keyPath))
			if err != nil {
				t.Fatalf("GnuTLS key: %v", err)
			}
			enginetest.Certtool(t, "--generate-self-signed", "--load-privkey", keyPath, "--template", tmpl, "--outfile", certPath)
			cert := parseCertFile(t, certPath)
			pub, err := PublicKey(cert)
			if err != nil || !pub.Equal(key.PublicKey()) {
				t.Fatalf("certificate key differs from the private key: %v", err)
			}
			if err := CheckCertificateSignature(cert, pub); err != nil {
				t.Fatalf("GnuTLS self-signed certificate: %v", err)
			}

			// Our key, used by GnuTLS.
			mine, _ := gost3410.GenerateKey(key.Curve(), nil)
			der, _ := MarshalPKCS8PrivateKey(mine)
			minePath := filepath.Join(dir, cc.Curve+"-mine.key")
			pemFile(t, minePath, "PRIVATE KEY", der)
			mineCert := filepath.Join(dir, cc.Curve+"-mine.pem")
			enginetest.Certtool(t, "--generate-self-signed", "--load-privkey", minePath, "--template", tmpl, "--outfile", mineCert)
			mc := parseCertFile(t, mineCert)
			if err := CheckCertificateSignature(mc, mine.PublicKey()); err != nil {
				t.Fatalf("GnuTLS certificate signed with our key: %v", err)
			}
		})
	}
}
