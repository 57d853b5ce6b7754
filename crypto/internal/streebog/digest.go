// Package streebog is the GOST R 34.11-2012 ("Streebog", RFC 6986)
// machinery behind crypto/streebog: the state, the compression function (in
// AVX-512 VBMI/GFNI vector registers or through the LPS tables) and, for the
// nonce derivation of crypto/gost3410, an HMAC (RFC 7836) that keeps its
// keyed states by value. It lives here so that both packages reach the
// state without crypto/streebog exporting more than hash.Hash. See
// crypto/streebog for byte order and the side-channel trade-off of the
// tables. Hashing and MACs do not allocate.
package streebog

import (
	"encoding/binary"
	"errors"
	"math/bits"
)

// BlockSize is the block size of Streebog in bytes.
const BlockSize = 64

// Size256 and Size512 are the digest sizes in bytes.
const (
	Size256 = 32
	Size512 = 64
)

// Digest is a Streebog state, set up by Init; it implements hash.Hash and
// copies by value. h is the chaining value, n the number of message bits
// processed so far and sigma the sum of message blocks, all as
// little-endian 512-bit numbers in 64-bit words.
type Digest struct {
	h, n, sigma [8]uint64
	buf         [BlockSize]byte
	nbuf        int
	size        int
}

// Init sets d up for a digest of size bytes (Size256 or Size512).
func (d *Digest) Init(size int) {
	d.size = size
	d.Reset()
}

func (d *Digest) Size() int      { return d.size }
func (d *Digest) BlockSize() int { return BlockSize }

// Reset sets the initialisation vector: all zero bytes for the 512-bit
// function, all 0x01 bytes for the 256-bit one (RFC 6986, section 5).
func (d *Digest) Reset() {
	iv := uint64(0)
	if d.size == Size256 {
		iv = 0x0101010101010101
	}
	for i := range d.h {
		d.h[i] = iv
	}
	d.n = [8]uint64{}
	d.sigma = [8]uint64{}
	d.nbuf = 0
}

func (d *Digest) Write(p []byte) (int, error) {
	written := len(p)
	if d.nbuf > 0 {
		c := copy(d.buf[d.nbuf:], p)
		d.nbuf += c
		p = p[c:]
		if d.nbuf < BlockSize {
			return written, nil
		}
		d.blocks(d.buf[:])
		d.nbuf = 0
	}
	if whole := len(p) &^ (BlockSize - 1); whole > 0 {
		d.blocks(p[:whole])
		p = p[whole:]
	}
	d.nbuf = copy(d.buf[:], p)
	return written, nil
}

// Sum appends the digest to b without changing the state.
func (d *Digest) Sum(b []byte) []byte {
	c := *d
	var out [Size512]byte
	c.Final(out[:d.size])
	return append(b, out[:d.size]...)
}

// Final finishes the hash (RFC 6986, section 8.3) into out, which is as
// long as the digest, and leaves d spent: unlike Sum it does not copy the
// state first.
func (d *Digest) Final(out []byte) {
	var m [8]uint64
	var block [BlockSize]byte
	copy(block[:], d.buf[:d.nbuf])
	block[d.nbuf] = 0x01
	load(&m, block[:])
	d.compress(&d.n, &m)
	addTo(&d.n, uint64(d.nbuf)*8)
	addBlock(&d.sigma, &m)
	var zero [8]uint64
	d.compress(&zero, &d.n)
	d.compress(&zero, &d.sigma)
	var full [Size512]byte
	for i, w := range d.h {
		binary.LittleEndian.PutUint64(full[8*i:], w)
	}
	// Streebog-256 is the most significant half of the final state.
	copy(out, full[Size512-len(out):])
}

func (d *Digest) blocksGeneric(p []byte) {
	var m [8]uint64
	for ; len(p) >= BlockSize; p = p[BlockSize:] {
		load(&m, p)
		d.compressGeneric(&d.n, &m)
		addTo(&d.n, BlockSize*8)
		addBlock(&d.sigma, &m)
	}
}

func load(m *[8]uint64, p []byte) {
	_ = p[BlockSize-1]
	for i := range m {
		m[i] = binary.LittleEndian.Uint64(p[8*i:])
	}
}

// addTo adds a small number to a 512-bit counter modulo 2^512.
func addTo(x *[8]uint64, v uint64) {
	var c uint64
	x[0], c = bits.Add64(x[0], v, 0)
	for i := 1; i < len(x) && c != 0; i++ {
		x[i], c = bits.Add64(x[i], 0, c)
	}
}

// addBlock adds m to x modulo 2^512.
func addBlock(x, m *[8]uint64) {
	var c uint64
	for i := range x {
		x[i], c = bits.Add64(x[i], m[i], c)
	}
}

// compress is g_N(h, m) = E(LPS(h ^ N), m) ^ h ^ m (RFC 6986, section 7),
// where E(K, m) = X[K13] LPSX[K12] ... LPSX[K1](m) and K(i+1) = LPS(Ki ^ Ci).
func (d *Digest) compressGeneric(n, m *[8]uint64) {
	var k, hn, xk0, xk1, xs0, xs1 [64]byte
	for i := range d.h {
		binary.LittleEndian.PutUint64(hn[8*i:], d.h[i]^n[i])
	}
	xk, xkNext, xs, xsNext := &xk0, &xk1, &xs0, &xs1
	lpsKey(&k, xk, &hn, &roundConstants[0]) // K1
	for i := range m {
		binary.LittleEndian.PutUint64(xs[8*i:], m[i]^binary.LittleEndian.Uint64(k[8*i:]))
	}
	for r := range roundConstants {
		c := &zeroConstant
		if r+1 < len(roundConstants) {
			c = &roundConstants[r+1]
		}
		// xk becomes K(r+2) ^ C(r+2), xs becomes LPS(...) ^ K(r+2); after
		// the last round xs is E.
		lpsRound(xkNext, xsNext, xk, xs, c)
		xk, xkNext, xs, xsNext = xkNext, xk, xsNext, xs
	}
	for i := range d.h {
		d.h[i] ^= binary.LittleEndian.Uint64(xs[8*i:]) ^ m[i]
	}
}

var zeroConstant [8]uint64

// MarshalBinary and UnmarshalBinary let callers save a hash in progress, as
// the standard library's hashes do.
const (
	magic256      = "stb256\x01"
	magic512      = "stb512\x01"
	marshaledSize = len(magic256) + 3*64 + BlockSize + 1
)

var errState = errors.New("streebog: invalid hash state")

func (d *Digest) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, marshaledSize)
	if d.size == Size256 {
		b = append(b, magic256...)
	} else {
		b = append(b, magic512...)
	}
	for _, v := range [...]*[8]uint64{&d.h, &d.n, &d.sigma} {
		for _, w := range v {
			b = binary.LittleEndian.AppendUint64(b, w)
		}
	}
	b = append(b, d.buf[:]...)
	return append(b, byte(d.nbuf)), nil
}

func (d *Digest) UnmarshalBinary(b []byte) error {
	magic := magic512
	if d.size == Size256 {
		magic = magic256
	}
	if len(b) != marshaledSize || string(b[:len(magic)]) != magic || int(b[len(b)-1]) >= BlockSize {
		return errState
	}
	b = b[len(magic):]
	for _, v := range [...]*[8]uint64{&d.h, &d.n, &d.sigma} {
		for i := range v {
			v[i] = binary.LittleEndian.Uint64(b)
			b = b[8:]
		}
	}
	copy(d.buf[:], b)
	d.nbuf = int(b[BlockSize])
	return nil
}
