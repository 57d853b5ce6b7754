package agent

import (
	"context"
	"crypto"
	"errors"
	"testing"

	"github.com/podpis/podpis/agent/keystore"
	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/streebog"
)

// pulling is a key store whose token leaves the reader after pullAfter
// signatures of a batch, and which signs a batch after one PIN.
type pulling struct {
	*fakeStore
	pullAfter int
}

func (p *pulling) Signer(ctx context.Context, id string, pin keystore.PINFunc) (crypto.Signer, error) {
	return &pullingSigner{fakeSigner{p: p.fakeStore, ctx: ctx, pin: pin}, p.pullAfter}, nil
}

type pullingSigner struct {
	fakeSigner
	pullAfter int
}

func (s *pullingSigner) SignDigests(digests [][]byte, opts crypto.SignerOpts) ([][]byte, error) {
	var sigs [][]byte
	var failed error
	err := s.pin(s.ctx, keystore.PINRequest{Token: "fake"}, func(pin []byte, save bool) (keystore.PINRequest, error) {
		for i, d := range digests {
			if i == s.pullAfter {
				failed = keystore.ErrTokenRemoved
				return keystore.PINRequest{}, failed
			}
			sig, err := s.p.key.Sign(nil, d, opts)
			if err != nil {
				return keystore.PINRequest{}, err
			}
			sigs = append(sigs, sig)
		}
		return keystore.PINRequest{}, nil
	})
	if failed != nil {
		return sigs, failed
	}
	return sigs, err
}

// TestBatchTokenPulled: the token leaves after 3 of 7 documents: the 3
// signed come back, each a valid detached CMS of its own document; the 4
// others fail with TOKEN_REMOVED, none with a signature; one question and
// one PIN in all. A digest of the wrong size is refused before anyone is
// asked.
func TestBatchTokenPulled(t *testing.T) {
	store := &pulling{fakeStore: newFakeStore(t), pullAfter: 3}
	person := &recorder{decision: AllowOnce, sign: true}
	a := New(Config{Stores: []keystore.Store{store}, Prompter: person})
	ctx := WithSession(context.Background(), NewSession())
	var docs [][]byte
	var req DigestSignRequest
	req.Certificate = store.cert.ID
	for i := range 7 {
		d := []byte{byte(i), 'd', 'o', 'c'}
		docs = append(docs, d)
		sum := streebog.Sum256(d)
		req.Documents = append(req.Documents, Document{Name: "d", Size: int64(len(d)), Digest: sum[:]})
	}
	res, err := a.SignDigests(ctx, "https://lk.example.ru", req)
	if err != nil {
		t.Fatal(err)
	}
	if len(person.shown) != 1 || len(person.shown[0].Documents) != 7 || len(person.pins) != 1 {
		t.Fatalf("shown %d, %d PINs", len(person.shown), len(person.pins))
	}
	for i, r := range res {
		if i < 3 {
			if r.Err != nil {
				t.Fatalf("document %d: %v", i, r.Err)
			}
			sd, err := cms.Parse(r.CMS)
			if err != nil {
				t.Fatal(err)
			}
			if err := sd.VerifySigner(sd.Signers[0], store.cert.Cert, docs[i]); err != nil {
				t.Fatalf("document %d: %v", i, err)
			}
			continue
		}
		if !errors.Is(r.Err, keystore.ErrTokenRemoved) || r.CMS != nil {
			t.Fatalf("document %d after the token left: %v, %d bytes", i, r.Err, len(r.CMS))
		}
	}

	req.Documents = append(req.Documents, Document{Digest: make([]byte, 64)})
	if _, err := a.SignDigests(ctx, "https://lk.example.ru", req); !errors.Is(err, ErrBadRequest) || len(person.shown) != 1 {
		t.Fatalf("a 64-byte digest for a 256-bit key: %v, shown %d", err, len(person.shown))
	}
}
