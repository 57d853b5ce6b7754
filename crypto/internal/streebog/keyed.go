package streebog

import "encoding/binary"

// The first block of every hash is compressed with h the initial vector and
// N = 0, so the round keys of E, which depend on h ^ N only, are the same
// for all first blocks: an HMAC's key blocks (K ^ ipad and K ^ opad) can
// skip the key schedule, half of a compression's LPS. keyed holds them.
type keyed struct {
	words [13][8]uint64 // K1..K13, for the tables
	// transposed is the same keys in the vector code's layout (byte j of
	// word w at byte 8j+w, compress_amd64.go).
	transposed [13][64]byte
}

var ivKeyed = [2]*keyed{newKeyed(Size256), newKeyed(Size512)}

// newKeyed runs the key schedule of E from h ^ N = IV (RFC 6986, section
// 7): K1 = LPS(IV), K(i+1) = LPS(Ki ^ Ci).
func newKeyed(size int) *keyed {
	var d Digest
	d.Init(size)
	var x, next, k [64]byte
	for i, w := range d.h {
		binary.LittleEndian.PutUint64(x[8*i:], w)
	}
	t := new(keyed)
	for i := range t.words {
		c := &zeroConstant
		if i < len(roundConstants) {
			c = &roundConstants[i]
		}
		lpsKey(&k, &next, &x, c)
		load(&t.words[i], k[:])
		for w, v := range t.words[i] {
			for j := range 8 {
				t.transposed[i][8*j+w] = byte(v >> (8 * j))
			}
		}
		x = next
	}
	return t
}

// keyedGeneric sets out to g_0(h, m) with E's round keys given: with the
// tables, X(i+1) = LPS(Xi) ^ K(i+1) comes out of lpsKey.
func keyedGeneric(out, h, m *[8]uint64, keys *[13][8]uint64) {
	var x, next, scratch [64]byte
	for i := range m {
		binary.LittleEndian.PutUint64(x[8*i:], m[i]^keys[0][i])
	}
	for r := 1; r < len(keys); r++ {
		lpsKey(&scratch, &next, &x, &keys[r])
		x = next
	}
	for i := range out {
		out[i] = h[i] ^ binary.LittleEndian.Uint64(x[8*i:]) ^ m[i]
	}
}

// firstBlocks sets a and b (Digests of size bytes) to the states after the
// one block ma, respectively mb, of a message, sharing one key schedule.
func firstBlocks(size int, a, b *Digest, ma, mb *[BlockSize]byte) {
	a.Init(size)
	b.Init(size)
	keys := ivKeyed[0]
	if size == Size512 {
		keys = ivKeyed[1]
	}
	load(&a.sigma, ma[:])
	load(&b.sigma, mb[:])
	keyedPair(keys, &a.h, &a.h, &b.h, &a.sigma, &b.sigma)
	a.n[0] = BlockSize * 8
	b.n[0] = BlockSize * 8
}
