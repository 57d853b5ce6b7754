package gostx509

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/podpis/podpis/crypto/gost3410"
)

var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

type issued struct {
	cert *x509.Certificate
	key  crypto.Signer
}

var serial int64 = 100

// issue makes a certificate for a fresh key on curve c (nil: RSA) signed by
// parent (nil: self-signed), after edit adjusts the template.
func issue(t *testing.T, c *gost3410.Curve, name string, parent *issued, edit func(*x509.Certificate)) *issued {
	t.Helper()
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    t0.Add(-24 * time.Hour),
		NotAfter:     t0.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	}
	if edit != nil {
		edit(tmpl)
	}
	var key crypto.Signer
	if c != nil {
		key, _ = gost3410.GenerateKey(c, nil)
	} else {
		key, _ = rsa.GenerateKey(rand.Reader, 2048)
	}
	signer, parentCert := key, tmpl
	if parent != nil {
		signer, parentCert = parent.key, parent.cert
	}
	var der []byte
	var err error
	_, gostSigner := signer.Public().(*gost3410.PublicKey)
	if _, gostSubject := key.Public().(*gost3410.PublicKey); gostSigner || gostSubject {
		der, err = CreateCertificate(nil, tmpl, parentCert, key.Public(), signer)
	} else {
		der, err = x509.CreateCertificate(rand.Reader, tmpl, parentCert, key.Public(), signer)
	}
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &issued{cert, key}
}

func ca(maxPathLen int) func(*x509.Certificate) {
	return func(c *x509.Certificate) {
		c.IsCA, c.BasicConstraintsValid = true, true
		c.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		c.MaxPathLen = maxPathLen
		c.MaxPathLenZero = maxPathLen == 0
		c.NotBefore, c.NotAfter = t0.Add(-365*24*time.Hour), t0.Add(365*24*time.Hour)
	}
}

type rejectAll struct{}

func (rejectAll) CheckRevocation([]*x509.Certificate, time.Time) error { return errors.New("revoked") }

