// Package gost3410 implements GOST R 34.10-2012 digital signatures (RFC 7091)
// with 256- and 512-bit keys on every named parameter set of RFC 4357 and
// RFC 7836, including the twisted Edwards sets TC26 256 A and 512 C.
//
// Byte orders follow what implementations exchange (OpenSSL's GOST engine,
// CryptoPro CSP, PKCS#11 tokens): private keys and public key coordinates are
// little-endian (Bytes, NewPrivateKey, NewPublicKey), the digest given to
// Sign and Verify is the Streebog output as is and enters the signature
// equation read little-endian, and a signature is BE(s) ‖ BE(r), as X.509,
// CMS and PKCS#11 carry it.
//
// Signing hedges its nonce: an HMAC_DRBG over HMAC-Streebog (RFC 7836)
// derives it from fresh randomness, the private key and the digest, so a
// broken random source cannot make two signatures share a nonce and leak the
// key (PrivateKey.Sign). The point arithmetic and the scalar arithmetic run
// in time independent of the private key and the nonce: fixed-size limbs,
// complete point formulas and table look-ups that touch every entry. The
// nonce derivation hashes the key with Streebog, whose portable code uses
// data-dependent table look-ups (see package streebog); on CPUs with
// AVX-512 VBMI and GFNI it does not. Verification handles only public data
// and runs in variable time.
package gost3410

import (
	"crypto"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"math/big"
)

var (
	// ErrInvalidKey reports a private key outside [1, q-1] or a public key
	// that is not a point of the curve.
	ErrInvalidKey = errors.New("gost3410: invalid key")
	// ErrDigestSize reports a digest whose length is not the curve's size.
	ErrDigestSize = errors.New("gost3410: digest length does not match the key size")
)

// PublicKey is a GOST R 34.10-2012 public key.
type PublicKey struct {
	curve *Curve
	x, y  []byte // big-endian, curve size
}

// PrivateKey is a GOST R 34.10-2012 private key. It implements crypto.Signer.
type PrivateKey struct {
	pub PublicKey
	d   []byte // big-endian, curve size, 0 < d < q
}

// Curve returns the key's parameter set.
func (k *PublicKey) Curve() *Curve { return k.curve }

// Bytes returns LE(X) ‖ LE(Y): the content of the OCTET STRING in a
// SubjectPublicKeyInfo and the CKA_VALUE of a PKCS#11 public key.
func (k *PublicKey) Bytes() []byte {
	n := k.curve.size
	out := make([]byte, 2*n)
	for i := 0; i < n; i++ {
		out[i] = k.x[n-1-i]
		out[n+i] = k.y[n-1-i]
	}
	return out
}

// NewPublicKey parses LE(X) ‖ LE(Y) and checks that the point is on c.
func NewPublicKey(c *Curve, raw []byte) (*PublicKey, error) {
	n := c.size
	if len(raw) != 2*n {
		return nil, ErrInvalidKey
	}
	k := &PublicKey{curve: c, x: make([]byte, n), y: make([]byte, n)}
	for i := 0; i < n; i++ {
		k.x[n-1-i] = raw[i]
		k.y[n-1-i] = raw[n+i]
	}
	if !c.arith().impl.IsOnCurve(k.x, k.y) {
		return nil, ErrInvalidKey
	}
	return k, nil
}

// Equal reports whether x is the same public key on the same curve (two
// names of one curve count as the same).
func (k *PublicKey) Equal(x crypto.PublicKey) bool {
	o, ok := x.(*PublicKey)
	return ok && k.curve.SameGroup(o.curve) &&
		subtle.ConstantTimeCompare(k.x, o.x) == 1 && subtle.ConstantTimeCompare(k.y, o.y) == 1
}

// X and Y return the affine coordinates (Weierstrass form).
func (k *PublicKey) X() *big.Int { return new(big.Int).SetBytes(k.x) }
func (k *PublicKey) Y() *big.Int { return new(big.Int).SetBytes(k.y) }

