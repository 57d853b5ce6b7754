//go:build !amd64 || purego

package streebog

// UseAVX512 is false: the tables are all there is.
var UseAVX512 = false

func (d *Digest) compress(n, m *[8]uint64) { d.compressGeneric(n, m) }

func (d *Digest) blocks(p []byte) { d.blocksGeneric(p) }
