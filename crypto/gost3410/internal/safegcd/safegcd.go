// Package safegcd inverts modulo an odd prime of up to 512 bits in variable
// time, for public values: the safegcd algorithm of Bernstein and Yang ("Fast
// constant-time gcd computation and modular inversion", 2019) in the
// variable-time form with 62 division steps per batch, as described in
// libsecp256k1's doc/safegcd_implementation.md. It does not allocate. It
// serves verification twice: e^-1 modulo the group order, and the one field
// inversion that makes the public key's table affine.
//
// Numbers are signed, in 62-bit limbs: the lower limbs in [0, 2^62), the top
// one carrying the sign.
package safegcd

import "math/bits"

const mask62 = 1<<62 - 1

type signed62 [9]int64

// Modulus is what inversion modulo m needs: m in 62-bit limbs and
// m^-1 mod 2^62.
type Modulus struct {
	words int // 64-bit limbs of m
	n     int // limbs of 62 bits
	m     signed62
	inv62 uint64
}

// New prepares inversion modulo the odd m, given as words little-endian
// 64-bit limbs (4 or 8).
func New(m *[8]uint64, words int) *Modulus {
	bitLen := 64 * words
	c := &Modulus{words: words, n: (bitLen + 61) / 62}
	// A value of up to 2^bitLen needs a sign bit too.
	if 62*c.n <= bitLen {
		c.n++
	}
	c.m = to62(m, words, c.n)
	// Newton's iteration doubles the correct low bits of m^-1 each step,
	// starting from m itself, which is its own inverse modulo 8.
	inv := m[0]
	for range 5 {
		inv *= 2 - m[0]*inv
	}
	c.inv62 = inv & mask62
	return c
}

// to62 splits the words limbs of x into n limbs of 62 bits.
func to62(x *[8]uint64, words, n int) signed62 {
	var y signed62
	for i := 0; i < n; i++ {
		word, shift := 62*i/64, uint(62*i%64)
		v := x[word] >> shift
		if shift > 2 && word+1 < words {
			v |= x[word+1] << (64 - shift)
		}
		y[i] = int64(v & mask62)
	}
	return y
}

// int128 is a signed 128-bit accumulator.
type int128 struct {
	hi int64
	lo uint64
}

// addMul adds a·b.
func (x *int128) addMul(a, b int64) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	// The unsigned product's high word, corrected for negative factors
	// without branches the CPU could not predict.
	h := int64(hi) - b&(a>>63) - a&(b>>63)
	var c uint64
	x.lo, c = bits.Add64(x.lo, lo, 0)
	x.hi += h + int64(c)
}

// shr62 shifts right by 62 bits, arithmetically.
func (x *int128) shr62() {
	x.lo = x.lo>>62 | uint64(x.hi)<<2
	x.hi >>= 62
}

// divsteps runs 62 division steps on the low bits of f (odd) and g, and
// returns the new eta (minus delta) and the matrix t = [u v; q r] with
// t·(f, g) = 2^62·(f', g').
func divsteps(eta int64, f, g uint64) (int64, int64, int64, int64, int64) {
	u, v, q, r := uint64(1), uint64(0), uint64(0), uint64(1)
	i := 62
	for {
		// Every zero bit of g is a step that only halves g.
		zeros := bits.TrailingZeros64(g | ^uint64(0)<<i)
		g >>= zeros
		u <<= zeros
		v <<= zeros
		eta -= int64(zeros)
		i -= zeros
		if i == 0 {
			break
		}
		var w uint64
		if eta < 0 {
			eta = -eta
			f, g = g, -f
			u, q = q, -u
			v, r = r, -v
			limit := min(int(eta)+1, i)
			// f(f²-2) is -1/f modulo 64: cancel up to six bits of g.
			w = f * g * (f*f - 2) & (^uint64(0) >> (64 - limit)) & 63
		} else {
			limit := min(int(eta)+1, i)
			// f + ((f+1)&4)<<1 is 1/f modulo 16: cancel up to four bits.
			w = f + ((f+1)&4)<<1
			w = -w * g & (^uint64(0) >> (64 - limit)) & 15
		}
		g += f * w
		q += u * w
		r += v * w
	}
	return eta, int64(u), int64(v), int64(q), int64(r)
}

