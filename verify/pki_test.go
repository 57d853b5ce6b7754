package verify

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"sync"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/internal/testpki"
)

// testPKI is a GOST hierarchy made with our own code: a 512-bit root, a
// 256-bit intermediate and people under it.
type testPKI struct {
	root, inter *x509.Certificate
	issuing     *testpki.Issuer
}

var testT0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	root := testpki.Root(t, gost3410.CurveTC26512A, "Тестовый корневой УЦ", testT0)
	issuing := root.SubCA(t, gost3410.CurveTC26256A, "Тестовый УЦ", testT0)
	return &testPKI{root: root.Cert, inter: issuing.Cert, issuing: issuing}
}

// person issues a qualified-looking certificate for a new key on c.
func (p *testPKI) person(t testing.TB, c *gost3410.Curve, edit func(*x509.Certificate)) (*x509.Certificate, *gost3410.PrivateKey) {
	t.Helper()
	cert, key := p.issuing.Person(t, c, pkix.Name{
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
	}, testT0, edit)
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
