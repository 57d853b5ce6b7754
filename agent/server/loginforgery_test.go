package server

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/podpis/podpis/agent"
	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/agent/keystore/pkcs11"
	"github.com/podpis/podpis/agent/wsapi"
	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/internal/testtoken"
	"github.com/podpis/podpis/login"
	"github.com/podpis/podpis/verify"
)

// TestLoginForgeryThroughSign (issue 18, attack 1): a page the agent serves
// without a prompt (trusted, PIN unattended) asks sign for a login document
// of another site with that site's fresh challenge. The agent refuses it in
// every spelling, and a login document signed as data by any means (here
// straight with the token's key) is no login for the victim.
func TestLoginForgeryThroughSign(t *testing.T) {
	defer env.ResetPIN()
	const attacker, victim = "https://evil.example", "https://victim.example"
	h := start(t, headless(attacker))
	c := connect(t, h, attacker, false)
	v, _ := verify.New(verify.Config{Origins: []string{victim}, Roots: []*x509.Certificate{ca.Cert}})
	ctx := context.Background()

	ch, _ := v.IssueChallenge(ctx, victim)
	now := time.Now().UTC().Format(time.RFC3339)
	v1 := fmt.Sprintf(`{"format":"podpis-auth:1","origin":%q,"challenge":%q,"time":%q}`, victim, ch.Value, now)
	v2 := string(login.NewDocument(victim, ch.Value, time.Now()).Marshal())
	for _, data := range []string{v1, v2, "\ufeff" + v1, " \r\n" + v2 + "\n", `{"FORMAT":"Podpis-Auth:2","origin":"x"}`} {
		for _, detached := range []bool{false, true} {
			r := c.call("sign", wsapi.SignParams{Certificate: certID, Data: base64.StdEncoding.EncodeToString([]byte(data)), Detached: detached})
			if r.Error == nil || r.Error.Code != wsapi.BadRequest {
				t.Errorf("sign of %q (detached=%v): %+v", data, detached, r.Error)
			}
			if r.Error == nil {
				var res wsapi.SignResult
				json.Unmarshal(r.Result.(json.RawMessage), &res)
				der, _ := base64.StdEncoding.DecodeString(res.CMS)
				if _, err := v.VerifyLogin(ctx, der, victim); err == nil {
					t.Fatalf("sign of %q made a login for %s", data, victim)
				}
			}
		}
	}

	// By any means: the token's key signs the document as data.
	p, err := pkcs11.New(ctx, pkcs11.Options{Modules: []string{env.SoftToken}, OnlyModules: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	key, err := p.Signer(ctx, certID, keystore.AskOnce(func(context.Context, keystore.PINRequest) ([]byte, bool, error) {
		return []byte(testtoken.PIN), false, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	certs, _ := p.Certificates(ctx)
	var cert *x509.Certificate
	for _, c := range certs {
		if c.ID == certID {
			cert = c.Cert
		}
	}
	for _, doc := range []string{v1, v2} {
		der, err := cms.Sign([]byte(doc), cert, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.VerifyLogin(ctx, der, victim); !errors.Is(err, verify.ErrWrongPurpose) {
			t.Errorf("%s signed as data: %v", doc[:26], err)
		}
	}

	// The victim's own login through authenticate still works, once.
	vc := connect(t, start(t, headless(victim)), victim, false)
	r := vc.call("authenticate", wsapi.AuthenticateParams{Certificate: certID, Challenge: ch.Value})
	var auth wsapi.AuthenticateResult
	if r.Error != nil || json.Unmarshal(r.Result.(json.RawMessage), &auth) != nil {
		t.Fatalf("authenticate: %+v", r.Error)
	}
	der, _ := base64.StdEncoding.DecodeString(auth.CMS)
	if _, err := v.VerifyLogin(ctx, der, victim); err != nil {
		t.Fatalf("the victim's login: %v", err)
	}
}

// TestContentTypes: authenticate signs under id-podpis-login with signed
// attributes, sign under id-data; neither passes for the other.
func TestContentTypes(t *testing.T) {
	defer env.ResetPIN()
	h := start(t, headless(site))
	c := connect(t, h, site, false)
	r := c.call("authenticate", wsapi.AuthenticateParams{Certificate: certID, Challenge: "abc"})
	var auth wsapi.AuthenticateResult
	if r.Error != nil || json.Unmarshal(r.Result.(json.RawMessage), &auth) != nil {
		t.Fatalf("authenticate: %+v", r.Error)
	}
	loginCMS, _ := base64.StdEncoding.DecodeString(auth.CMS)
	sd, err := cms.Parse(loginCMS)
	if err != nil || !sd.ContentType.Equal(login.OID) || !sd.Signers[0].HasSignedAttributes || !sd.Signers[0].AttrContentType.Equal(login.OID) {
		t.Fatalf("login CMS: %v, content type %v", err, sd.ContentType)
	}
	r = c.call("sign", wsapi.SignParams{Certificate: certID, Data: base64.StdEncoding.EncodeToString([]byte("Договор"))})
	var signed wsapi.SignResult
	if r.Error != nil || json.Unmarshal(r.Result.(json.RawMessage), &signed) != nil {
		t.Fatalf("sign: %+v", r.Error)
	}
	doc, _ := base64.StdEncoding.DecodeString(signed.CMS)
	if sd, err := cms.Parse(doc); err != nil || !sd.ContentType.Equal(cms.OIDData) {
		t.Fatalf("document CMS: %v", err)
	}
	v, _ := verify.New(verify.Config{Origins: []string{site}, Roots: []*x509.Certificate{ca.Cert}})
	if _, err := v.VerifySignature(context.Background(), loginCMS, nil); !errors.Is(err, verify.ErrWrongPurpose) {
		t.Fatalf("login as a document: %v", err)
	}
	if _, err := v.VerifyLogin(context.Background(), doc, site); !errors.Is(err, verify.ErrWrongPurpose) {
		t.Fatalf("document as a login: %v", err)
	}
	if !errors.Is(agent.ErrLoginDocument, agent.ErrBadRequest) {
		t.Fatal("ErrLoginDocument is not a bad request")
	}
}