// GenerateKey makes a private key on c from random (crypto/rand when nil).
func GenerateKey(c *Curve, random io.Reader) (*PrivateKey, error) {
	g := c.arith()
	d := make([]byte, c.size)
	if err := randomScalar(g, d, random); err != nil {
		return nil, err
	}
	return newPrivateKey(c, d)
}

// NewPrivateKey makes a private key from its little-endian encoding (as in
// PKCS#8 from OpenSSL's GOST engine and PKCS#11 CKA_VALUE).
func NewPrivateKey(c *Curve, raw []byte) (*PrivateKey, error) {
	if len(raw) != c.size {
		return nil, ErrInvalidKey
	}
	d := make([]byte, c.size)
	for i := range raw {
		d[c.size-1-i] = raw[i]
	}
	return newPrivateKey(c, d)
}

func newPrivateKey(c *Curve, d []byte) (*PrivateKey, error) {
	g := c.arith()
	md := g.mod()
	dn := natFromBE(d)
	if !md.less(&dn) || md.isZero(&dn) == 1 {
		return nil, ErrInvalidKey
	}
	k := &PrivateKey{d: d, pub: PublicKey{curve: c, x: make([]byte, c.size), y: make([]byte, c.size)}}
	if err := g.impl.ScalarBaseMult(k.pub.x, k.pub.y, d); err != nil {
		return nil, ErrInvalidKey
	}
	return k, nil
}

// Curve returns the key's parameter set.
func (k *PrivateKey) Curve() *Curve { return k.pub.curve }

// Public returns the *PublicKey.
func (k *PrivateKey) Public() crypto.PublicKey { return k.PublicKey() }

// PublicKey returns the public key.
func (k *PrivateKey) PublicKey() *PublicKey { return &k.pub }

// Bytes returns the little-endian private key.
func (k *PrivateKey) Bytes() []byte {
	out := make([]byte, len(k.d))
	for i := range k.d {
		out[len(k.d)-1-i] = k.d[i]
	}
	return out
}

// Equal reports whether x is the same private key.
func (k *PrivateKey) Equal(x crypto.PrivateKey) bool {
	o, ok := x.(*PrivateKey)
	return ok && k.pub.Equal(&o.pub) && subtle.ConstantTimeCompare(k.d, o.d) == 1
}

