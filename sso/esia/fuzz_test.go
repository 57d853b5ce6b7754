package esia

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/streebog"
)

// FuzzVerifyJWT: a token from the network never panics the check, and
// one it accepts has ESIA's signature over its first two parts and ESIA
// as issuer.
func FuzzVerifyJWT(f *testing.F) {
	k, _ := gost3410.GenerateKey(gost3410.CurveCryptoProA, rand.Reader)
	c := &Client{cfg: Config{ProviderKey: k.PublicKey(), Endpoints: Test}, alg: algGOST256}
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"GOST3410_2012_256"}`))
	p, _ := json.Marshal(map[string]any{"iss": Test.Issuer, "exp": time.Now().Add(time.Hour).Unix()})
	signed := h + "." + base64.RawURLEncoding.EncodeToString(p)
	d := streebog.Sum256([]byte(signed))
	sig, _ := k.Sign(rand.Reader, d[:], nil)
	f.Add(signed + "." + base64.RawURLEncoding.EncodeToString(sig))
	f.Add(signed + ".")
	f.Add("e30.e30.e30")
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + base64.RawURLEncoding.EncodeToString(p) + ".")
	f.Fuzz(func(t *testing.T, token string) {
		claims, err := c.verifyJWT(token, time.Now())
		if err != nil {
			return
		}
		parts := strings.Split(token, ".")
		raw, _ := base64.RawURLEncoding.DecodeString(parts[2])
		d := streebog.Sum256([]byte(parts[0] + "." + parts[1]))
		if !k.PublicKey().Verify(d[:], raw) || claims["iss"] != Test.Issuer {
			t.Fatalf("accepted %q", token)
		}
	})
}
