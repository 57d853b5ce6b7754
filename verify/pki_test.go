package verify

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
)

// testPKI is a GOST hierarchy made with our own code: a 512-bit root, a
// 256-bit intermediate and leaves under it.
type testPKI struct {
	root, inter       *x509.Certificate
	rootKey, interKey crypto.Signer
	serial            int64
}

var testT0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	p := &testPKI{serial: 1}
	rk, _ := gost3410.GenerateKey(gost3410.CurveTC26512A, nil)
	ik, _ := gost3410.GenerateKey(gost3410.CurveTC26256A, nil)
	p.rootKey, p.interKey = rk, ik
	p.root = p.cert(t, caTemplate("Тестовый корневой УЦ"), nil, rk.Public(), rk)
	p.inter = p.cert(t, caTemplate("Тестовый УЦ"), p.root, ik.Public(), rk)
	return p
}

func caTemplate(cn string) *x509.Certificate {
	return &x509.Certificate{
		Subject:   pkix.Name{CommonName: cn, Organization: []string{"podpis"}},
		NotBefore: testT0.AddDate(-1, 0, 0), NotAfter: testT0.AddDate(5, 0, 0),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
}

func (p *testPKI) cert(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) *x509.Certificate {
	t.Helper()
	p.serial++
	tmpl.SerialNumber = big.NewInt(p.serial)
	if parent == nil {
		parent = tmpl
	}
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

// person issues a qualified-looking certificate for a new key on c.
func (p *testPKI) person(t testing.TB, c *gost3410.Curve, edit func(*x509.Certificate)) (*x509.Certificate, *gost3410.PrivateKey) {
	t.Helper()
	key, _ := gost3410.GenerateKey(c, nil)
	tmpl := &x509.Certificate{
		Subject: pkix.Name{
			CommonName: "Иванов Иван Иванович", Organization: []string{"ООО «Ромашка»"},
			ExtraNames: []pkix.AttributeTypeAndValue{
				{Type: asn1.ObjectIdentifier{2, 5, 4, 4}, Value: "Иванов"},
				{Type: asn1.ObjectIdentifier{2, 5, 4, 42}, Value: "Иван Иванович"},
				{Type: asn1.ObjectIdentifier{2, 5, 4, 12}, Value: "Генеральный директор"},
				{Type: asn1.ObjectIdentifier{1, 2, 643, 100, 3}, Value: "12345678901"},
				{Type: asn1.ObjectIdentifier{1, 2, 643, 3, 131, 1, 1}, Value: "771234567890"},
				{Type: asn1.ObjectIdentifier{1, 2, 643, 100, 4}, Value: "7712345678"},
				{Type: asn1.ObjectIdentifier{1, 2, 643, 100, 1}, Value: "1027700000000"},
				{Type: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}, Value: "ivanov@example.ru"},
			},
		},
		NotBefore: testT0.AddDate(0, -1, 0), NotAfter: testT0.AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	}
	if edit != nil {
		edit(tmpl)
	}
	cert := p.cert(t, tmpl, p.inter, key.Public(), p.interKey)
	issuersMu.Lock()
	issuers[cert] = []*x509.Certificate{p.inter}
	issuersMu.Unlock()
	return cert, key
}

// issuers maps a test person's certificate to the CAs the agent would add.
var (
	issuersMu sync.Mutex
	issuers   = map[*x509.Certificate][]*x509.Certificate{}
)
