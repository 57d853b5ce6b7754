package gost3410

import (
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestInvertVar checks the safegcd inverse against math/big on every group
// order, at the edges and on random values.
func TestInvertVar(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, c := range Curves() {
		g := c.arith()
		md := g.mod()
		q := g.qBig
		n := md.n * 8
		vals := []*big.Int{big.NewInt(1), big.NewInt(2), big.NewInt(3), new(big.Int).Sub(q, big.NewInt(1)),
			new(big.Int).Sub(q, big.NewInt(2)), new(big.Int).Rsh(q, 1), new(big.Int).Lsh(big.NewInt(1), uint(q.BitLen()-1))}
		for i := 0; i < 2000; i++ {
			b := make([]byte, n)
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
			v := new(big.Int).SetBytes(b)
			v.Mod(v, q)
			if v.Sign() == 0 {
				continue
			}
			if i%3 == 0 { // small and sparse values take other paths
				v.Rsh(v, uint(rng.IntN(q.BitLen())))
				if v.Sign() == 0 {
					v.SetInt64(1)
				}
			}
			vals = append(vals, v)
		}
		for _, v := range vals {
			x := natFromBE(v.FillBytes(make([]byte, n)))
			got := md.invertVar(&x)
			out := make([]byte, n)
			got.fillBE(out)
			want := new(big.Int).ModInverse(v, q)
			if new(big.Int).SetBytes(out).Cmp(want) != 0 {
				t.Fatalf("%s: 1/%x = %x, want %x", c.Name(), v, out, want)
			}
		}
	}
}

func BenchmarkInvertVar(b *testing.B) {
	for _, c := range []*Curve{CurveTC26256A, CurveTC26512A} {
		md := c.arith().mod()
		x := nat{0x123456789abcdef, 0xfedcba987654321, 7, 9}
		b.Run(c.Name(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				md.invertVar(&x)
			}
		})
	}
}
