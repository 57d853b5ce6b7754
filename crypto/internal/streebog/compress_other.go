//go:build !amd64 || purego

package streebog

// UseAVX512 is false: the tables are all there is.
var UseAVX512 = false

func (d *Digest) compress(n, m *[8]uint64) { d.compressGeneric(n, m) }

func (d *Digest) blocks(p []byte) { d.blocksGeneric(p) }

func keyedPair(keys *keyed, h, ha, hb, ma, mb *[8]uint64) {
	iv := *h
	keyedGeneric(ha, &iv, ma, &keys.words)
	keyedGeneric(hb, &iv, mb, &keys.words)
}
