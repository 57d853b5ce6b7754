package verify_test

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/verify"
)

// Example shows a login server: issue a challenge for the page, then check
// what the agent signed. roots would be the qualified CAs you trust; here a
// test CA and a simulated agent stand in for them.
func Example() {
	roots, agent := testCAAndAgent()
	const site = "https://lk.example.ru"

	// One server. For several behind a balancer, give each the same
	// ChallengeKey (32 random bytes from your secrets) and a shared Store
	// (redisstore.New).
	v, err := verify.New(verify.Config{Roots: roots})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	// GET /login/challenge: hand the page a fresh challenge. Nothing is
	// stored: the value carries its expiry and origin under a MAC.
	challenge, err := v.IssueChallenge(ctx, site)
	if err != nil {
		panic(err)
	}

	// The page asks the agent to sign it and posts the CMS back.
	signed := agent(site, challenge.Value)

	// POST /login: verify, then start a session for res.Identity.
	res, err := v.VerifyLogin(ctx, signed, site)
	if err != nil {
		var e *verify.Error
		if errors.As(err, &e) {
			fmt.Println("отказ:", e.Code, e.Code.MessageRU())
		}
		return
	}
	fmt.Println("Вы вошли как", res.Identity.CommonName+", СНИЛС", res.Identity.SNILS)

	// The same message again is refused.
	_, err = v.VerifyLogin(ctx, signed, site)
	fmt.Println(errors.Is(err, verify.ErrChallengeReplayed))
	// Output:
	// Вы вошли как Иванов Иван Иванович, СНИЛС 12345678901
	// true
}

// testCAAndAgent makes a GOST test CA and a person's key, and returns the
// root and a function that signs like the podpis agent does.
func testCAAndAgent() ([]*x509.Certificate, func(origin, challenge string) []byte) {
	now := time.Now()
	caKey, _ := gost3410.GenerateKey(gost3410.CurveTC26512A, nil)
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Тестовый УЦ"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, _ := gostx509.CreateCertificate(nil, caT, caT, caKey.Public(), caKey)
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := gost3410.GenerateKey(gost3410.CurveTC26256A, nil)
	leafDER, _ := gostx509.CreateCertificate(nil, &x509.Certificate{SerialNumber: big.NewInt(2),
		Subject: pkix.Name{CommonName: "Иванов Иван Иванович",
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{1, 2, 643, 100, 3}, Value: "12345678901"}}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature}, ca, key.Public(), caKey)
	leaf, _ := x509.ParseCertificate(leafDER)
	return []*x509.Certificate{ca}, func(origin, challenge string) []byte {
		doc := verify.NewAuthDocument(origin, challenge, time.Now())
		// A login is signed under its own content type, never as data.
		der, _ := cms.Sign(doc.Marshal(), leaf, key, &cms.SignOptions{ContentType: verify.OIDLogin})
		return der
	}
}