// updateDE sets (d, e) = t·(d, e) / 2^62 modulo m, adding multiples of m
// that make the division exact and keep both in (-2m, m).
func (c *Modulus) updateDE(d, e *signed62, u, v, q, r int64) {
	n := c.n
	sd, se := d[n-1]>>63, e[n-1]>>63
	md := u&sd + v&se
	me := q&sd + r&se
	var cd, ce int128
	cd.addMul(u, d[0])
	cd.addMul(v, e[0])
	ce.addMul(q, d[0])
	ce.addMul(r, e[0])
	md -= int64((c.inv62*cd.lo + uint64(md)) & mask62)
	me -= int64((c.inv62*ce.lo + uint64(me)) & mask62)
	cd.addMul(c.m[0], md)
	ce.addMul(c.m[0], me)
	cd.shr62()
	ce.shr62()
	for i := 1; i < n; i++ {
		cd.addMul(u, d[i])
		cd.addMul(v, e[i])
		cd.addMul(c.m[i], md)
		ce.addMul(q, d[i])
		ce.addMul(r, e[i])
		ce.addMul(c.m[i], me)
		d[i-1] = int64(cd.lo & mask62)
		e[i-1] = int64(ce.lo & mask62)
		cd.shr62()
		ce.shr62()
	}
	d[n-1] = int64(cd.lo)
	e[n-1] = int64(ce.lo)
}

// updateFG sets (f, g) = t·(f, g) / 2^62 on the first n limbs; the
// division is exact.
func updateFG(n int, f, g *signed62, u, v, q, r int64) {
	var cf, cg int128
	cf.addMul(u, f[0])
	cf.addMul(v, g[0])
	cg.addMul(q, f[0])
	cg.addMul(r, g[0])
	cf.shr62()
	cg.shr62()
	for i := 1; i < n; i++ {
		cf.addMul(u, f[i])
		cf.addMul(v, g[i])
		cg.addMul(q, f[i])
		cg.addMul(r, g[i])
		f[i-1] = int64(cf.lo & mask62)
		g[i-1] = int64(cg.lo & mask62)
		cf.shr62()
		cg.shr62()
	}
	f[n-1] = int64(cf.lo)
	g[n-1] = int64(cg.lo)
}

// InvertVar returns x^-1 mod m for x in [1, m-1] (limbs beyond the modulus
// size zero), m prime, in variable time.
func (c *Modulus) InvertVar(x *[8]uint64) [8]uint64 {
	var d, e, f, g signed62
	e[0] = 1
	f = c.m
	g = to62(x, c.words, c.n)
	eta := int64(-1)
	n := c.n
	for {
		var u, v, q, r int64
		eta, u, v, q, r = divsteps(eta, uint64(f[0]), uint64(g[0]))
		c.updateDE(&d, &e, u, v, q, r)
		updateFG(n, &f, &g, u, v, q, r)
		if g[0] == 0 {
			var rest int64
			for j := 1; j < n; j++ {
				rest |= g[j]
			}
			if rest == 0 {
				break
			}
		}
		// Drop the top limbs of f and g once both are sign extensions.
		fn, gn := f[n-1], g[n-1]
		if n >= 2 && fn^fn>>63 == 0 && gn^gn>>63 == 0 {
			f[n-2] |= int64(uint64(fn) << 62)
			g[n-2] |= int64(uint64(gn) << 62)
			n--
		}
	}
	// Now f = ±1 and d·x = f (mod m).
	return c.normalize(&d, f[n-1] < 0)
}

// normalize brings d from (-2m, m) to [0, m), negated when neg is set, in
// 64-bit limbs.
func (c *Modulus) normalize(d *signed62, neg bool) [8]uint64 {
	n := c.n
	carry := int64(0)
	for i := 0; i < n; i++ {
		t := d[i] + carry
		d[i] = t & mask62
		carry = t >> 62
	}
	for carry < 0 {
		var k int64
		for i := 0; i < n; i++ {
			t := d[i] + c.m[i] + k
			d[i] = t & mask62
			k = t >> 62
		}
		carry += k
	}
	if neg {
		zero := true
		for i := 0; i < n; i++ {
			zero = zero && d[i] == 0
		}
		if !zero {
			var b int64
			for i := 0; i < n; i++ {
				t := c.m[i] - d[i] + b
				d[i] = t & mask62
				b = t >> 62
			}
		}
	}
	var z [8]uint64
	for i := 0; i < n; i++ {
		word, shift := 62*i/64, uint(62*i%64)
		if word < len(z) {
			z[word] |= uint64(d[i]) << shift
		}
		if shift > 2 && word+1 < len(z) {
			z[word+1] |= uint64(d[i]) >> (64 - shift)
		}
	}
	return z
}
