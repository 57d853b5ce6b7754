// Package testpki issues GOST (and RSA-signed) test certificates with our
// own CA code, for tests that need a hierarchy without OpenSSL.
package testpki

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
)

var serial atomic.Int64

// Issuer is a CA: its certificate and key.
type Issuer struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// Root makes a self-signed CA on curve c, valid from a year before at to
// five years after.
func Root(t testing.TB, c *gost3410.Curve, name string, at time.Time) *Issuer {
	t.Helper()
	key := NewKey(t, c)
	tmpl := CATemplate(name, at)
	return &Issuer{Cert: Issue(t, tmpl, tmpl, key.Public(), key), Key: key}
}

// SubCA makes an intermediate CA under iss.
func (iss *Issuer) SubCA(t testing.TB, c *gost3410.Curve, name string, at time.Time) *Issuer {
	t.Helper()
	key := NewKey(t, c)
	return &Issuer{Cert: Issue(t, CATemplate(name, at), iss.Cert, key.Public(), iss.Key), Key: key}
}

// Person issues an end-entity certificate for a new key on c with
// digitalSignature and nonRepudiation, valid a month before and a year
// after at; edit may change the template first.
func (iss *Issuer) Person(t testing.TB, c *gost3410.Curve, subject pkix.Name, at time.Time, edit func(*x509.Certificate)) (*x509.Certificate, *gost3410.PrivateKey) {
	t.Helper()
	key := NewKey(t, c)
	tmpl := &x509.Certificate{
		Subject:   subject,
		NotBefore: at.AddDate(0, -1, 0), NotAfter: at.AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	}
	if edit != nil {
		edit(tmpl)
	}
	return Issue(t, tmpl, iss.Cert, key.Public(), iss.Key), key
}

// CATemplate is the template of a CA certificate.
func CATemplate(name string, at time.Time) *x509.Certificate {
	return &x509.Certificate{
		Subject:   pkix.Name{CommonName: name, Organization: []string{"podpis"}},
		NotBefore: at.AddDate(-1, 0, 0), NotAfter: at.AddDate(5, 0, 0),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
}

// Issue signs tmpl with signer under parent (tmpl itself for a self-signed
// certificate), giving it a fresh serial number.
func Issue(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) *x509.Certificate {
	t.Helper()
	tmpl.SerialNumber = big.NewInt(serial.Add(1))
	der, err := gostx509.CreateCertificate(nil, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// NewKey makes a GOST key on c.
func NewKey(t testing.TB, c *gost3410.Curve) *gost3410.PrivateKey {
	t.Helper()
	k, err := gost3410.GenerateKey(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// MainTB lets TestMain (where no *testing.T exists yet) use these helpers:
// a failure panics.
type MainTB struct{ testing.TB }

func (MainTB) Helper()                   {}
func (MainTB) Fatal(args ...any)         { panic(fmt.Sprint(args...)) }
func (MainTB) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }
