// Package gost341194 implements the hash function GOST R 34.11-94 (RFC 5831)
// with the CryptoPro parameter set id-GostR3411-94-CryptoProParamSet
// (1.2.643.2.2.30.1, RFC 4357, 11.2), the digest of GOST R 34.10-2001
// signatures on archived documents.
//
// It is here to verify those archives only: podpis never signs with it
// (crypto/cms refuses), since the standard was withdrawn in 2019 in favour
// of Streebog. Nothing it hashes is secret, so it is not constant time.
// The block cipher is GOST 28147-89 (RFC 5830) with the same S-box.
package gost341194

import (
	"encoding/binary"
	"hash"
	"math/bits"
)

// Size is the digest size in bytes; BlockSize the block the hash steps by.
const (
	Size      = 32
	BlockSize = 32
)

// sbox is id-GostR3411-94-CryptoProParamSet (RFC 4357, 11.2): row i
// substitutes the i-th 4-bit group, least significant first.
var sbox = [8][16]byte{
	{10, 4, 5, 6, 8, 1, 3, 7, 13, 12, 14, 0, 9, 2, 11, 15},
	{5, 15, 4, 0, 2, 13, 11, 9, 1, 7, 6, 3, 12, 14, 10, 8},
	{7, 15, 12, 14, 9, 4, 1, 0, 3, 11, 5, 2, 6, 10, 8, 13},
	{4, 10, 7, 12, 0, 15, 2, 8, 14, 1, 6, 5, 13, 11, 9, 3},
	{7, 6, 4, 11, 9, 12, 2, 10, 1, 8, 0, 14, 15, 13, 3, 5},
	{7, 6, 2, 4, 13, 9, 15, 0, 10, 1, 5, 11, 8, 14, 12, 3},
	{13, 14, 4, 1, 7, 0, 5, 10, 3, 12, 8, 15, 6, 2, 9, 11},
	{1, 3, 10, 9, 5, 11, 4, 15, 8, 6, 7, 14, 13, 0, 2, 12},
}

// sub4 are the S-boxes merged pairwise into byte tables, with the 11-bit
// rotation of the round function folded in (RFC 5830, 6.1).
var sub4 = func() (t [4][256]uint32) {
	for k := range 4 {
		for b := range 256 {
			v := uint32(sbox[2*k+1][b>>4])<<4 | uint32(sbox[2*k][b&15])
			t[k][b] = bits.RotateLeft32(v<<(8*k), 11)
		}
	}
	return
}()

func g(x uint32) uint32 {
	return sub4[0][x&0xff] ^ sub4[1][x>>8&0xff] ^ sub4[2][x>>16&0xff] ^ sub4[3][x>>24]
}

// encrypt is GOST 28147-89 in simple replacement mode (RFC 5830, 6.1) of
// one 64-bit block, little-endian as RFC 5831 lays H out.
func encrypt(key *[8]uint32, block []byte) {
	n1, n2 := binary.LittleEndian.Uint32(block), binary.LittleEndian.Uint32(block[4:])
	for i := range 32 {
		k := key[i&7]
		if i >= 24 {
			k = key[7-i&7]
		}
		n1, n2 = n2^g(n1+k), n1
	}
	binary.LittleEndian.PutUint32(block, n2)
	binary.LittleEndian.PutUint32(block[4:], n1)
}

// c3 is the constant C3 of the key generation (RFC 5831, 6.1), as bytes
// least significant first; C2 and C4 are zero.
var c3 = [32]byte{
	0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00,
	0x00, 0xff, 0xff, 0x00, 0xff, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0xff,
}

// a is A(y4||y3||y2||y1) = (y1 xor y2)||y4||y3||y2 over 64-bit words,
// y1 the least significant (RFC 5831, 6.1).
func a(x *[32]byte) {
	var y1 [8]byte
	copy(y1[:], x[:8])
	copy(x[:24], x[8:])
	for i := range 8 {
		x[24+i] = y1[i] ^ x[i]
	}
}

// p is the byte permutation P: byte i+1+4(k-1) of the result is byte
// 8i+k of the input, i = 0..3, k = 1..8 (RFC 5831, 6.1).
func p(x *[32]byte) [32]byte {
	var y [32]byte
	for i := range 4 {
		for k := range 8 {
			y[i+4*k] = x[8*i+k]
		}
	}
	return y
}

