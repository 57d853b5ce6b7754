package agent

import (
	"context"
	"errors"
	"testing"

	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/login"
)

// TestLoginDocumentOrigin: the agent's side of the login contract. It
// signs, under login.OID, a login.Document for the origin as
// login.NormalizeOrigin spells it, whatever spelling the browser used (so
// verify, which reads origins by the same rule, names the same site), and
// refuses, before asking anyone, every origin that rule refuses (verify's
// TestOriginsRefusedAsTheAgentRefuses holds the same list).
func TestLoginDocumentOrigin(t *testing.T) {
	p := newFakeStore(t)
	person := &recorder{decision: AllowOnce}
	a := New(Config{Stores: []keystore.Store{p}, Prompter: person})
	ctx := WithSession(context.Background(), NewSession())
	der, _, err := a.Authenticate(ctx, "https://LK.example.ru:443", p.cert.ID, "the-challenge")
	if err != nil {
		t.Fatal(err)
	}
	sd, err := cms.Parse(der)
	if err != nil || !sd.ContentType.Equal(login.OID) {
		t.Fatalf("login CMS: %v, content type %v", err, sd.ContentType)
	}
	doc, _, err := login.ParseDocument(sd.Content)
	if err != nil || doc.Origin != "https://lk.example.ru" || doc.Challenge != "the-challenge" {
		t.Fatalf("signed %+v, %v", doc, err)
	}
	opened := person.opened.Load()
	for _, o := range []string{
		"http://lk.example.ru", "http://localhost:8080", "http://127.0.0.2", "http://192.168.1.1",
		"ftp://lk.example.ru", "null", "", "https://user@lk.example.ru", "https://lk.example.ru/path",
		"https://lk.example.ru?q", "file:///etc/passwd", "chrome-extension://abcdef",
	} {
		if _, _, err := a.Authenticate(ctx, o, p.cert.ID, "c"); !errors.Is(err, ErrOriginDenied) {
			t.Errorf("Authenticate for %q: %v", o, err)
		}
	}
	if n := person.opened.Load(); n != opened {
		t.Fatalf("refused origins asked the person %d times", n-opened)
	}
}
