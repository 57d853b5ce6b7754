package gostx509

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/enginetest"
)

// TestCreateCertificate issues a root (512-bit) and a leaf (256-bit) with
// our code and checks them with crypto/x509's parser, with us, and with
// OpenSSL's GOST engine, which must build and accept the chain.
func TestCreateCertificate(t *testing.T) {
	rootKey, _ := gost3410.GenerateKey(gost3410.CurveTC26512A, nil)
	leafKey, _ := gost3410.GenerateKey(gost3410.CurveTC26256A, nil)
	now := time.Now()
	rootTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "podpis test root", Organization: []string{"podpis"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	rootDER, err := CreateCertificate(nil, rootTmpl, rootTmpl, rootKey.PublicKey(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, err := x509.ParseCertificate(rootDER)
	if err != nil {
		t.Fatal(err)
	}
	oidSNILS := asn1.ObjectIdentifier{1, 2, 643, 100, 3}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject: pkix.Name{CommonName: "Иванов Иван Иванович", ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: oidSNILS, Value: "12345678901"},
		}},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(12 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	leafDER, err := CreateCertificate(nil, leafTmpl, root, leafKey.PublicKey(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckCertificateSignature(root, rootKey.PublicKey()); err != nil {
		t.Fatalf("root: %v", err)
	}
	if err := CheckCertificateSignature(leaf, rootKey.PublicKey()); err != nil {
		t.Fatalf("leaf: %v", err)
	}
	if pub, err := PublicKey(leaf); err != nil || !pub.Equal(leafKey.PublicKey()) {
		t.Fatalf("leaf key: %v", err)
	}
	if string(leaf.AuthorityKeyId) != string(root.SubjectKeyId) || len(root.SubjectKeyId) == 0 {
		t.Fatal("authority key identifier does not match the root's subject key identifier")
	}
	if leaf.Subject.CommonName != "Иванов Иван Иванович" || leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		t.Fatal("template fields lost")
	}

	enginetest.Require(t)
	dir := t.TempDir()
	rootPath := filepath.Join(dir, "root.pem")
	leafPath := filepath.Join(dir, "leaf.pem")
	pemFile(t, rootPath, "CERTIFICATE", rootDER)
	pemFile(t, leafPath, "CERTIFICATE", leafDER)
	out := enginetest.Run(t, nil, "verify", "-engine", "gost", "-CAfile", rootPath, leafPath)
	if !strings.Contains(string(out), "OK") {
		t.Fatalf("engine: %s", out)
	}
	leafDER[len(leafDER)-3] ^= 1
	pemFile(t, leafPath, "CERTIFICATE", leafDER)
	if out, err := enginetest.Try(nil, "verify", "-engine", "gost", "-CAfile", rootPath, leafPath); err == nil {
		t.Fatalf("engine accepts a tampered certificate: %s", out)
	}
}
