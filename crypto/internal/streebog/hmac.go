package streebog

// HMAC is HMAC_GOSTR3411_2012_256 or HMAC_GOSTR3411_2012_512 (RFC 7836,
// section 4.1.1, which is RFC 2104 over Streebog) under one key. It keeps
// the states after the key block XOR ipad and XOR opad, so each MAC costs
// only the compressions of the message and of the outer hash's last block
// and finalisation, never the two of the key blocks again, and it holds them
// by value: an HMAC and the Digest a MAC runs in live on the caller's stack,
// where crypto/hmac would allocate two hashes per key and two marshalled
// states on its first Reset. An HMAC_DRBG rekeys after every two MACs, which
// is what this is for.
type HMAC struct {
	inner, outer Digest
}

// SetKey keys m for MACs of size bytes (Size256 or Size512). Keys are at
// most BlockSize bytes, as they are in HMAC_DRBG (the output length of the
// hash); a longer one would have to be hashed first, which nothing here
// needs, so it panics.
func (m *HMAC) SetKey(size int, key []byte) {
	if len(key) > BlockSize {
		panic("streebog: HMAC key longer than a block")
	}
	var ipad, opad [BlockSize]byte
	copy(ipad[:], key)
	copy(opad[:], key)
	for i := range ipad {
		ipad[i] ^= 0x36
		opad[i] ^= 0x5c
	}
	firstBlocks(size, &m.inner, &m.outer, &ipad, &opad)
	clear(ipad[:])
	clear(opad[:])
}

// Start sets d to the keyed inner state: the message is then written into
// d and the MAC taken with Finish.
func (m *HMAC) Start(d *Digest) { *d = m.inner }

// Finish writes to out, as long as the MAC, the MAC of what was written
// into d since Start, and clears d.
func (m *HMAC) Finish(out []byte, d *Digest) {
	var in [Size512]byte
	size := m.inner.size
	d.Final(in[:size])
	*d = m.outer
	d.Write(in[:size])
	d.Final(out[:size])
	clear(in[:])
	*d = Digest{}
}

// Clear overwrites the keyed states.
func (m *HMAC) Clear() { *m = HMAC{} }
