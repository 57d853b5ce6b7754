//go:build amd64 && !purego

package field

import (
	"math/big"
	"testing"
)

// TestLin checks the linear combinations the assembly point formulas use
// (z = 3x, x - 2y, x - y - 2w, x - y - w) on the values of TestUnreduced, where the
// fold of the top word carries, borrows, and lands on either side of
// 2^(64n).
func TestLin(t *testing.T) {
	if !hasADX {
		t.Skip("no BMI2/ADX")
	}
	type form struct {
		coefs []int64
		f     func(z *[8]uint64, x [][8]uint64)
	}
	check := func(t *testing.T, p *big.Int, n int, forms []form) {
		vals := unreducedValues(p, n)
		words := func(v *big.Int) [8]uint64 {
			var w [8]uint64
			for i, b := range v.FillBytes(make([]byte, 8*n)) {
				w[n-1-i/8] |= uint64(b) << (8 * (7 - i%8))
			}
			return w
		}
		for _, fm := range forms {
			idx := make([]int, len(fm.coefs))
			for {
				args := make([][8]uint64, len(idx))
				want := new(big.Int)
				for i, k := range idx {
					args[i] = words(vals[k])
					want.Add(want, new(big.Int).Mul(big.NewInt(fm.coefs[i]), vals[k]))
				}
				want.Mod(want, p)
				var z [8]uint64
				fm.f(&z, args)
				got := new(big.Int)
				for k := n - 1; k >= 0; k-- {
					got.Lsh(got, 64).Or(got, new(big.Int).SetUint64(z[k]))
				}
				if got.Mod(got, p).Cmp(want) != 0 {
					t.Fatalf("%v·%x = %x, want %x", fm.coefs, args, got, want)
				}
				i := 0
				for ; i < len(idx); i++ {
					if idx[i]++; idx[i] < len(vals) {
						break
					}
					idx[i] = 0
				}
				if i == len(idx) {
					break
				}
			}
		}
	}
	t.Run("P256A", func(t *testing.T) {
		h := func(x *[8]uint64) *[4]uint64 { return (*[4]uint64)(x[:4]) }
		check(t, hexInt(p256aHex), 4, []form{
			{[]int64{3}, func(z *[8]uint64, x [][8]uint64) { p256aLin3(h(z), h(&x[0])) }},
			{[]int64{1, -2}, func(z *[8]uint64, x [][8]uint64) { p256aLin1M2(h(z), h(&x[0]), h(&x[1])) }},
			{[]int64{1, -1, -2}, func(z *[8]uint64, x [][8]uint64) { p256aLin1M1M2(h(z), h(&x[0]), h(&x[1]), h(&x[2])) }},
			{[]int64{1, -1, -1}, func(z *[8]uint64, x [][8]uint64) { p256aLin1M1M1(h(z), h(&x[0]), h(&x[1]), h(&x[2])) }},
		})
	})
	t.Run("P512A", func(t *testing.T) {
		check(t, hexInt(p512aHex), 8, []form{
			{[]int64{3}, func(z *[8]uint64, x [][8]uint64) { p512aLin3(z, &x[0]) }},
			{[]int64{1, -2}, func(z *[8]uint64, x [][8]uint64) { p512aLin1M2(z, &x[0], &x[1]) }},
			{[]int64{1, -1, -2}, func(z *[8]uint64, x [][8]uint64) { p512aLin1M1M2(z, &x[0], &x[1], &x[2]) }},
			{[]int64{1, -1, -1}, func(z *[8]uint64, x [][8]uint64) { p512aLin1M1M1(z, &x[0], &x[1], &x[2]) }},
		})
	})
}
