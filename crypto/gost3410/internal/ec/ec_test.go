package ec

import (
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestWNAF checks the recoding against the value it must represent and the
// shape of its digits.
func TestWNAF(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, size := range []int{32, 64} {
		for trial := 0; trial < 300; trial++ {
			k := make([]byte, size)
			for i := range k {
				k[i] = byte(rng.Uint32())
			}
			switch trial {
			case 0:
				clear(k)
			case 1:
				for i := range k {
					k[i] = 0xff
				}
			case 2:
				clear(k)
				k[size-1] = 1
			}
			for _, w := range []uint{2, 5, 7, 12} {
				d := make([]int16, 8*size+1)
				n := wnaf(k, w, d)
				sum := new(big.Int)
				for i := n - 1; i >= 0; i-- {
					sum.Lsh(sum, 1)
					sum.Add(sum, big.NewInt(int64(d[i])))
					if d[i] != 0 && (d[i]%2 == 0 || d[i] >= 1<<(w-1) || d[i] <= -(1<<(w-1))) {
						t.Fatalf("bad digit %d for w=%d", d[i], w)
					}
				}
				for i := 0; i+1 < n; i++ {
					for j := i + 1; j < i+int(w) && j < n; j++ {
						if d[i] != 0 && d[j] != 0 {
							t.Fatalf("digits %d and %d closer than w=%d", i, j, w)
						}
					}
				}
				if sum.Cmp(new(big.Int).SetBytes(k)) != 0 {
					t.Fatalf("w=%d: wnaf(%x) sums to %x", w, k, sum)
				}
			}
		}
	}
}

func TestRecode4(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for trial := 0; trial < 300; trial++ {
		k := make([]byte, 32)
		for i := range k {
			k[i] = byte(rng.Uint32())
		}
		if trial == 0 {
			for i := range k {
				k[i] = 0x88
			}
		}
		d := make([]int8, 65)
		recode4(k, d)
		sum := new(big.Int)
		for i := len(d) - 1; i >= 0; i-- {
			if d[i] < -8 || d[i] > 7 {
				t.Fatalf("digit %d out of range", d[i])
			}
			sum.Lsh(sum, 4)
			sum.Add(sum, big.NewInt(int64(d[i])))
		}
		if sum.Cmp(new(big.Int).SetBytes(k)) != 0 {
			t.Fatalf("recode4(%x) sums to %x", k, sum)
		}
	}
}
