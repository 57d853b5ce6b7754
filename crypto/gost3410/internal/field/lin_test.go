//go:build amd64 && !purego

package field

import (
	"math/big"
	"testing"
)

// TestLin checks the linear combinations the assembly point formulas use
// (listed in lin_amd64_test.go by asm_gen.go) on the values of TestUnreduced, where the
// fold of the top word carries, borrows, and lands on either side of
// 2^(64n).
type linForm struct {
	n     int
	coefs []int64
	f     func(z *[8]uint64, x [][8]uint64)
}

func TestLin(t *testing.T) {
	if !hasADX {
		t.Skip("no BMI2/ADX")
	}
	primes := map[int]*big.Int{4: hexInt(p256aHex), 8: hexInt(p512aHex)}
	for _, fm := range linForms {
		n, p := fm.n, primes[fm.n]
		vals := unreducedValues(p, n)
		words := func(v *big.Int) [8]uint64 {
			var w [8]uint64
			for i, b := range v.FillBytes(make([]byte, 8*n)) {
				w[n-1-i/8] |= uint64(b) << (8 * (7 - i%8))
			}
			return w
		}
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
				t.Fatalf("%d-bit %v·%x = %x, want %x", 64*n, fm.coefs, args, got, want)
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
