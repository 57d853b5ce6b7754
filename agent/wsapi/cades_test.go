package wsapi

import (
	"context"
	"crypto"
	"crypto/sha1"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/cades"
	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/crypto/tsp"
	"github.com/podpis/podpis/internal/testpki"
	"github.com/podpis/podpis/internal/testtsa"
)

// oneKey is a key store holding one GOST key in memory.
type oneKey struct {
	cert *keystore.Certificate
	key  crypto.Signer
}

func (s *oneKey) Name() string { return "memory" }
func (s *oneKey) Certificates(context.Context) ([]*keystore.Certificate, error) {
	return []*keystore.Certificate{s.cert}, nil
}
func (s *oneKey) Signer(ctx context.Context, id string, pin keystore.PINFunc) (crypto.Signer, error) {
	if id != s.cert.ID {
		return nil, keystore.ErrCertNotFound
	}
	return s.key, nil
}
func (s *oneKey) Close() error { return nil }

// approver approves everything and counts the signatures it approved.
type approver struct{ signs int }

func (*approver) ConfirmOrigin(context.Context, string) (agent.Decision, error) {
	return agent.AllowOnce, nil
}
func (a *approver) ConfirmSign(context.Context, string, *keystore.Certificate, agent.SignSummary) (bool, error) {
	a.signs++
	return true, nil
}
func (*approver) PIN(context.Context, string, keystore.PINRequest) ([]byte, bool, error) {
	return []byte("1234"), false, nil
}

// TestSignCAdES: sign with cades and tsa returns a CAdES-T whose token
// covers the signature; the site's rule in the configuration wins over
// the page's TSA; a TSA that is down is TSA_UNAVAILABLE, one that answers
// garbage TSA_BAD_RESPONSE, never a CAdES-BES; a TSA address that is not
// http(s), or a form it cannot make, is BAD_REQUEST before the person is
// asked anything.
func TestSignCAdES(t *testing.T) {
	now := time.Now()
	root := testpki.Root(t, gost3410.CurveTC26256A, "УЦ", now)
	cert, key := root.Person(t, gost3410.CurveTC26256A, pkix.Name{CommonName: "Иванов Иван"}, now, nil)
	id := fmt.Sprintf("%x", sha1.Sum(cert.Raw))
	store := &oneKey{cert: &keystore.Certificate{ID: id, Cert: cert, HasKey: true, Token: "память"}, key: key}
	tsa := testtsa.Start(t, testtsa.GOST256)
	pinned := testtsa.Start(t, testtsa.GOST256)
	person := &approver{}
	const site, pinnedSite = "https://lk.example.ru", "https://fns.example.ru"
	a := agent.New(agent.Config{Stores: []keystore.Store{store}, Prompter: person, PromptsPerMinute: 1000,
		Timestamping: func(origin string) string {
			if origin == pinnedSite {
				return pinned.URL
			}
			return ""
		}})
	api := New(a)
	data := base64.StdEncoding.EncodeToString([]byte("Платёжное поручение № 7"))
	send := func(origin, extra string) *Response {
		c := api.NewConn(origin, Limits{})
		defer c.Close()
		call, r := c.Receive([]byte(fmt.Sprintf(`{"id":1,"method":"sign","params":{"certificate":%q,"data":%q,"detached":true%s}}`, id, data, extra)))
		if call == nil {
			return r
		}
		res, _ := call.Run()
		return &res
	}
	stamped := func(r *Response) *tsp.Token {
		t.Helper()
		if r.Error != nil {
			t.Fatalf("sign: %+v", r.Error)
		}
		der, _ := base64.StdEncoding.DecodeString(r.Result.(SignResult).CMS)
		sd, err := cms.Parse(der)
		if err != nil {
			t.Fatal(err)
		}
		stamps := sd.Signers[0].Unsigned(cades.OIDSignatureTimeStamp)
		if len(stamps) != 1 {
			t.Fatalf("%d signature-time-stamps", len(stamps))
		}
		tok, err := tsp.ParseToken(stamps[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := tok.Covers(sd.Signers[0].Signature); err != nil {
			t.Fatal(err)
		}
		return tok
	}

	tok := stamped(send(site, fmt.Sprintf(`,"cades":"t","tsa":%q`, tsa.URL)))
	if !tok.Certificates()[0].Equal(tsa.Cert) {
		t.Fatal("not the page's TSA")
	}
	hits := tsa.Hits.Load()
	tok = stamped(send(pinnedSite, fmt.Sprintf(`,"cades":"t","tsa":%q`, tsa.URL)))
	if !tok.Certificates()[0].Equal(pinned.Cert) || tsa.Hits.Load() != hits {
		t.Fatal("the site's rule did not win over the page's TSA")
	}
	// The rule alone is enough.
	stamped(send(pinnedSite, `,"cades":"t"`))

	signs := person.signs
	for _, c := range []struct {
		origin, extra string
		want          Code
	}{
		{site, `,"cades":"t"`, BadRequest},
		{site, `,"cades":"a","tsa":"` + tsa.URL + `"`, BadRequest},
		{site, `,"cades":"t","tsa":"file:///etc/passwd"`, BadRequest},
		{site, `,"tsa":"gopher://tsa.example/"`, BadRequest},
	} {
		if r := send(c.origin, c.extra); r.Error == nil || r.Error.Code != c.want {
			t.Errorf("%s: %+v, want %s", c.extra, r, c.want)
		}
	}
	if person.signs != signs {
		t.Fatal("a request refused for its TSA was shown to the person")
	}

	tsa.Down.Store(true)
	if r := send(site, fmt.Sprintf(`,"cades":"t","tsa":%q`, tsa.URL)); r.Error == nil || r.Error.Code != TSAUnavailable {
		t.Fatalf("TSA down: %+v", r.Error)
	}
	tsa.Down.Store(false)
	tsa.Tamper = func(q []byte) []byte { return []byte("not a query") }
	if r := send(site, fmt.Sprintf(`,"cades":"t","tsa":%q`, tsa.URL)); r.Error == nil || r.Error.Code != TSAUnavailable && r.Error.Code != TSABadResponse {
		t.Fatalf("TSA answering garbage: %+v", r)
	}
	tsa.Tamper = nil
	// The certificate names no CRL or OCSP: no X Long, and it says why.
	if r := send(site, fmt.Sprintf(`,"cades":"xl1","tsa":%q`, tsa.URL)); r.Error == nil || r.Error.Code != RevocationUnavailable {
		t.Fatalf("X Long without revocation sources: %+v", r)
	}
}
