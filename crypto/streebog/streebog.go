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
// products, P folded into the permutations. It touches no memory that
// depends on the data and is about three times as fast as the tables.
// Elsewhere, and with the purego build tag, it uses the precomputed LPS
// tables (S, P and L folded into eight 256-entry tables), built once at
// package initialisation from the constants of the standard; their look-ups
// depend on the data being hashed, the usual trade-off for Streebog in
// software, which matters only where the input is secret and the attacker
// shares the CPU. Hashing does not allocate.
//
// The hashes implement encoding.BinaryMarshaler and BinaryUnmarshaler, so
// that a hash in progress can be saved, as the standard library's can.
// The code lives in crypto/internal/streebog, where crypto/gost3410's nonce
// derivation reaches the state directly.
package streebog

import (
	"hash"

	"github.com/podpis/podpis/crypto/internal/streebog"
)

// BlockSize is the block size of Streebog in bytes.
const BlockSize = streebog.BlockSize

// Size256 and Size512 are the digest sizes in bytes.
const (
	Size256 = streebog.Size256
	Size512 = streebog.Size512
)

// New256 returns a hash.Hash computing Streebog-256.
func New256() hash.Hash { d := new(streebog.Digest); d.Init(Size256); return d }

// New512 returns a hash.Hash computing Streebog-512.
func New512() hash.Hash { d := new(streebog.Digest); d.Init(Size512); return d }

// Sum256 returns the Streebog-256 digest of data.
func Sum256(data []byte) [Size256]byte {
	var d streebog.Digest
	d.Init(Size256)
	d.Write(data)
	var out [Size256]byte
	d.Final(out[:])
	return out
}

// Sum512 returns the Streebog-512 digest of data.
func Sum512(data []byte) [Size512]byte {
	var d streebog.Digest
	d.Init(Size512)
	d.Write(data)
	var out [Size512]byte
	d.Final(out[:])
	return out
}
