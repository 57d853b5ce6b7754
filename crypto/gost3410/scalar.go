package gost3410

import (
	"math/big"
	"math/bits"

	"github.com/podpis/podpis/crypto/gost3410/internal/safegcd"
)

// Arithmetic modulo the group order q, for the few operations per signature
// that need it: s = r·d + k·e and, in verification, e^-1. Numbers are up to
// eight little-endian limbs; the loops run over the modulus size only, so the
// time does not depend on the values. Montgomery multiplication keeps
// reduction free of division.
type modulus struct {
	n   int // limbs in use
	m   nat
	n0  uint64           // -m^-1 mod 2^64
	rr  nat              // 2^(128n) mod m
	inv *safegcd.Modulus // for e^-1 in verification
}

type nat [8]uint64

func newModulus(be []byte) *modulus {
	md := &modulus{n: len(be) / 8}
	md.m = natFromBE(be)
	mb := new(big.Int).SetBytes(be)
	w := new(big.Int).Lsh(big.NewInt(1), 64)
	inv := new(big.Int).ModInverse(new(big.Int).SetUint64(md.m[0]), w)
	md.n0 = new(big.Int).Sub(w, inv).Uint64()
	rr := new(big.Int).Lsh(big.NewInt(1), uint(128*md.n))
	rr.Mod(rr, mb)
	md.rr = natFromBE(rr.FillBytes(make([]byte, len(be))))
	md.inv = safegcd.New((*[8]uint64)(&md.m), md.n)
	return md
}

func natFromBE(b []byte) nat {
	var x nat
	for i := 0; i < len(b)/8; i++ {
		j := len(b) - 8*(i+1)
		for k := 0; k < 8; k++ {
			x[i] = x[i]<<8 | uint64(b[j+k])
		}
	}
	return x
}

func natFromLE(b []byte) nat {
	var x nat
	for i, v := range b {
		x[i/8] |= uint64(v) << (8 * (i % 8))
	}
	return x
}

func (x *nat) fillBE(out []byte) {
	for i := 0; i < len(out)/8; i++ {
		j := len(out) - 8*(i+1)
		for k := 0; k < 8; k++ {
			out[j+k] = byte(x[i] >> (56 - 8*k))
		}
	}
}

// mul sets z = x·y / 2^(64n) mod m. x may be any n-limb value, y must be
// below m; then the result is fully reduced.
func (md *modulus) mul(z, x, y *nat) {
	n := md.n
	var t [10]uint64
	for i := 0; i < n; i++ {
		var c uint64
		for j := 0; j < n; j++ {
			hi, lo := bits.Mul64(x[j], y[i])
			var cc uint64
			lo, cc = bits.Add64(lo, c, 0)
			hi += cc
			t[j], cc = bits.Add64(t[j], lo, 0)
			c = hi + cc
		}
		var cc uint64
		t[n], cc = bits.Add64(t[n], c, 0)
		t[n+1] = cc
		m := t[0] * md.n0
		hi, lo := bits.Mul64(m, md.m[0])
		_, cc = bits.Add64(t[0], lo, 0)
		c = hi + cc
		for j := 1; j < n; j++ {
			hi, lo := bits.Mul64(m, md.m[j])
			lo, cc = bits.Add64(lo, c, 0)
			hi += cc
			t[j-1], cc = bits.Add64(t[j], lo, 0)
			c = hi + cc
		}
		t[n-1], cc = bits.Add64(t[n], c, 0)
		t[n] = t[n+1] + cc
	}
	md.condSub(z, &t)
}

// condSub sets z = t - m if t (n+1 limbs) >= m, else t.
func (md *modulus) condSub(z *nat, t *[10]uint64) {
	n := md.n
	var s nat
	var b uint64
	for j := 0; j < n; j++ {
		s[j], b = bits.Sub64(t[j], md.m[j], b)
	}
	_, b = bits.Sub64(t[n], 0, b)
	mask := -b
	for j := 0; j < n; j++ {
		z[j] = s[j] ^ (mask & (t[j] ^ s[j]))
	}
}

// reduce sets z = x mod m for any n-limb x.
func (md *modulus) reduce(z, x *nat) {
	var t nat
	md.mul(&t, x, &md.rr) // x·R mod m
	one := nat{1}
	md.mul(z, &t, &one)
}

// mulMod sets z = x·y mod m for x, y below m.
func (md *modulus) mulMod(z, x, y *nat) {
	var t nat
	md.mul(&t, y, &md.rr) // y·R
	md.mul(z, x, &t)
}

// add sets z = x + y mod m for x, y below m.
func (md *modulus) add(z, x, y *nat) {
	var t [10]uint64
	var c uint64
	for j := 0; j < md.n; j++ {
		t[j], c = bits.Add64(x[j], y[j], c)
	}
	t[md.n] = c
	md.condSub(z, &t)
}

// isZero returns 1 if x is zero and 0 otherwise, in constant time.
func (md *modulus) isZero(x *nat) int {
	var d uint64
	for j := 0; j < md.n; j++ {
		d |= x[j]
	}
	return int(((d | -d) >> 63) ^ 1)
}

// less reports whether x < m (variable time).
func (md *modulus) less(x *nat) bool {
	var b uint64
	for j := 0; j < md.n; j++ {
		_, b = bits.Sub64(x[j], md.m[j], b)
	}
	return b == 1
}

// sub sets z = x - y mod m for x, y below m.
func (md *modulus) sub(z, x, y *nat) {
	var b, c uint64
	var d nat
	for j := 0; j < md.n; j++ {
		d[j], b = bits.Sub64(x[j], y[j], b)
	}
	mask := -b
	for j := 0; j < md.n; j++ {
		z[j], c = bits.Add64(d[j], md.m[j]&mask, c)
	}
}
