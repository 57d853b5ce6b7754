package gost3410

import (
	"crypto/hmac"
	"hash"
)

// hmacDRBG is the reference for nonceDRBG: the same HMAC_DRBG written
// plainly over crypto/hmac and any hash.Hash, so that NIST's SHA-256 vectors
// test the algorithm (TestHMACDRBGVectors) and TestNonceDRBGMatches tests
// nonceDRBG against it over Streebog. It was Sign's DRBG until nonceDRBG
// replaced it for speed; its outputs are the ones Sign must keep.
type hmacDRBG struct {
	newHash func() hash.Hash
	mac     hash.Hash // HMAC keyed with K
	k, v    []byte
	drawn   bool // whether generate ran and the update after it is due
}

// newHMACDRBG runs HMAC_DRBG_Instantiate_algorithm (section 10.1.2.3) with
// seed material entropy ‖ nonce ‖ personalization. When aligned is set, each
// element of personalization starts on a block boundary of the hash, padded
// with zero bytes, as draft-irtf-cfrg-det-sigs-with-noise-04, section 4 lays
// out the hedged nonce input and Go's crypto/ecdsa implements it: the secret
// then fills blocks of its own instead of sharing a compression with the
// randomness. With aligned unset the elements are plainly concatenated,
// which is what the NIST vectors exercise.
func newHMACDRBG(newHash func() hash.Hash, entropy, nonce []byte, aligned bool, personalization ...[]byte) *hmacDRBG {
	size := newHash().Size()
	d := &hmacDRBG{newHash: newHash, k: make([]byte, size), v: make([]byte, size)}
	for i := range d.v {
		d.v[i] = 0x01
	}
	seed := func(h hash.Hash) {
		h.Write(entropy)
		h.Write(nonce)
		written := len(d.v) + 1 + len(entropy) + len(nonce)
		for _, p := range personalization {
			if aligned {
				if rem := written % h.BlockSize(); rem != 0 {
					var zeros [128]byte
					h.Write(zeros[:h.BlockSize()-rem])
				}
				written = 0
			}
			h.Write(p)
			written += len(p)
		}
	}
	d.update(seed)
	return d
}

// update is HMAC_DRBG_Update (section 10.1.2.2); provided writes the
// provided data into an HMAC, or is nil when there is none.
func (d *hmacDRBG) update(provided func(hash.Hash)) {
	for _, round := range []byte{0x00, 0x01} {
		// K = HMAC(K, V ‖ round ‖ provided_data)
		h := hmac.New(d.newHash, d.k)
		h.Write(d.v)
		h.Write([]byte{round})
		if provided != nil {
			provided(h)
		}
		d.k = h.Sum(d.k[:0])
		// V = HMAC(K, V)
		d.mac = hmac.New(d.newHash, d.k)
		d.mac.Write(d.v)
		d.v = d.mac.Sum(d.v[:0])
		if provided == nil {
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
func (d *hmacDRBG) generate(out []byte) {
	if d.drawn {
		d.update(nil)
	}
	for n := 0; n < len(out); {
		d.mac.Reset()
		d.mac.Write(d.v)
		d.v = d.mac.Sum(d.v[:0])
		n += copy(out[n:], d.v)
	}
	d.drawn = true
}

// clear overwrites the state. The HMAC objects keep their own copies of K
// inside crypto/hmac where they cannot be reached; K and V are one-way
// images of the seed, not the private key itself.
func (d *hmacDRBG) clear() {
	clear(d.k)
	clear(d.v)
	d.mac = nil
}