func TestVerifyChain(t *testing.T) {
	root := issue(t, gost3410.CurveTC26512A, "Root", nil, ca(-1))
	inter := issue(t, gost3410.CurveTC26256A, "Intermediate", root, ca(0))
	leaf := issue(t, gost3410.CurveCryptoProA, "Leaf", inter, func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		policy, _ := x509.OIDFromInts([]uint64{1, 2, 643, 100, 113, 1})
		c.Policies = []x509.OID{policy}
	})
	otherRoot := issue(t, gost3410.CurveTC26256A, "Root", nil, ca(-1)) // same name, other key
	notCA := issue(t, gost3410.CurveTC26256A, "Not a CA", root, nil)
	underNotCA := issue(t, gost3410.CurveTC26256A, "Under a non-CA", notCA, nil)
	inter2 := issue(t, gost3410.CurveTC26256A, "Second level", inter, ca(-1)) // inter has pathLen 0
	tooDeep := issue(t, gost3410.CurveTC26256A, "Too deep", inter2, nil)
	noDS := issue(t, gost3410.CurveTC26256A, "Encipherment only", inter, func(c *x509.Certificate) {
		c.KeyUsage = x509.KeyUsageKeyEncipherment
	})
	noKU := issue(t, gost3410.CurveTC26256A, "v1-like, no keyUsage", inter, func(c *x509.Certificate) { c.KeyUsage = 0 })
	rsaRoot := issue(t, nil, "RSA root", nil, ca(-1))
	rsaLeaf := issue(t, nil, "RSA leaf", rsaRoot, nil)
	gostUnderRSA := issue(t, gost3410.CurveTC26256B, "GOST under RSA", rsaRoot, nil)

	base := ChainOptions{Roots: []*x509.Certificate{root.cert, rsaRoot.cert}, Intermediates: []*x509.Certificate{inter.cert, notCA.cert, inter2.cert}, At: t0}
	with := func(edit func(*ChainOptions)) ChainOptions {
		o := base
		edit(&o)
		return o
	}
	cases := []struct {
		name string
		leaf *x509.Certificate
		opts ChainOptions
		want error
		len  int
	}{
		{"valid", leaf.cert, base, nil, 3},
		{"valid with EKU and policy", leaf.cert, with(func(o *ChainOptions) {
			o.ExtKeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
			o.Policies = []asn1.ObjectIdentifier{{1, 2, 643, 100, 113, 1}}
		}), nil, 3},
		{"RSA chain", rsaLeaf.cert, base, nil, 2},
		{"GOST leaf under an RSA root", gostUnderRSA.cert, base, nil, 2},
		{"leaf expired", leaf.cert, with(func(o *ChainOptions) { o.At = t0.Add(48 * time.Hour) }), ErrExpired, 0},
		{"leaf not yet valid", leaf.cert, with(func(o *ChainOptions) { o.At = t0.Add(-48 * time.Hour) }), ErrNotYetValid, 0},
		{"unrelated root of the same name", leaf.cert, with(func(o *ChainOptions) { o.Roots = []*x509.Certificate{otherRoot.cert} }), ErrUntrusted, 0},
		{"no intermediate", leaf.cert, with(func(o *ChainOptions) { o.Intermediates = nil }), ErrUntrusted, 0},
		{"issuer is not a CA", underNotCA.cert, base, ErrNotCA, 0},
		{"path length", tooDeep.cert, base, ErrPathLength, 0},
		{"leaf without digitalSignature", noDS.cert, base, ErrKeyUsage, 0},
		{"leaf without keyUsage", noKU.cert, base, ErrKeyUsage, 0},
		{"leaf without keyUsage, RFC 5280 allows it", noKU.cert, with(func(o *ChainOptions) { o.AllowNoKeyUsage = true }), nil, 3},
		{"leaf without digitalSignature, RFC 5280 or not", noDS.cert, with(func(o *ChainOptions) { o.AllowNoKeyUsage = true }), ErrKeyUsage, 0},
		// The chain is judged first: a foreign CA is the chain's failure,
		// whatever the leaf's key usage.
		{"foreign CA and no digitalSignature", noDS.cert, with(func(o *ChainOptions) { o.Roots = []*x509.Certificate{otherRoot.cert} }), ErrUntrusted, 0},
		{"foreign CA and no keyUsage", noKU.cert, with(func(o *ChainOptions) { o.Roots = []*x509.Certificate{otherRoot.cert} }), ErrUntrusted, 0},
		{"EKU required", rsaLeaf.cert, with(func(o *ChainOptions) { o.ExtKeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth} }), ErrKeyUsage, 0},
		{"policy required", rsaLeaf.cert, with(func(o *ChainOptions) { o.Policies = []asn1.ObjectIdentifier{{1, 2, 3}} }), ErrPolicy, 0},
		{"revocation hook", leaf.cert, with(func(o *ChainOptions) { o.Revocation = rejectAll{} }), ErrRevokedOrUnsure, 0},
	}
	v := &ChainVerifier{}
	for _, c := range cases {
		for pass := 0; pass < 2; pass++ { // the second pass uses remembered links
			chain, err := v.VerifyChain(c.leaf, c.opts)
			if !errors.Is(err, c.want) || (c.want == nil && len(chain) != c.len) {
				t.Errorf("%s (pass %d): chain of %d, %v; want %v", c.name, pass, len(chain), err, c.want)
			}
		}
	}
}

// TestChainLoop: two CAs that issued each other and no trusted root must
// end in ErrUntrusted, not loop.
func TestChainLoop(t *testing.T) {
	a := issue(t, gost3410.CurveTC26256A, "A", nil, ca(-1))
	b := issue(t, gost3410.CurveTC26256A, "B", a, ca(-1))
	aByB := issue(t, gost3410.CurveTC26256A, "A", b, ca(-1))
	leaf := issue(t, gost3410.CurveTC26256A, "leaf", b, nil)
	unrelated := issue(t, gost3410.CurveTC26256A, "Z", nil, ca(-1))
	_, err := (&ChainVerifier{}).VerifyChain(leaf.cert, ChainOptions{
		Roots: []*x509.Certificate{unrelated.cert}, Intermediates: []*x509.Certificate{a.cert, b.cert, aByB.cert}, At: t0,
	})
	if !errors.Is(err, ErrUntrusted) {
		t.Fatalf("got %v", err)
	}
}
