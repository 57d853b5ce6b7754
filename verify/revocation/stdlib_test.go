package revocation

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRSAAndECDSACRLs: CRLs signed with RSA and ECDSA by Go's own x509
// (an implementation we did not write) are checked the same way; a delta
// CRL is never taken for a full one.
func TestRSAAndECDSACRLs(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	for name, key := range map[string]crypto.Signer{"RSA": rsaKey, "ECDSA": ecKey} {
		caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " CA"},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
		caDER, _ := x509.CreateCertificate(rand.Reader, caT, caT, key.Public(), key)
		ca, _ := x509.ParseCertificate(caDER)
		leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		leafT := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "Person"},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
		leafDER, _ := x509.CreateCertificate(rand.Reader, leafT, ca, leafKey.Public(), key)
		leaf, _ := x509.ParseCertificate(leafDER)

		write := func(file string, extra []pkix.Extension) string {
			der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(7),
				ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour), ExtraExtensions: extra,
				RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(42), RevocationTime: now.Add(-time.Minute)}}}, ca, key)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), file)
			os.WriteFile(path, der, 0o600)
			return path
		}
		full := write("full.crl", nil)
		chk, err := New(Config{Policy: Require, CRLFiles: []string{full}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := chk.CheckRevocation(context.Background(), []*x509.Certificate{leaf, ca}, now); !errors.Is(err, ErrRevoked) {
			t.Errorf("%s: revoked by a full CRL: %v", name, err)
		}
		deltaExt := pkix.Extension{Id: oidDeltaCRLIndicator, Critical: true, Value: mustMarshal(big.NewInt(6))}
		delta := write("delta.crl", []pkix.Extension{deltaExt})
		chk, _ = New(Config{Policy: Require, CRLFiles: []string{delta}})
		if _, err := chk.CheckRevocation(context.Background(), []*x509.Certificate{leaf, ca}, now); !errors.Is(err, ErrUnknown) {
			t.Errorf("%s: a delta CRL alone: %v", name, err)
		}
		// Scoped CRLs: some reasons only, or CA certificates only, cannot
		// clear a person's certificate; users only can.
		for _, c := range []struct {
			idp  []byte
			want error
		}{
			{[]byte{0x30, 0x04, 0x83, 0x02, 0x06, 0x40}, ErrUnknown}, // onlySomeReasons {keyCompromise}
			{[]byte{0x30, 0x03, 0x82, 0x01, 0xff}, ErrUnknown},       // onlyContainsCACerts
			{[]byte{0x30, 0x03, 0x81, 0x01, 0xff}, ErrRevoked},       // onlyContainsUserCerts
		} {
			scoped := write("scoped.crl", []pkix.Extension{{Id: oidIssuingDistributionPoint, Critical: true, Value: c.idp}})
			chk, _ = New(Config{Policy: Require, CRLFiles: []string{scoped}})
			if _, err := chk.CheckRevocation(context.Background(), []*x509.Certificate{leaf, ca}, now); !errors.Is(err, c.want) {
				t.Errorf("%s: scoped CRL %x: %v, want %v", name, c.idp, err, c.want)
			}
		}
	}
}

func mustMarshal(v any) []byte {
	b, _ := asn1.Marshal(v)
	return b
}
