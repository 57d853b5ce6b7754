package gostx509

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Chain errors, for errors.Is. When several paths fail, the error of the
// path that got furthest is returned.
var (
	ErrUntrusted       = errors.New("gostx509: no path to a trusted root")
	ErrExpired         = errors.New("gostx509: certificate expired")
	ErrNotYetValid     = errors.New("gostx509: certificate not yet valid")
	ErrKeyUsage        = errors.New("gostx509: key usage does not permit this use")
	ErrNotCA           = errors.New("gostx509: issuer is not a CA")
	ErrPathLength      = errors.New("gostx509: path length constraint exceeded")
	ErrCertSignature   = errors.New("gostx509: certificate signature does not verify")
	ErrPolicy          = errors.New("gostx509: required certificate policy missing")
	ErrRevokedOrUnsure = errors.New("gostx509: revocation check failed")
)

// maxChainDepth bounds path building: Russian qualified PKI is root →
// (sometimes one more CA) → issuing CA → person.
const maxChainDepth = 8

// RevocationChecker is the seam for CRL and OCSP checks: it sees each
// built chain, leaf first, and may reject it.
type RevocationChecker interface {
	CheckRevocation(chain []*x509.Certificate, at time.Time) error
}

// ChainOptions describe what a chain must satisfy.
type ChainOptions struct {
	Roots         []*x509.Certificate
	Intermediates []*x509.Certificate
	// At is the verification time; zero means now.
	At time.Time
	// ExtKeyUsages, when set, require the leaf (and any CA that restricts
	// extended key usage) to allow one of them.
	ExtKeyUsages []x509.ExtKeyUsage
	// Policies, when set, require the leaf to assert one of them.
	Policies []asn1.ObjectIdentifier
	// Revocation, when set, is consulted for every complete chain.
	Revocation RevocationChecker
	// AllowNoKeyUsage accepts a leaf without a keyUsage extension (a v1
	// certificate, or a v3 one that leaves it out), which RFC 5280,
	// 4.2.1.3 lets be used for any purpose. Without it such a leaf is
	// refused: qualified certificates always carry one.
	AllowNoKeyUsage bool
}

// ChainVerifier builds and checks certificate paths with GOST, RSA and
// ECDSA signatures. It remembers verified issuer links (child signed by
// parent, keyed by the exact bytes of both), which do not depend on time,
// so repeated logins skip those signature checks; it keeps at least the
// last 131,072 links, enough for 100,000 people taking turns. Validity,
// key usage, path length, policies and revocation are checked on every
// call. The zero value is ready; it is safe for concurrent use.
type ChainVerifier struct {
	links linkCache
}

// VerifyChain returns a path from leaf to one of opts.Roots, leaf first.
// Every certificate must be valid at opts.At; every issuer must be a CA
// allowed to sign certificates, within its path length; the leaf's key usage
// must include digitalSignature or nonRepudiation (a leaf without a key
// usage extension is refused unless opts.AllowNoKeyUsage). The leaf's own
// uses are judged on a path to a root only, so a certificate of a foreign
// CA is ErrUntrusted whatever its key usage, as RFC 5280, 6.1 orders it.
func (v *ChainVerifier) VerifyChain(leaf *x509.Certificate, opts ChainOptions) ([]*x509.Certificate, error) {
	at := opts.At
	if at.IsZero() {
		at = time.Now()
	}
	b := &builder{v: v, opts: opts, at: at, best: ErrUntrusted}
	pool := append(slices.Clone(opts.Roots), opts.Intermediates...)
	if chain := b.extend([]*x509.Certificate{leaf}, pool); chain != nil {
		return chain, nil
	}
	return nil, b.best
}

type builder struct {
	v         *ChainVerifier
	opts      ChainOptions
	at        time.Time
	best      error
	bestDepth int
}

// fail records err if it comes from a deeper (more nearly complete) path.
func (b *builder) fail(depth int, err error) {
	if depth >= b.bestDepth {
		b.best, b.bestDepth = err, depth
	}
}

func (b *builder) extend(path []*x509.Certificate, pool []*x509.Certificate) []*x509.Certificate {
	cur := path[len(path)-1]
	if err := validity(cur, b.at); err != nil {
		b.fail(len(path), err)
		return nil
	}
	if isRoot(cur, b.opts.Roots) {
		if err := b.checkConstraints(path); err != nil {
			b.fail(len(path), err)
			return nil
		}
		if b.opts.Revocation != nil {
			if err := b.opts.Revocation.CheckRevocation(path, b.at); err != nil {
				b.fail(len(path)+1, fmt.Errorf("%w: %w", ErrRevokedOrUnsure, err))
				return nil
			}
		}
		return path
	}
	if len(path) >= maxChainDepth {
		b.fail(len(path), fmt.Errorf("%w: path longer than %d", ErrUntrusted, maxChainDepth))
		return nil
	}
	for _, parent := range pool {
		if !bytes.Equal(parent.RawSubject, cur.RawIssuer) || slices.ContainsFunc(path, parent.Equal) {
			continue
		}
		if len(cur.AuthorityKeyId) > 0 && len(parent.SubjectKeyId) > 0 && !bytes.Equal(cur.AuthorityKeyId, parent.SubjectKeyId) {
			continue
		}
		if err := b.v.checkLink(cur, parent); err != nil {
			// A name match whose key does not verify is not an issuer.
			b.fail(len(path), fmt.Errorf("%w: %w", ErrUntrusted, err))
			continue
		}
		if chain := b.extend(append(slices.Clone(path), parent), pool); chain != nil {
			return chain
		}
	}
	return nil
}

