package gost3410

import "github.com/podpis/podpis/crypto/internal/streebog"

// nonceDRBG is the HMAC_DRBG of NIST SP 800-90A Rev. 1, section 10.1.2,
// without reseeding or additional input, over HMAC_GOSTR3411_2012_256 for
// 256-bit keys and HMAC_GOSTR3411_2012_512 for 512-bit ones (RFC 7836,
// section 4.1.1): a signature instantiates one, draws one or two nonce
// candidates from it and drops it, as Go's crypto/ecdsa does for its hedged
// signatures (and RFC 6979, section 3.2, for deterministic ones). With the
// Streebog that GOST R 34.10-2012 pairs with the key size, one HMAC output
// is exactly one nonce candidate, and the DRBG's strength (the hash's output
// length, SP 800-90A table 2) never falls below the key's.
//
// It computes what hmacDRBG (drbg_ref_test.go), the plain rendering over
// crypto/hmac, computes, in about half the time and without allocating
// (BenchmarkNonceDRBG): each key's inner and outer states are hashed once,
// from round keys precomputed for the initial vector, and copied for each of
// its two MACs; the states for the all-zero first key are computed once per
// process; everything lives in fixed arrays. What is left is the
// compressions the standard asks for, one after another, each needing the
// last: 36 for a 256-bit draw, 46 for a 512-bit one, plus two keyings of
// about 0.6 compression each; and 18 or 24 more, and a keying, when a
// candidate is rejected (half the time on TC26 256 A, whose q is just above
// 2^254). Nothing of the instantiation's two updates is skipped.
type nonceDRBG struct {
	size  int
	mac   streebog.HMAC // keyed with K
	k, v  [streebog.Size512]byte
	drawn bool // whether generate ran and the update after it is due
}

// zeroKeyMACs hold HMAC keyed with the initial K = 0x00…00 of
// HMAC_DRBG_Instantiate, for 256- and 512-bit output.
var zeroKeyMACs = func() (m [2]streebog.HMAC) {
	var zero [streebog.Size512]byte
	m[0].SetKey(streebog.Size256, zero[:streebog.Size256])
	m[1].SetKey(streebog.Size512, zero[:])
	return m
}()

// init runs HMAC_DRBG_Instantiate_algorithm (section 10.1.2.3) for size-byte
// output with seed material entropy ‖ key ‖ digest, each of key and digest
// starting on a block boundary of the hash, padded with zero bytes before
// it, as draft-irtf-cfrg-det-sigs-with-noise-04, section 4 lays out the
// hedged nonce input and Go's crypto/ecdsa implements it: the secret then
// fills blocks of its own instead of sharing a compression with the
// randomness.
func (d *nonceDRBG) init(size int, entropy, key, digest []byte) {
	d.size = size
	d.drawn = false
	d.mac = zeroKeyMACs[0]
	if size == streebog.Size512 {
		d.mac = zeroKeyMACs[1]
	}
	for i := range d.v[:size] {
		d.v[i] = 0x01
	}
	d.update(true, entropy, key, digest)
}

// update is HMAC_DRBG_Update (section 10.1.2.2) with the provided data of
// init when seeded, or none.
func (d *nonceDRBG) update(seeded bool, entropy, key, digest []byte) {
	size := d.size
	var h streebog.Digest
	for _, round := range [...]byte{0x00, 0x01} {
		// K = HMAC(K, V ‖ round ‖ provided_data)
		d.mac.Start(&h)
		h.Write(d.v[:size])
		h.Write([]byte{round})
		if seeded {
			h.Write(entropy)
			written := size + 1 + len(entropy)
			var zeros [streebog.BlockSize]byte
			for _, p := range [...][]byte{key, digest} {
				if rem := written % streebog.BlockSize; rem != 0 {
					h.Write(zeros[:streebog.BlockSize-rem])
				}
				h.Write(p)
				written = len(p)
			}
		}
		d.mac.Finish(d.k[:size], &h)
		d.mac.SetKey(size, d.k[:size])
		// V = HMAC(K, V)
		d.mac.Start(&h)
		h.Write(d.v[:size])
		d.mac.Finish(d.v[:size], &h)
		if !seeded {
			return
		}
	}
}

// generate fills out (HMAC_DRBG_Generate_algorithm, section 10.1.2.5,
// without additional input). The state update that closes a Generate runs
// at the start of the next one instead, as in RFC 6979, section 3.2, step
// h: a signature nearly always draws a single candidate, and the update
// would add two HMACs to the five it needs, for nothing. The outputs are the
// standard's.
func (d *nonceDRBG) generate(out []byte) {
	if d.drawn {
		d.update(false, nil, nil, nil)
	}
	var h streebog.Digest
	for n := 0; n < len(out); {
		d.mac.Start(&h)
		h.Write(d.v[:d.size])
		d.mac.Finish(d.v[:d.size], &h)
		n += copy(out[n:], d.v[:d.size])
	}
	d.drawn = true
}

// clear overwrites K, V and the states keyed with K (the Digests a MAC runs
// in are cleared by Finish).
func (d *nonceDRBG) clear() {
	clear(d.k[:])
	clear(d.v[:])
	d.mac.Clear()
}
