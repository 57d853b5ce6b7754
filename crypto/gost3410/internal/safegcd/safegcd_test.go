package safegcd

import (
	"encoding/binary"
	"math/big"
	"math/rand/v2"
	"testing"
)

// The moduli verification inverts by: the group orders and the field primes
// of the GOST R 34.10-2012 parameter sets (RFC 4357, RFC 7836).
var moduli = []string{
	"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF6C611070995AD10045841B09B761B893",
	"800000000000000000000000000000015F700CFFF1A624E5E497161BCC8A198F",
	"9B9F605F5A858107AB1EC85E6B41C8AA582CA3511EDDFB74F02F3A6598980BB9",
	"400000000000000000000000000000000FD8CDDFC87B6635C115AF556C360C67",
	"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF27E69532F48D89116FF22B8D4E0560609B4B38ABFAD2B85DCACDB1411F10B275",
	"800000000000000000000000000000000000000000000000000000000000000149A1EC142565A545ACFDB77BD9D40CFA8B996712101BEA0EC6346C54374F25BD",
	"3FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC98CDBA46506AB004C33A9FF5147502CC8EDA9E7A769A12694623CEF47F023ED",
	"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97",
	"8000000000000000000000000000000000000000000000000000000000000C99",
	"9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D759B",
	"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC7",
	"8000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000006F",
}

func limbs(v *big.Int) *[8]uint64 {
	var x [8]uint64
	b := v.FillBytes(make([]byte, 64))
	for i := range x {
		x[i] = binary.BigEndian.Uint64(b[56-8*i:])
	}
	return &x
}

// TestInvertVar checks the inverse against math/big on every modulus, at the
// edges and on random, small and sparse values.
func TestInvertVar(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, h := range moduli {
		m, _ := new(big.Int).SetString(h, 16)
		if !m.ProbablyPrime(20) {
			t.Fatalf("%s is not prime", h)
		}
		words := len(h) / 16
		md := New(limbs(m), words)
		vals := []*big.Int{big.NewInt(1), big.NewInt(2), big.NewInt(3), new(big.Int).Sub(m, big.NewInt(1)),
			new(big.Int).Sub(m, big.NewInt(2)), new(big.Int).Rsh(m, 1), new(big.Int).Lsh(big.NewInt(1), uint(m.BitLen()-1))}
		for i := 0; i < 2000; i++ {
			b := make([]byte, 8*words)
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
			v := new(big.Int).Mod(new(big.Int).SetBytes(b), m)
			if i%3 == 0 { // small and sparse values take other paths
				v.Rsh(v, uint(rng.IntN(m.BitLen())))
			}
			if v.Sign() == 0 {
				v.SetInt64(1)
			}
			vals = append(vals, v)
		}
		for _, v := range vals {
			got := md.InvertVar(limbs(v))
			want := limbs(new(big.Int).ModInverse(v, m))
			if got != *want {
				t.Fatalf("%s: 1/%x = %x, want %x", h, v, got, *want)
			}
		}
	}
}

func BenchmarkInvertVar(b *testing.B) {
	for _, h := range []string{moduli[3], moduli[5]} {
		m, _ := new(big.Int).SetString(h, 16)
		md := New(limbs(m), len(h)/16)
		x := &[8]uint64{0x123456789abcdef, 0xfedcba987654321, 7, 9}
		b.Run(map[int]string{64: "256", 128: "512"}[len(h)], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				md.InvertVar(x)
			}
		})
	}
}