func isRoot(c *x509.Certificate, roots []*x509.Certificate) bool {
	return slices.ContainsFunc(roots, c.Equal)
}

func validity(c *x509.Certificate, at time.Time) error {
	if at.Before(c.NotBefore) {
		return fmt.Errorf("%w: %q is valid from %s", ErrNotYetValid, c.Subject.CommonName, c.NotBefore.UTC().Format(time.RFC3339))
	}
	if at.After(c.NotAfter) {
		return fmt.Errorf("%w: %q expired %s", ErrExpired, c.Subject.CommonName, c.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkConstraints checks the CA certificates of a complete path, then
// what the leaf may be used for.
func (b *builder) checkConstraints(path []*x509.Certificate) error {
	if err := b.checkCAs(path); err != nil {
		return err
	}
	return checkLeafUse(path[0], b.opts)
}

var oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 15}

func checkLeafUse(leaf *x509.Certificate, opts ChainOptions) error {
	hasKU := slices.ContainsFunc(leaf.Extensions, func(e pkix.Extension) bool { return e.Id.Equal(oidExtKeyUsage) })
	switch {
	case !hasKU && opts.AllowNoKeyUsage:
	case !hasKU:
		return fmt.Errorf("%w: the signer's certificate has no keyUsage extension", ErrKeyUsage)
	case leaf.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0:
		return fmt.Errorf("%w: the signer's certificate allows neither digitalSignature nor nonRepudiation", ErrKeyUsage)
	}
	return checkLeafPolicy(leaf, opts)
}

func (b *builder) checkCAs(path []*x509.Certificate) error {
	for i := 1; i < len(path); i++ {
		ca := path[i]
		if !ca.BasicConstraintsValid || !ca.IsCA {
			return fmt.Errorf("%w: %q", ErrNotCA, ca.Subject.CommonName)
		}
		if ca.KeyUsage != 0 && ca.KeyUsage&x509.KeyUsageCertSign == 0 {
			return fmt.Errorf("%w: CA %q lacks keyCertSign", ErrKeyUsage, ca.Subject.CommonName)
		}
		// CAs below this one, not counting self-issued ones (RFC 5280 6.1.4).
		below := 0
		for j := 1; j < i; j++ {
			if !bytes.Equal(path[j].RawSubject, path[j].RawIssuer) {
				below++
			}
		}
		if (ca.MaxPathLen > 0 || ca.MaxPathLenZero) && below > ca.MaxPathLen {
			return fmt.Errorf("%w: %q allows %d CAs below it", ErrPathLength, ca.Subject.CommonName, ca.MaxPathLen)
		}
		if len(b.opts.ExtKeyUsages) > 0 && len(ca.ExtKeyUsage) > 0 && !allowsEKU(ca, b.opts.ExtKeyUsages) {
			return fmt.Errorf("%w: CA %q restricts extended key usage", ErrKeyUsage, ca.Subject.CommonName)
		}
	}
	return nil
}

func checkLeafPolicy(leaf *x509.Certificate, opts ChainOptions) error {
	if len(opts.ExtKeyUsages) > 0 && !allowsEKU(leaf, opts.ExtKeyUsages) {
		return fmt.Errorf("%w: extended key usage", ErrKeyUsage)
	}
	if len(opts.Policies) > 0 && !slices.ContainsFunc(leaf.PolicyIdentifiers, func(p asn1.ObjectIdentifier) bool {
		return slices.ContainsFunc(opts.Policies, p.Equal)
	}) {
		return ErrPolicy
	}
	return nil
}

func allowsEKU(c *x509.Certificate, want []x509.ExtKeyUsage) bool {
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageAny || slices.Contains(want, u) {
			return true
		}
	}
	return false
}

// checkLink verifies that parent's key signed child, remembering success.
func (v *ChainVerifier) checkLink(child, parent *x509.Certificate) error {
	k := keyOf(child, parent)
	if v.links.has(k) {
		return nil
	}
	if err := checkSignedBy(child, parent); err != nil {
		return err
	}
	v.links.add(k)
	return nil
}

func checkSignedBy(child, parent *x509.Certificate) error {
	alg, err := SignatureAlgorithm(child)
	if err != nil {
		return err
	}
	if alg.Equal(OIDSignature2001) {
		return checkSigned2001(child, parent)
	}
	if IsSignatureOID(alg) {
		pub, err := PublicKey(parent)
		if err != nil {
			return fmt.Errorf("%w: issuer key: %v", ErrCertSignature, err)
		}
		if err := VerifySignature(alg, child.RawTBSCertificate, child.Signature, pub); err != nil {
			return fmt.Errorf("%w: %q", ErrCertSignature, child.Subject.CommonName)
		}
		return nil
	}
	if err := parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature); err != nil {
		return fmt.Errorf("%w: %q: %v", ErrCertSignature, child.Subject.CommonName, err)
	}
	return nil
}