// psi applies n times the shift register ψ of the mixing: the 16-bit
// words shift down and the new top is y1^y2^y3^y4^y13^y16 (RFC 5831,
// 6.3). The words are unrolled into one array so each shift is one XOR.
func psi(x *[32]byte, n int) {
	var w [16 + 61]uint16
	for i := range 16 {
		w[i] = binary.LittleEndian.Uint16(x[2*i:])
	}
	for i := range n {
		w[16+i] = w[i] ^ w[i+1] ^ w[i+2] ^ w[i+3] ^ w[i+12] ^ w[i+15]
	}
	for i := range 16 {
		binary.LittleEndian.PutUint16(x[2*i:], w[n+i])
	}
}

// step is the step function f(H, M) (RFC 5831, 6): key generation, the
// encryption of H's four words, and the ψ mixing.
func step(h *[32]byte, m *[32]byte) {
	u, v := *h, *m
	var keys [4][8]uint32
	for j := range 4 {
		if j > 0 {
			a(&u)
			if j == 2 {
				for i := range u {
					u[i] ^= c3[i]
				}
			}
			a(&v)
			a(&v)
		}
		var w [32]byte
		for i := range w {
			w[i] = u[i] ^ v[i]
		}
		k := p(&w)
		for i := range 8 {
			keys[j][i] = binary.LittleEndian.Uint32(k[4*i:])
		}
	}
	s := *h
	for j := range 4 {
		encrypt(&keys[j], s[8*j:8*j+8])
	}
	psi(&s, 12)
	for i := range s {
		s[i] ^= m[i]
	}
	psi(&s, 1)
	for i := range s {
		s[i] ^= h[i]
	}
	psi(&s, 61)
	*h = s
}

type digest struct {
	h, sigma [32]byte
	length   uint64 // bytes
	buf      [32]byte
	n        int
}

// New returns a GOST R 34.11-94 hash with the CryptoPro parameters and a
// zero starting value, as RFC 4357 and CMS use it.
func New() hash.Hash { return &digest{} }

// Sum returns the digest of data.
func Sum(data []byte) [Size]byte {
	d := &digest{}
	d.Write(data)
	var out [Size]byte
	d.Sum(out[:0])
	return out
}

func (d *digest) Size() int      { return Size }
func (d *digest) BlockSize() int { return BlockSize }
func (d *digest) Reset()         { *d = digest{} }

// add adds m to the control sum Σ modulo 2^256.
func (d *digest) add(m *[32]byte) {
	var carry uint64
	for i := 0; i < 32; i += 8 {
		s, c := bits.Add64(binary.LittleEndian.Uint64(d.sigma[i:]), binary.LittleEndian.Uint64(m[i:]), carry)
		binary.LittleEndian.PutUint64(d.sigma[i:], s)
		carry = c
	}
}

func (d *digest) block(m *[32]byte) {
	step(&d.h, m)
	d.add(m)
}

func (d *digest) Write(b []byte) (int, error) {
	n := len(b)
	d.length += uint64(n)
	if d.n > 0 {
		k := copy(d.buf[d.n:], b)
		d.n += k
		b = b[k:]
		if d.n < BlockSize {
			return n, nil
		}
		d.block(&d.buf)
		d.n = 0
	}
	for len(b) >= BlockSize {
		var m [32]byte
		copy(m[:], b)
		d.block(&m)
		b = b[BlockSize:]
	}
	d.n = copy(d.buf[:], b)
	return n, nil
}

// Sum appends the digest: the last partial block padded with zeros (and
// none when the message fills its blocks), then the length in bits and Σ
// (RFC 5831, 7).
func (d *digest) Sum(in []byte) []byte {
	c := *d
	if c.n > 0 {
		var m [32]byte
		copy(m[:], c.buf[:c.n])
		c.block(&m)
	}
	var l [32]byte
	hi, lo := bits.Mul64(c.length, 8)
	binary.LittleEndian.PutUint64(l[:], lo)
	binary.LittleEndian.PutUint64(l[8:], hi)
	step(&c.h, &l)
	step(&c.h, &c.sigma)
	return append(in, c.h[:]...)
}
