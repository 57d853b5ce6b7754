package gost3410

import (
	"math/big"
	"testing"
)

// TestNonceBits: a nonce candidate is as long as q, except where q is so
// close above a power of two that one bit less is within 2^-64 of uniform
// below q (TC26 256 A); then every candidate is below q.
func TestNonceBits(t *testing.T) {
	forEachCurve(t, func(t *testing.T, c *Curve) {
		g := c.arith()
		q := g.qBig
		nb := g.nonceBits
		switch {
		case nb == q.BitLen():
		case nb == q.BitLen()-1:
			gap := new(big.Int).Sub(q, new(big.Int).Lsh(big.NewInt(1), uint(nb)))
			if gap.Sign() < 0 || gap.Lsh(gap, 64).Cmp(q) >= 0 {
				t.Fatalf("%d-bit candidates for a %d-bit q %x: biased beyond 2^-64", nb, q.BitLen(), q)
			}
		default:
			t.Fatalf("%d-bit candidates for a %d-bit q", nb, q.BitLen())
		}
		if c == CurveTC26256A && nb != 254 {
			t.Errorf("TC26 256 A draws %d-bit candidates, want 254 (half of 255-bit ones are not below q)", nb)
		}
	})
}
