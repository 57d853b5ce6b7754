package gost3410

import (
	"math/big"
	mrand "math/rand/v2"
	"testing"
)

// TestVerifyMult checks u1·G + u2·Q against refMul with Q = m·G, including
// the inputs that drive the variable-time chain into its special cases: a
// table point equal to the accumulator (doubling inside an addition), its
// negation (the accumulator becomes the point at infinity and comes back),
// and a sum that is the point at infinity, which no r may match.
func TestVerifyMult(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(11, 12))
	forEachCurve(t, func(t *testing.T, c *Curve) {
		bothArithmetics(t, func(t *testing.T) {
			_, q, _, _, _, _ := c.Params()
			n := c.Size()
			random := func() *big.Int {
				b := make([]byte, n)
				for i := range b {
					b[i] = byte(rng.Uint32())
				}
				return new(big.Int).Mod(new(big.Int).SetBytes(b), q)
			}
			neg := func(v *big.Int) *big.Int { return new(big.Int).Mod(new(big.Int).Neg(v), q) }
			one, u := big.NewInt(1), random()
			cases := []struct{ m, u1, u2 *big.Int }{
				{random(), random(), random()},
				{random(), random(), random()},
				{one, u, u},      // G's and Q's tables hold the same points
				{one, u, neg(u)}, // every addition of Q cancels one of G: the sum is O
				{neg(one), u, u}, // Q = -G
				{one, one, one},  // 2G
				{big.NewInt(3), big.NewInt(5), big.NewInt(7)},
				{random(), big.NewInt(0), random()},                 // no G at all
				{random(), random(), big.NewInt(0)},                 // no Q at all
				{big.NewInt(3), neg(big.NewInt(21)), big.NewInt(7)}, // O again
			}
			g := c.arith()
			enc := func(v *big.Int) []byte { return v.FillBytes(make([]byte, n)) }
			for i, tc := range cases {
				qx, qy := refMul(c, tc.m)
				k := new(big.Int).Mul(tc.u2, tc.m)
				k.Add(k, tc.u1).Mod(k, q)
				if k.Sign() == 0 {
					for _, r := range []*big.Int{one, random()} {
						if g.impl.VerifyMult(enc(tc.u1), enc(tc.u2), enc(qx), enc(qy), enc(r)) {
							t.Errorf("case %d: the point at infinity matched r = %x", i, r)
						}
					}
					continue
				}
				x, _ := refMul(c, k)
				r := new(big.Int).Mod(x, q)
				if !g.impl.VerifyMult(enc(tc.u1), enc(tc.u2), enc(qx), enc(qy), enc(r)) {
					t.Errorf("case %d: u1·G + u2·Q does not match its own r", i)
				}
				r.Add(r, one).Mod(r, q)
				if g.impl.VerifyMult(enc(tc.u1), enc(tc.u2), enc(qx), enc(qy), enc(r)) {
					t.Errorf("case %d: matched r + 1", i)
				}
			}
		})
	})
}
