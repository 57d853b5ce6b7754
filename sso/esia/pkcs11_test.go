package esia_test

import (
	"bytes"
	"context"
	"crypto"
	"sync/atomic"
	"testing"

	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/agent/keystore/pkcs11"
	"github.com/podpis/podpis/internal/testdeps"
	"github.com/podpis/podpis/internal/testtoken"
	"github.com/podpis/podpis/sso/esia"
	"github.com/podpis/podpis/sso/esia/esiatest"
)

// TestLoginPKCS11: the organisation's key on a token (podpis's soft token,
// through PKCS#11), not in a file: the client_secret it signs passes
// OpenSSL's check at the stand-in, and the login completes. The PIN is
// asked once per signature and never retried.
func TestLoginPKCS11(t *testing.T) {
	testdeps.Need(t, "gcc") // the soft token is a c-shared module
	cert, fileKey := orgKeyFile(t, "Подпись ЕСИА на токене")
	env, err := testtoken.Setup()
	if err != nil {
		t.Fatal(err)
	}
	defer env.Cleanup()
	if err := env.AddToSoftToken("esia-org", fileKey, cert); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store, err := pkcs11.New(ctx, pkcs11.Options{Modules: []string{env.SoftToken}, OnlyModules: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	certs, err := store.Certificates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var id string
	for _, c := range certs {
		if bytes.Equal(c.Cert.Raw, cert.Raw) && c.HasKey {
			id = c.ID
		}
	}
	if id == "" {
		t.Fatalf("the organisation's certificate is not on the token: %d certificates", len(certs))
	}
	var asked atomic.Int32
	var key crypto.Signer
	key, err = store.Signer(ctx, id, keystore.AskOnce(func(context.Context, keystore.PINRequest) ([]byte, bool, error) {
		asked.Add(1)
		return []byte(testtoken.PIN), false, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, isFile := key.(interface{ Bytes() []byte }); isFile {
		t.Fatal("the signer holds the key in memory, not on the token")
	}

	srv := esiatest.New(t, esiatest.Config{ClientID: clientID, RedirectURI: redirectURI, ClientCertificate: cert})
	c, err := esia.New(esia.Config{
		ClientID: clientID, RedirectURI: redirectURI, Scope: []string{"openid", "fullname", "snils"},
		Endpoints: srv.Endpoints(), Certificate: cert, Key: key, ProviderKey: srv.PublicKey(),
	})
	if err != nil {
		t.Fatal(err)
	}
	s := &setup{stand: srv, client: c}
	req, cb := begin(t, s)
	ident, err := c.Finish(ctx, req, cb)
	if err != nil {
		t.Fatal(err)
	}
	if ident.OID == "" || ident.Person.SNILS == "" {
		t.Fatalf("identity %+v", ident)
	}
	// Begin's and the token call's client_secret: one PIN each.
	if n := asked.Load(); n != 2 {
		t.Fatalf("PIN asked %d times for 2 signatures", n)
	}
}
