package gost3410

import (
	"bytes"
	"crypto/rand"
	"math/big"
	"testing"
)

// TestReduceWide: the nonce's reduction of n+8 bytes modulo q agrees with
// math/big on every parameter set, on random draws and on the edges (zero,
// all ones, q itself and its multiples near the top).
func TestReduceWide(t *testing.T) {
	forEachCurve(t, func(t *testing.T, c *Curve) {
		g := c.arith()
		md := g.mod()
		// Sign draws wide only where rejection would drop over a third.
		if want := c == CurveTC26256A; g.wideNonce != want && (c == CurveTC26256A || c == CurveCryptoProA) {
			t.Errorf("wideNonce %v", g.wideNonce)
		}
		n := c.size
		q := g.qBig
		var inputs [][]byte
		edge := func(v *big.Int) {
			if v.Sign() >= 0 && v.BitLen() <= 8*(n+8) {
				inputs = append(inputs, v.FillBytes(make([]byte, n+8)))
			}
		}
		top := new(big.Int).Lsh(big.NewInt(1), uint(8*(n+8)))
		edge(big.NewInt(0))
		edge(big.NewInt(1))
		edge(new(big.Int).Sub(top, big.NewInt(1)))
		edge(q)
		edge(new(big.Int).Sub(q, big.NewInt(1)))
		edge(new(big.Int).Lsh(q, 64))
		edge(new(big.Int).Sub(new(big.Int).Mul(new(big.Int).Div(top, q), q), big.NewInt(1)))
		edge(new(big.Int).Lsh(big.NewInt(1), uint(8*n)))
		for range 2000 {
			b := make([]byte, n+8)
			rand.Read(b)
			inputs = append(inputs, b)
		}
		out := make([]byte, n)
		for _, in := range inputs {
			var z nat
			md.reduceWide(&z, in)
			z.fillBE(out)
			want := new(big.Int).Mod(new(big.Int).SetBytes(in), q).FillBytes(make([]byte, n))
			if !bytes.Equal(out, want) {
				t.Fatalf("%x mod q = %x, want %x", in, out, want)
			}
		}
	})
}