// Sign signs digest, the Streebog hash of the message (32 bytes for 256-bit
// keys, 64 for 512-bit ones), and returns BE(s) ‖ BE(r) (GOST R 34.10-2012,
// section 6.1). opts is not used: the digest algorithm is fixed by the key
// size.
//
// The nonce is hedged, as Go's crypto/ecdsa makes its own: it is drawn from
// an HMAC_DRBG (NIST SP 800-90A) seeded with as many fresh bytes of random
// (crypto/rand when nil) as the key has, the private key and the digest. A
// good random makes the nonce uniform; a broken one (all zeros, repeating
// output, a cloned virtual machine) degrades it to a deterministic nonce in
// the manner of RFC 6979, a function of key and digest, instead of
// repeating a nonce across two digests and giving the key away. A random
// that fails makes Sign fail.
func (k *PrivateKey) Sign(random io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	c := k.pub.curve
	n := c.size
	if len(digest) != n {
		return nil, ErrDigestSize
	}
	if random == nil {
		random = rand.Reader
	}
	// Z of draft-irtf-cfrg-det-sigs-with-noise-04: as long as the key, so
	// 256 or 512 bits, at least 3/2 of the security strength.
	z := make([]byte, n)
	if _, err := io.ReadFull(random, z); err != nil {
		return nil, fmt.Errorf("gost3410: reading randomness for the nonce: %w", err)
	}
	var drbg nonceDRBG
	drbg.init(n, z, k.d, digest)
	clear(z)
	defer drbg.clear()

	g := c.arith()
	md := g.mod()
	e := digestScalar(md, digest)
	d := natFromBE(k.d)
	var dR nat
	md.mul(&dR, &d, &md.rr) // d·2^(64n) mod q, so that mul(r, dR) = r·d mod q
	clear(d[:])
	defer clear(dR[:])
	var eR nat
	md.mul(&eR, &e, &md.rr)
	// k in [1, q-1] by rejection sampling (FIPS 186-5, A.3.2) of
	// nonceBits-bit candidates: the only branch on the nonce, and it
	// reveals only that a candidate was dropped. That almost never happens
	// (see nonceBits), except on CryptoPro C / TC26 256 D, whose q is 0.61
	// of the power of two above it.
	kb := make([]byte, n)
	defer clear(kb)
	x := make([]byte, n)
	y := make([]byte, n)
	excess := 8*n - g.nonceBits
	for {
		drbg.generate(kb)
		kb[0] &= byte(0xff >> excess)
		kn := natFromBE(kb)
		if !md.less(&kn) {
			continue
		}
		if md.isZero(&kn) == 1 {
			continue
		}
		if err := g.impl.ScalarBaseMult(x, y, kb); err != nil {
			clear(kn[:])
			continue
		}
		// r = x mod q
		xn := natFromBE(x)
		var r nat
		md.reduce(&r, &xn)
		if md.isZero(&r) == 1 {
			clear(kn[:])
			continue
		}
		var rd, ke, s nat
		md.mul(&rd, &r, &dR)
		md.mul(&ke, &kn, &eR)
		md.add(&s, &rd, &ke)
		clear(kn[:])
		clear(rd[:])
		clear(ke[:])
		if md.isZero(&s) == 1 {
			continue
		}
		sig := make([]byte, 2*n)
		s.fillBE(sig[:n])
		r.fillBE(sig[n:])
		return sig, nil
	}
}

// Verify reports whether sig = BE(s) ‖ BE(r) is a valid signature of digest
// (GOST R 34.10-2012, section 6.2).
func (k *PublicKey) Verify(digest, sig []byte) bool {
	c := k.curve
	n := c.size
	if len(digest) != n || len(sig) != 2*n {
		return false
	}
	g := c.arith()
	md := g.mod()
	s := natFromBE(sig[:n])
	r := natFromBE(sig[n:])
	if md.isZero(&s) == 1 || md.isZero(&r) == 1 || !md.less(&s) || !md.less(&r) {
		return false
	}
	e := digestScalar(md, digest)
	// v = e^-1 mod q (e is never 0); verification is public, so a
	// variable-time inverse is fine.
	v := nat(md.inv.InvertVar((*[8]uint64)(&e)))
	var z1, z2, negR nat
	md.mulMod(&z1, &s, &v)
	var zero nat
	md.sub(&negR, &zero, &r)
	md.mulMod(&z2, &negR, &v)
	u1 := make([]byte, n)
	u2 := make([]byte, n)
	z1.fillBE(u1)
	z2.fillBE(u2)
	return g.impl.VerifyMult(u1, u2, k.x, k.y, sig[n:])
}

// digestScalar returns e = digest (little-endian) mod q, or 1 when that is
// zero (GOST R 34.10-2012, section 6.1, step 2).
func digestScalar(md *modulus, digest []byte) nat {
	x := natFromLE(digest)
	var e nat
	md.reduce(&e, &x)
	e[0] |= uint64(md.isZero(&e))
	return e
}

// randomScalar fills k (big-endian) with a uniform value in [1, q-1] by
// rejection sampling of bit strings as long as q.
func randomScalar(g *group, k []byte, random io.Reader) error {
	if random == nil {
		random = rand.Reader
	}
	md := g.mod()
	bitLen := g.qBig.BitLen()
	excess := 8*len(k) - bitLen
	for {
		if _, err := io.ReadFull(random, k); err != nil {
			return err
		}
		k[0] &= byte(0xff >> excess)
		x := natFromBE(k)
		if md.isZero(&x) == 0 && md.less(&x) {
			return nil
		}
	}
}
