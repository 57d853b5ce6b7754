// Package streebog implements the GOST R 34.11-2012 hash function
// "Streebog" (RFC 6986) with 256- and 512-bit output.
//
// Byte order follows what implementations exchange: the RFC prints messages
// and digests as big-endian numbers, while this package, like OpenSSL's GOST
// engine, CryptoPro CSP and PKCS#11 tokens, reads the message as a
// little-endian number and writes the digest little-endian. The digests of
// RFC 6986 appear here byte-reversed.
//
// On amd64 CPUs with AVX-512 VBMI and GFNI the compression function runs in
// vector registers: S as byte permutations, L as GF(2) 8x8 bit-matrix
// products, P folded into the permutations (compress_amd64.go). It touches
// no memory that depends on the data and is about three times as fast as
// the tables. Elsewhere, and with the purego build tag, it uses the
// precomputed LPS tables (S, P and L folded into eight 256-entry tables),
// built once at package initialisation from the constants of the standard;
// their look-ups depend on the data being hashed, the usual trade-off for
// Streebog in software, which matters only where the input is secret and the
// attacker shares the CPU. Hashing does not allocate.
package streebog

import (
	"encoding/binary"
	"errors"
	"hash"
	"math/bits"
)

// BlockSize is the block size of Streebog in bytes.
const BlockSize = 64

// Size256 and Size512 are the digest sizes in bytes.
const (
	Size256 = 32
	Size512 = 64
)

// digest is a Streebog state. h is the chaining value, n the number of
// message bits processed so far and sigma the sum of message blocks, all as
// little-endian 512-bit numbers in 64-bit words.
type digest struct {
	h, n, sigma [8]uint64
	buf         [BlockSize]byte
	nbuf        int
	size        int
}

// New256 returns a hash.Hash computing Streebog-256.
func New256() hash.Hash { d := &digest{size: Size256}; d.Reset(); return d }

// New512 returns a hash.Hash computing Streebog-512.
func New512() hash.Hash { d := &digest{size: Size512}; d.Reset(); return d }

// Sum256 returns the Streebog-256 digest of data.
func Sum256(data []byte) [Size256]byte {
	d := digest{size: Size256}
	d.Reset()
	d.Write(data)
	var out [Size256]byte
	d.checkSum(out[:])
	return out
}

// Sum512 returns the Streebog-512 digest of data.
func Sum512(data []byte) [Size512]byte {
	d := digest{size: Size512}
	d.Reset()
	d.Write(data)
	var out [Size512]byte
	d.checkSum(out[:])
	return out
}

func (d *digest) Size() int      { return d.size }
func (d *digest) BlockSize() int { return BlockSize }

// Reset sets the initialisation vector: all zero bytes for the 512-bit
// function, all 0x01 bytes for the 256-bit one (RFC 6986, section 5).
func (d *digest) Reset() {
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

func (d *digest) Write(p []byte) (int, error) {
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
func (d *digest) Sum(b []byte) []byte {
	c := *d
	var out [Size512]byte
	c.checkSum(out[:d.size])
	return append(b, out[:d.size]...)
}

// checkSum finishes the hash (RFC 6986, section 8.3) into out.
func (d *digest) checkSum(out []byte) {
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

func (d *digest) blocksGeneric(p []byte) {
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
func (d *digest) compressGeneric(n, m *[8]uint64) {
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

func (d *digest) MarshalBinary() ([]byte, error) {
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

func (d *digest) UnmarshalBinary(b []byte) error {
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
