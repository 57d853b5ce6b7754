package verify_test

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/login"
	"github.com/podpis/podpis/verify"
)

// Example shows a login server: issue a challenge for the page, then check
// what the agent signed. roots would be the qualified root CAs you trust
// and intermediates the issuing CAs under them (agents do not always send
// them); here a test PKI and a simulated agent stand in for them.
func Example() {
	roots, intermediates, agent := testCAAndAgent()
	const site = "https://lk.example.ru"

	// One server. For several behind a balancer, give each the same
	// ChallengeKey (32 random bytes from your secrets) and a shared Store
	// (redisstore.New). Revocation is checked (policy prefer) unless
	// Revocation is verify.RevocationOff.
	v, err := verify.New(verify.Config{
		Origins:       []string{site}, // logins for any other site are refused
		Roots:         roots,
		Intermediates: intermediates,
	})
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

	// The page asks the agent to sign it and posts the CMS back, in
	// base64 as podpis.js returns it.
	posted := agent(site, challenge.Value)

	// POST /login: decode, verify, then start a session for res.Identity.
	signed, err := base64.StdEncoding.DecodeString(posted)
	if err != nil {
		fmt.Println("отказ:", verify.CodeMalformed, verify.CodeMalformed.MessageRU())
		return
	}
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

// testCAAndAgent makes a GOST test root, an issuing CA under it and a
// person's key, and returns the root, the issuing CA and a function that
// signs like the podpis agent does (without the issuing CA in the message).
func testCAAndAgent() (roots, intermediates []*x509.Certificate, agent func(origin, challenge string) string) {
	now := time.Now()
	rootKey, _ := gost3410.GenerateKey(gost3410.CurveTC26512A, nil)
	rootT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Тестовый корневой УЦ"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	rootDER, _ := gostx509.CreateCertificate(nil, rootT, rootT, rootKey.Public(), rootKey)
	root, _ := x509.ParseCertificate(rootDER)
	caKey, _ := gost3410.GenerateKey(gost3410.CurveTC26256A, nil)
	caDER, _ := gostx509.CreateCertificate(nil, &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "Тестовый УЦ"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}, root, caKey.Public(), rootKey)
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := gost3410.GenerateKey(gost3410.CurveTC26256A, nil)
	leafDER, _ := gostx509.CreateCertificate(nil, &x509.Certificate{SerialNumber: big.NewInt(2),
		Subject: pkix.Name{CommonName: "Иванов Иван Иванович",
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{1, 2, 643, 100, 3}, Value: "12345678901"}}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature}, ca, key.Public(), caKey)
	leaf, _ := x509.ParseCertificate(leafDER)
	return []*x509.Certificate{root}, []*x509.Certificate{ca}, func(origin, challenge string) string {
		doc := login.NewDocument(origin, challenge, time.Now())
		// A login is signed under its own content type, never as data.
		der, _ := cms.Sign(doc.Marshal(), leaf, key, &cms.SignOptions{ContentType: login.OID})
		return base64.StdEncoding.EncodeToString(der)
	}
}
