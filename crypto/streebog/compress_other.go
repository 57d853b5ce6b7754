//go:build !amd64 || purego

package streebog

var useAVX512 = false

func (d *digest) compress(n, m *[8]uint64) { d.compressGeneric(n, m) }

func (d *digest) blocks(p []byte) { d.blocksGeneric(p) }
