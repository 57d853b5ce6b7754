package field

import (
	"math/big"
	"math/rand/v2"
	"testing"
)

// The pseudo-Mersenne types hold values anywhere below 2^(64n). Random
// inputs almost never land in [p, 2^(64n)), so these tests build such limbs
// by hand and check every operation on them, and on their neighbours,
// against math/big.
func TestUnreduced(t *testing.T) {
	run := func(t *testing.T, generic bool) {
		if generic {
			if !useADX {
				t.Skip("the generic code is already what runs")
			}
			useADX = false
			defer func() { useADX = true }()
		}
		t.Run("P256A", func(t *testing.T) {
			checkUnreduced[P256A](t, hexInt(p256aHex), 4, func(e *P256A, l []uint64) { copy(e.l[:], l) })
		})
		t.Run("P512A", func(t *testing.T) {
			checkUnreduced[P512A](t, hexInt(p512aHex), 8, func(e *P512A, l []uint64) { copy(e.l[:], l) })
		})
	}
	t.Run("asm", func(t *testing.T) { run(t, false) })
	t.Run("generic", func(t *testing.T) { run(t, true) })
}

// unreducedValues returns values below 2^(64n) that stress the lazy
// reduction: p itself (a second zero), p+1, 2^(64n)-1 (the largest limbs),
// the values just above and below p, and a few random ones of each kind.
func unreducedValues(p *big.Int, n int) []*big.Int {
	top := new(big.Int).Lsh(big.NewInt(1), uint(64*n))
	c := new(big.Int).Sub(top, p).Int64()
	var out []*big.Int
	for _, d := range []int64{0, 1, 2, c / 2, c - 2, c - 1} {
		out = append(out, new(big.Int).Add(p, big.NewInt(d)))
	}
	for _, d := range []int64{0, 1, 2, c - 1, c, c + 1} {
		out = append(out, big.NewInt(d), new(big.Int).Sub(p, big.NewInt(d+1)))
	}
	rng := rand.New(rand.NewPCG(7, 8))
	buf := make([]byte, 8*n)
	for range 8 {
		for i := range buf {
			buf[i] = byte(rng.Uint32())
		}
		out = append(out, new(big.Int).SetBytes(buf))
	}
	return out
}

func checkUnreduced[T any, E element[T]](t *testing.T, p *big.Int, n int, setRaw func(*T, []uint64)) {
	size := 8 * n
	vals := unreducedValues(p, n)
	raw := func(v *big.Int) E {
		l := make([]uint64, n)
		for i, w := range v.FillBytes(make([]byte, size)) {
			l[n-1-i/8] |= uint64(w) << (8 * (7 - i%8))
		}
		e := E(new(T))
		setRaw(e, l)
		return e
	}
	dec := func(e E) *big.Int {
		b := make([]byte, size)
		e.FillBytes(b)
		return new(big.Int).SetBytes(b)
	}
	mod := func(v *big.Int) *big.Int { return new(big.Int).Mod(v, p) }
	two := new(big.Int).ModInverse(big.NewInt(2), p)
	for _, a := range vals {
		ea := raw(a)
		if got := dec(ea); got.Cmp(mod(a)) != 0 {
			t.Fatalf("FillBytes(%x) = %x", a, got)
		}
		if ea.IsZero() != boolInt(mod(a).Sign() == 0) {
			t.Errorf("IsZero(%x) wrong", a)
		}
		if ea.IsZeroVar() != (mod(a).Sign() == 0) {
			t.Errorf("IsZeroVar(%x) wrong", a)
		}
		for _, op := range []struct {
			name string
			got  E
			want *big.Int
		}{
			{"square", E(new(T)).Square(ea), new(big.Int).Mul(a, a)},
			{"neg", E(new(T)).Neg(ea), new(big.Int).Neg(a)},
			{"half", E(new(T)).Half(ea), new(big.Int).Mul(a, two)},
			{"invert", E(new(T)).Invert(ea), new(big.Int).ModInverse(mod(a), p)},
			{"invertVar", E(new(T)).InvertVar(ea), new(big.Int).ModInverse(mod(a), p)},
		} {
			if op.want == nil { // the inverse of 0
				op.want = new(big.Int)
			}
			if got := dec(op.got); got.Cmp(mod(op.want)) != 0 {
				t.Errorf("%s(%x) = %x, want %x", op.name, a, got, mod(op.want))
			}
		}
		for _, b := range vals {
			eb := raw(b)
			checkBinary(t, p, a, b, ea, eb, dec)
			if ea.Equal(eb) != boolInt(mod(a).Cmp(mod(b)) == 0) {
				t.Errorf("Equal(%x, %x) wrong", a, b)
			}
		}
	}
}
