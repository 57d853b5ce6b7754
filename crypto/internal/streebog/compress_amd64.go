//go:build amd64 && !purego

package streebog

import "golang.org/x/sys/cpu"

// UseAVX512 selects the vector compression function (tests turn it off to
// run the tables where the vectors would run). It needs byte
// permutations across the whole register (VBMI), to apply S and P, and
// GF(2) affine maps on bytes (GFNI), to apply L as 64 8x8 bit matrices;
// CPUs without them, and builds with the purego tag, use the tables.
var UseAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW &&
	cpu.X86.HasAVX512VBMI && cpu.X86.HasAVX512GFNI

// compressAVX512 is g_N(h, m).
//
//go:noescape
func compressAVX512(h, n, m *[8]uint64)

// blocksAVX512 absorbs the whole blocks of p: for each, h = g_N(h, m),
// N += 512 and sigma += m.
//
//go:noescape
func blocksAVX512(h, n, sigma *[8]uint64, p []byte)

// avx512 holds what the vector code keeps in registers or reads as memory
// operands; the assembly relies on this field order.
var avx512 = buildAVX512Tables()

type avx512Tables struct {
	sbox [256]byte
	// matrices[r][j] is, in VGF2P8AFFINEQB's encoding, the 8x8 bit matrix
	// taking byte (j+r) mod 8 of a word to its contribution to byte j of
	// L of that word.
	matrices [8][8]uint64
	// transpose[8w+j] = 8j+w: VPERMB with it swaps the lanes and bytes of a
	// state.
	transpose [64]byte
	// rounds are the constants C_i with lanes and bytes swapped.
	rounds [12][64]byte
	// gather[r] puts byte w of word (j+r) mod 8 at byte w of lane j, where
	// matrices[r] expect it.
	gather [8][64]byte
}

// The vector code holds the state transposed: byte j of word w at byte w of
// lane j (of the 64-byte register). Byte w of word k, after S, is moved by P
// to byte k of word w, and L turns it into a share of byte j of word w of
// the output through an 8x8 bit matrix that depends on j and k only;
// VGF2P8AFFINEQB applies one matrix per lane. So LPS is, for r = 0..7, a
// VPERMB putting byte w of word (j+r) mod 8 at byte w of lane j, then one
// affine instruction with the matrices of (j, (j+r) mod 8); the XOR of the
// eight results is LPS of the state, transposed like its input.
func buildAVX512Tables() *avx512Tables {
	t := &avx512Tables{sbox: pi}
	for r := range t.matrices {
		for j := range t.matrices[r] {
			k := (j + r) % 8
			var m uint64
			for bb := 0; bb < 8; bb++ {
				// L(x) is the XOR of matrixA[63-s] over the bits s of x.
				col := matrixA[63-(8*k+bb)] >> (8 * j) & 0xff
				for i := 0; i < 8; i++ {
					// Bit i of the result is the parity of the input ANDed
					// with byte 7-i of the matrix.
					m |= (col >> i & 1) << (8*(7-i) + bb)
				}
			}
			t.matrices[r][j] = m
		}
	}
	for w := 0; w < 8; w++ {
		for j := 0; j < 8; j++ {
			t.transpose[8*w+j] = byte(8*j + w)
			for i, c := range roundConstants {
				t.rounds[i][8*j+w] = byte(c[w] >> (8 * j))
			}
			for r := range t.gather {
				// Transposed, byte (j+r) mod 8 of word w is at lane w.
				t.gather[r][8*j+w] = byte(8*w + (j+r)%8)
			}
		}
	}
	return t
}

func (d *Digest) compress(n, m *[8]uint64) {
	if UseAVX512 {
		compressAVX512(&d.h, n, m)
		return
	}
	d.compressGeneric(n, m)
}

// blocks absorbs p, a whole number of blocks.
func (d *Digest) blocks(p []byte) {
	if UseAVX512 {
		blocksAVX512(&d.h, &d.n, &d.sigma, p)
		return
	}
	d.blocksGeneric(p)
}

// keyedPairAVX512 sets ha to g_0(h, ma) and hb to g_0(h, mb), with E's
// round keys given, the two chains interleaved.
//
//go:noescape
func keyedPairAVX512(h, ha, hb, ma, mb *[8]uint64, keys *[13][64]byte)

func keyedPair(keys *keyed, h, ha, hb, ma, mb *[8]uint64) {
	if UseAVX512 {
		keyedPairAVX512(h, ha, hb, ma, mb, &keys.transposed)
		return
	}
	iv := *h
	keyedGeneric(ha, &iv, ma, &keys.words)
	keyedGeneric(hb, &iv, mb, &keys.words)
}
