package esia

import (
	"context"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/streebog"
	"github.com/podpis/podpis/internal/testpki"
)

func benchClient(b *testing.B) (*Client, *gost3410.PrivateKey) {
	now := time.Now()
	ca := testpki.Root(b, gost3410.CurveTC26256A, "CA", now)
	cert, key := ca.Person(b, gost3410.CurveTC26256A, pkix.Name{CommonName: "ООО Подпись"}, now, nil)
	esiaKey, _ := gost3410.GenerateKey(gost3410.CurveCryptoProA, rand.Reader)
	c, err := New(Config{ClientID: "PODPIS01", RedirectURI: "https://id.example.ru/cb", Scope: []string{"openid", "fullname", "snils"},
		Endpoints: Test, Certificate: cert, Key: key, ProviderKey: esiaKey.PublicKey()})
	if err != nil {
		b.Fatal(err)
	}
	return c, esiaKey
}

// BenchmarkBegin: a state, a timestamp and the client_secret (a detached
// CMS with a GOST 256 key in memory) per login started; the exchange signs
// one more.
func BenchmarkBegin(b *testing.B) {
	c, _ := benchClient(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Begin(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckTokens: both of ESIA's GOST-signed tokens verified.
func BenchmarkCheckTokens(b *testing.B) {
	c, k := benchClient(b)
	sign := func(claims map[string]any) string {
		h, _ := json.Marshal(map[string]any{"alg": algGOST256, "typ": "JWT"})
		p, _ := json.Marshal(claims)
		s := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
		d := streebog.Sum256([]byte(s))
		sig, _ := k.Sign(rand.Reader, d[:], nil)
		return s + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	now := time.Now()
	tok := &tokenResponse{
		IDToken: sign(map[string]any{"iss": Test.Issuer, "aud": "PODPIS01", "sub": 1000299654, "exp": now.Add(time.Hour).Unix(), "amr": "PWD"}),
		AccessToken: sign(map[string]any{"iss": Test.Issuer, "client_id": "PODPIS01", "urn:esia:sbj_id": 1000299654,
			"exp": now.Add(time.Hour).Unix()}),
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.checkTokens(tok, now); err != nil {
			b.Fatal(err)
		}
	}
}
