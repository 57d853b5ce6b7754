package verify

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"io"
	"testing"

	"github.com/podpis/podpis/crypto/cms"
	"github.com/podpis/podpis/crypto/gost3410"
	"github.com/podpis/podpis/login"
)

// docSign signs content as a document, with the CAs the agent would add.
func docSign(t testing.TB, cert *x509.Certificate, key *gost3410.PrivateKey, content []byte, detached bool) []byte {
	t.Helper()
	issuersMu.Lock()
	chain := issuers[cert]
	issuersMu.Unlock()
	var out bytes.Buffer
	w, err := cms.NewWriter(&out, cert, key, &cms.SignOptions{SigningTime: testT0, Certificates: chain, Detached: detached})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(content)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func coSign(t testing.TB, msg []byte, content []byte, cert *x509.Certificate, key *gost3410.PrivateKey, ct x509.OID) []byte {
	t.Helper()
	issuersMu.Lock()
	chain := issuers[cert]
	issuersMu.Unlock()
	var out bytes.Buffer
	var given io.Reader
	if content != nil {
		given = bytes.NewReader(content)
	}
	if err := cms.CoSign(&out, bytes.NewReader(msg), given, cert, key, &cms.SignOptions{SigningTime: testT0, Certificates: chain, ContentType: ct}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestVerifyDocumentSigners: a document co-signed by a valid signer and
// by one whose CA is not trusted gets each signer's own verdict, streamed
// attached and detached; the document as a whole is not valid, and
// VerifySignature fails with the failing signer's code.
func TestVerifyDocumentSigners(t *testing.T) {
	p := newTestPKI(t)
	v := newVerifier(t, p, clockAt(testT0))
	ctx := context.Background()
	good, goodKey := p.person(t, gost3410.CurveTC26256A, nil)
	second, secondKey := p.person(t, gost3410.CurveTC26512A, nil)
	stranger := newTestPKI(t)
	foreign, foreignKey := stranger.person(t, gost3410.CurveCryptoProA, nil)
	content := bytes.Repeat([]byte("Доверенность. "), 20000)
	for _, detached := range []bool{false, true} {
		msg := docSign(t, good, goodKey, content, detached)
		var given []byte
		if detached {
			given = content
		}
		both := coSign(t, msg, given, second, secondKey, x509.OID{})
		withForeign := coSign(t, both, given, foreign, foreignKey, x509.OID{})

		verifyDoc := func(m []byte) *Document {
			t.Helper()
			var r io.Reader
			if detached {
				r = bytes.NewReader(content)
			}
			d, err := v.VerifyDocument(ctx, bytes.NewReader(m), r)
			if err != nil {
				t.Fatalf("detached %v: %v", detached, err)
			}
			return d
		}
		d := verifyDoc(both)
		if !d.Valid() || len(d.Signers) != 2 || d.Attached == detached ||
			d.Signers[0].Identity.Thumbprint != login.IdentityOf(good).Thumbprint ||
			d.Signers[1].Identity.Thumbprint != login.IdentityOf(second).Thumbprint {
			t.Fatalf("detached %v: two valid signers: %+v", detached, d)
		}
		d = verifyDoc(withForeign)
		if d.Valid() || len(d.Signers) != 3 || d.Signers[0].Err != nil || d.Signers[1].Err != nil ||
			!errors.Is(d.Signers[2].Err, ErrUntrusted) || d.Signers[2].Identity.Thumbprint != login.IdentityOf(foreign).Thumbprint {
			t.Fatalf("detached %v: third signer from a foreign CA: %+v", detached, d.Signers)
		}
		if _, err := v.VerifySignature(ctx, withForeign, given); !errors.Is(err, ErrUntrusted) {
			t.Fatalf("detached %v: VerifySignature: %v", detached, err)
		}
		if res, err := v.VerifySignature(ctx, both, given); err != nil || res.Identity.Thumbprint != login.IdentityOf(good).Thumbprint {
			t.Fatalf("detached %v: VerifySignature of two valid signers: %v", detached, err)
		}
		// Other content: the message as a whole does not match.
		other := bytes.Clone(content)
		other[len(other)/2] ^= 1
		if detached {
			d, err := v.VerifyDocument(ctx, bytes.NewReader(both), bytes.NewReader(other))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range d.Signers {
				if !errors.Is(s.Err, ErrContentMismatch) {
					t.Fatalf("other content: %v", s.Err)
				}
			}
		} else if _, err := v.VerifyDocument(ctx, bytes.NewReader(both), bytes.NewReader(other)); !errors.Is(err, ErrContentMismatch) {
			t.Fatalf("other content beside attached: %v", err)
		}
	}
	// A detached document without its content is no verdict at all.
	if _, err := v.VerifyDocument(ctx, bytes.NewReader(docSign(t, good, goodKey, content, true)), nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("detached without content: %v", err)
	}
}

// TestCoSignedLoginRefused: a valid login with a second signer added
// (someone's own key, the login type kept) is refused by VerifyLogin,
// which wants exactly one, and does not burn the challenge: the login
// alone still passes once.
func TestCoSignedLoginRefused(t *testing.T) {
	p := newTestPKI(t)
	clock := clockAt(testT0)
	v := newVerifier(t, p, clock)
	ctx := context.Background()
	cert, key := p.person(t, gost3410.CurveTC26256A, nil)
	other, otherKey := p.person(t, gost3410.CurveTC26256B, nil)
	c, err := v.IssueChallenge(ctx, origin)
	if err != nil {
		t.Fatal(err)
	}
	msg := agentSign(t, cert, key, login.NewDocument(origin, c.Value, testT0), testT0, nil)
	co := coSign(t, msg, nil, other, otherKey, login.OID)
	if _, err := v.VerifyLogin(ctx, co, origin); !errors.Is(err, ErrMalformed) {
		t.Fatalf("co-signed login: %v", err)
	}
	if _, err := v.VerifyDocument(ctx, bytes.NewReader(co), nil); !errors.Is(err, ErrWrongPurpose) {
		t.Fatalf("co-signed login as a document: %v", err)
	}
	if _, err := v.VerifyLogin(ctx, msg, origin); err != nil {
		t.Fatalf("the login alone after the co-signed one: %v", err)
	}
}

// TestProfiles: a leaf without keyUsage signs documents (RFC 5280) but no
// login, nor documents under ProfileKeyUsage; ProfileQualified wants the
// qualified subject; a foreign CA is the chain's failure even for a leaf
// whose key usage is wrong too.
func TestProfiles(t *testing.T) {
	p := newTestPKI(t)
	ctx := context.Background()
	noKU, noKUKey := p.person(t, gost3410.CurveTC26256A, func(c *x509.Certificate) { c.KeyUsage = 0 })
	noSNILS, noSNILSKey := p.person(t, gost3410.CurveTC26256A, func(c *x509.Certificate) {
		var kept []pkix.AttributeTypeAndValue
		for _, a := range c.Subject.ExtraNames {
			if !a.Type.Equal(asn1.ObjectIdentifier{1, 2, 643, 100, 3}) {
				kept = append(kept, a)
			}
		}
		c.Subject.ExtraNames = kept
	})
	full, fullKey := p.person(t, gost3410.CurveTC26256A, nil)
	newV := func(docs, logins Profile, roots ...*x509.Certificate) *Verifier {
		if roots == nil {
			roots = []*x509.Certificate{p.root}
		}
		v, err := New(Config{Origins: []string{origin}, Roots: roots, Now: clockAt(testT0).now, Documents: docs, Logins: logins})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	content := []byte("Отчёт")
	docErr := func(v *Verifier, cert *x509.Certificate, key *gost3410.PrivateKey) error {
		_, err := v.VerifySignature(ctx, docSign(t, cert, key, content, false), nil)
		return err
	}
	loginErr := func(v *Verifier, cert *x509.Certificate, key *gost3410.PrivateKey) error {
		c, err := v.IssueChallenge(ctx, origin)
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.VerifyLogin(ctx, agentSign(t, cert, key, login.NewDocument(origin, c.Value, testT0), testT0, nil), origin)
		return err
	}
	stranger := newTestPKI(t)
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"document, no keyUsage, default (RFC 5280)", docErr(newV(0, 0), noKU, noKUKey), nil},
		{"document, no keyUsage, ProfileKeyUsage", docErr(newV(ProfileKeyUsage, 0), noKU, noKUKey), ErrKeyUsage},
		{"login, no keyUsage, default", loginErr(newV(0, 0), noKU, noKUKey), ErrKeyUsage},
		{"login, no keyUsage, RFC 5280 asked", loginErr(newV(0, ProfileRFC5280), noKU, noKUKey), nil},
		{"document, no SNILS, default", docErr(newV(0, 0), noSNILS, noSNILSKey), nil},
		{"document, no SNILS, qualified", docErr(newV(ProfileQualified, 0), noSNILS, noSNILSKey), ErrKeyUsage},
		{"document, full subject, qualified", docErr(newV(ProfileQualified, 0), full, fullKey), nil},
		{"login, no SNILS, qualified", loginErr(newV(0, ProfileQualified), noSNILS, noSNILSKey), ErrKeyUsage},
		{"login, full subject, qualified", loginErr(newV(0, ProfileQualified), full, fullKey), nil},
		{"document, no keyUsage, qualified", docErr(newV(ProfileQualified, 0), noKU, noKUKey), ErrKeyUsage},
		{"document, foreign CA, key usage too", docErr(newV(ProfileKeyUsage, 0, stranger.root), noKU, noKUKey), ErrUntrusted},
		{"login, foreign CA, key usage too", loginErr(newV(0, 0, stranger.root), noKU, noKUKey), ErrUntrusted},
	}
	for _, c := range cases {
		if (c.want == nil) != (c.err == nil) || (c.want != nil && !errors.Is(c.err, c.want)) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
}

// TestUnsupportedAlgorithm: a signer whose digest podpis does not know
// (an unassigned Streebog arc, and GOST R 34.11-94 of the archives until
// it is verified) is UNSUPPORTED_ALGORITHM, not MALFORMED: the message may
// be good to a verifier that knows it.
func TestUnsupportedAlgorithm(t *testing.T) {
	p := newTestPKI(t)
	v := newVerifier(t, p, clockAt(testT0))
	ctx := context.Background()
	cert, key := p.person(t, gost3410.CurveTC26256A, nil)
	msg := docSign(t, cert, key, []byte("Архив"), false)
	streebog256, _ := asn1.Marshal(asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 2, 2})
	for name, oid := range map[string]asn1.ObjectIdentifier{
		"unassigned": {1, 2, 643, 7, 1, 1, 2, 9},
		"unknown":    {1, 2, 643, 7, 1, 9, 2, 2},
	} {
		other, _ := asn1.Marshal(oid)
		if len(other) != len(streebog256) {
			t.Fatal("test OIDs must keep the lengths")
		}
		m := bytes.ReplaceAll(msg, streebog256, other)
		if _, err := v.VerifySignature(ctx, m, nil); !errors.Is(err, ErrUnsupportedAlgorithm) {
			t.Errorf("%s digest: %v", name, err)
		}
		d, err := v.VerifyDocument(ctx, bytes.NewReader(m), nil)
		if err == nil && len(d.Signers) == 1 {
			err = d.Signers[0].Err
		}
		if !errors.Is(err, ErrUnsupportedAlgorithm) {
			t.Errorf("%s digest, streamed: %v", name, err)
		}
	}
}

// TestVerifyDocumentContext: a ctx that ends stops the reading of a
// document (here an endless one) with the ctx's cause, not a verdict.
func TestVerifyDocumentContext(t *testing.T) {
	p := newTestPKI(t)
	v := newVerifier(t, p, clockAt(testT0))
	cert, key := p.person(t, gost3410.CurveTC26256A, nil)
	msg := docSign(t, cert, key, []byte("x"), true)
	cause := errors.New("the person closed the page")
	ctx, cancel := context.WithCancelCause(context.Background())
	endless := &cancelAfter{n: 8 << 20, cancel: func() { cancel(cause) }}
	if _, err := v.VerifyDocument(ctx, bytes.NewReader(msg), endless); !errors.Is(err, cause) {
		t.Fatalf("got %v", err)
	}
}

// cancelAfter yields zeros forever, calling cancel after n bytes.
type cancelAfter struct {
	n      int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	clear(p)
	if c.n -= len(p); c.n < 0 {
		c.cancel()
	}
	return len(p), nil
}
