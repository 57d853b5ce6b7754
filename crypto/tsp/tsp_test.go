package tsp_test

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/gostx509"
	"github.com/podpis/podpis/crypto/tsp"
	"github.com/podpis/podpis/internal/testtsa"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// TestStampOpenSSL asks OpenSSL's TSA (GOST of both sizes, RSA) for tokens
// under each imprint algorithm, checks them with our code and with
// `openssl ts -verify`.
func TestStampOpenSSL(t *testing.T) {
	for _, kind := range []testtsa.Kind{testtsa.GOST256, testtsa.GOST512, testtsa.RSA} {
		t.Run(string(kind), func(t *testing.T) {
			s := testtsa.Start(t, kind)
			for _, digest := range []asn1.ObjectIdentifier{gostx509.OIDStreebog256, gostx509.OIDStreebog512, tsp.SHA256} {
				data := []byte("подпись " + digest.String())
				tok, err := (&tsp.Client{URL: s.URL, Verify: tsp.VerifyOptions{Roots: roots(s)}}).Stamp(context.Background(), digest, data)
				if err != nil {
					t.Fatalf("%v: %v", digest, err)
				}
				if err := tok.Covers(data); err != nil {
					t.Fatal(err)
				}
				if err := tok.Covers([]byte("другое")); !errors.Is(err, tsp.ErrImprint) {
					t.Fatalf("a token over other data: %v, want ErrImprint", err)
				}
				if d := time.Since(tok.Info.GenTime); d < -time.Minute || d > time.Minute {
					t.Fatalf("genTime %v", tok.Info.GenTime)
				}
				if tok.Info.Policy.String() != testtsa.Policy || tok.TSAName() == "" {
					t.Fatalf("policy %v, TSA %q", tok.Info.Policy, tok.TSAName())
				}
				if err := s.Verify(tok.Raw, data); err != nil {
					t.Fatalf("openssl ts -verify: %v", err)
				}
			}
		})
	}
}

func roots(s *testtsa.TSA) []*x509.Certificate { return []*x509.Certificate{s.Root} }

// TestStampRefused attacks the client: each case is a TSA answer it must
// not take for a token over our data.
func TestStampRefused(t *testing.T) {
	s := testtsa.Start(t, testtsa.GOST256)
	other := testtsa.Start(t, testtsa.GOST256)
	ctx := context.Background()
	cases := []struct {
		name   string
		client *tsp.Client
		tamper func([]byte) []byte
		down   bool
		want   error
	}{
		{name: "nonce changed", tamper: func(q []byte) []byte { return rewriteQuery(q, "nonce") }, want: tsp.ErrBadResponse},
		{name: "imprint changed", tamper: func(q []byte) []byte { return rewriteQuery(q, "imprint") }, want: tsp.ErrBadResponse},
		{name: "untrusted TSA", client: &tsp.Client{URL: s.URL, Verify: tsp.VerifyOptions{Roots: roots(other)}}, want: tsp.ErrUntrusted},
		{name: "policy dropped", client: &tsp.Client{URL: s.URL, Policy: asn1.ObjectIdentifier{1, 2, 3, 4, 5}},
			tamper: func(q []byte) []byte { return rewriteQuery(q, "policy") }, want: tsp.ErrBadResponse},
		{name: "policy not offered", client: &tsp.Client{URL: s.URL, Policy: asn1.ObjectIdentifier{1, 2, 9}}, want: tsp.ErrBadResponse},
		{name: "down", down: true, want: tsp.ErrUnavailable},
		{name: "redirected", client: &tsp.Client{URL: redirect(t, s.URL)}, want: tsp.ErrUnavailable},
		{name: "not http", client: &tsp.Client{URL: "file:///etc/passwd"}, want: nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s.Tamper = c.tamper
			s.Down.Store(c.down)
			defer func() { s.Tamper = nil; s.Down.Store(false) }()
			cl := c.client
			if cl == nil {
				cl = &tsp.Client{URL: s.URL, Verify: tsp.VerifyOptions{Roots: roots(s)}}
			}
			tok, err := cl.Stamp(ctx, gostx509.OIDStreebog256, []byte("данные"))
			if err == nil {
				t.Fatalf("accepted: %+v", tok.Info)
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("%v, want %v", err, c.want)
			}
		})
	}
	// policy 1.2.3.4.5 is one the TSA offers: asked for, it is granted.
	if _, err := (&tsp.Client{URL: s.URL, Policy: asn1.ObjectIdentifier{1, 2, 3, 4, 5}}).Stamp(ctx, gostx509.OIDStreebog256, []byte("x")); err != nil {
		t.Fatalf("an offered policy: %v", err)
	}
}

// rewriteQuery changes the nonce or the imprint of a TimeStampReq, or
// drops its policy: the TSA then answers a question we did not ask.
func rewriteQuery(q []byte, what string) []byte {
	in := cryptobyte.String(q)
	var body, mi, alg cryptobyte.String
	var version int64
	var hashed []byte
	nonce := new(big.Int)
	in.ReadASN1(&body, cbasn1.SEQUENCE)
	body.ReadASN1Int64WithTag(&version, cbasn1.INTEGER)
	body.ReadASN1(&mi, cbasn1.SEQUENCE)
	mi.ReadASN1Element(&alg, cbasn1.SEQUENCE)
	mi.ReadASN1Bytes(&hashed, cbasn1.OCTET_STRING)
	body.SkipOptionalASN1(cbasn1.OBJECT_IDENTIFIER) // reqPolicy, dropped
	body.ReadASN1Integer(nonce)
	switch what {
	case "imprint":
		hashed = append([]byte{}, hashed...)
		hashed[0] ^= 1
	case "nonce":
		nonce.Add(nonce, big.NewInt(1))
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(version)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddBytes(alg)
			b.AddASN1OctetString(hashed)
		})
		b.AddASN1BigInt(nonce)
		b.AddASN1Boolean(true)
	})
	return b.BytesOrPanic()
}

// redirect serves a permanent redirect to to.
func redirect(t *testing.T, to string) string {
	srv := httptest.NewServer(http.RedirectHandler(to, http.StatusPermanentRedirect))
	t.Cleanup(srv.Close)
	return srv.URL
}
