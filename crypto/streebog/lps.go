package streebog

import "encoding/binary"

// lpsTable[k][b] is L(P(S(x))) restricted to byte b sitting in word k of x:
// S maps the byte through pi, P (the byte transposition tau) moves byte w of
// word k to byte k of word w, and L multiplies each word by matrixA. LPS of a
// whole state is then the XOR of eight look-ups per output word.
var lpsTable = buildLPSTable()

func buildLPSTable() (t [8][256]uint64) {
	for k := range t {
		for b := range t[k] {
			v := uint64(pi[b]) << (8 * k)
			var out uint64
			for bit := 0; bit < 64; bit++ {
				if v>>bit&1 == 1 {
					out ^= matrixA[63-bit]
				}
			}
			t[k][b] = out
		}
	}
	return t
}

// The state lives in little-endian byte arrays: indexing the tables with
// bytes loaded straight from memory spares the shifts and byte extractions
// that dominate the cost when the words sit in registers, and each LPS
// writes its result already XORed with the next operand, so no separate pass
// over the state is needed between rounds. dst must not alias x.

// lpsXor sets dst to LPS(x) ^ z.
func lpsXor(dst, x, z *[64]byte) {
	t := &lpsTable
	binary.LittleEndian.PutUint64(dst[0:], binary.LittleEndian.Uint64(z[0:])^
		t[0][x[0]]^
		t[1][x[8]]^
		t[2][x[16]]^
		t[3][x[24]]^
		t[4][x[32]]^
		t[5][x[40]]^
		t[6][x[48]]^
		t[7][x[56]])
	binary.LittleEndian.PutUint64(dst[8:], binary.LittleEndian.Uint64(z[8:])^
		t[0][x[1]]^
		t[1][x[9]]^
		t[2][x[17]]^
		t[3][x[25]]^
		t[4][x[33]]^
		t[5][x[41]]^
		t[6][x[49]]^
		t[7][x[57]])
	binary.LittleEndian.PutUint64(dst[16:], binary.LittleEndian.Uint64(z[16:])^
		t[0][x[2]]^
		t[1][x[10]]^
		t[2][x[18]]^
		t[3][x[26]]^
		t[4][x[34]]^
		t[5][x[42]]^
		t[6][x[50]]^
		t[7][x[58]])
	binary.LittleEndian.PutUint64(dst[24:], binary.LittleEndian.Uint64(z[24:])^
		t[0][x[3]]^
		t[1][x[11]]^
		t[2][x[19]]^
		t[3][x[27]]^
		t[4][x[35]]^
		t[5][x[43]]^
		t[6][x[51]]^
		t[7][x[59]])
	binary.LittleEndian.PutUint64(dst[32:], binary.LittleEndian.Uint64(z[32:])^
		t[0][x[4]]^
		t[1][x[12]]^
		t[2][x[20]]^
		t[3][x[28]]^
		t[4][x[36]]^
		t[5][x[44]]^
		t[6][x[52]]^
		t[7][x[60]])
	binary.LittleEndian.PutUint64(dst[40:], binary.LittleEndian.Uint64(z[40:])^
		t[0][x[5]]^
		t[1][x[13]]^
		t[2][x[21]]^
		t[3][x[29]]^
		t[4][x[37]]^
		t[5][x[45]]^
		t[6][x[53]]^
		t[7][x[61]])
	binary.LittleEndian.PutUint64(dst[48:], binary.LittleEndian.Uint64(z[48:])^
		t[0][x[6]]^
		t[1][x[14]]^
		t[2][x[22]]^
		t[3][x[30]]^
		t[4][x[38]]^
		t[5][x[46]]^
		t[6][x[54]]^
		t[7][x[62]])
	binary.LittleEndian.PutUint64(dst[56:], binary.LittleEndian.Uint64(z[56:])^
		t[0][x[7]]^
		t[1][x[15]]^
		t[2][x[23]]^
		t[3][x[31]]^
		t[4][x[39]]^
		t[5][x[47]]^
		t[6][x[55]]^
		t[7][x[63]])
}

// lpsKey sets k to LPS(x) and xk to LPS(x) ^ c: the next round key and the
// input of the round after it.
func lpsKey(k, xk, x *[64]byte, c *[8]uint64) {
	t := &lpsTable
	var w uint64
	w = t[0][x[0]] ^
		t[1][x[8]] ^
		t[2][x[16]] ^
		t[3][x[24]] ^
		t[4][x[32]] ^
		t[5][x[40]] ^
		t[6][x[48]] ^
		t[7][x[56]]
	binary.LittleEndian.PutUint64(k[0:], w)
	binary.LittleEndian.PutUint64(xk[0:], w^c[0])
	w = t[0][x[1]] ^
		t[1][x[9]] ^
		t[2][x[17]] ^
		t[3][x[25]] ^
		t[4][x[33]] ^
		t[5][x[41]] ^
		t[6][x[49]] ^
		t[7][x[57]]
	binary.LittleEndian.PutUint64(k[8:], w)
	binary.LittleEndian.PutUint64(xk[8:], w^c[1])
	w = t[0][x[2]] ^
		t[1][x[10]] ^
		t[2][x[18]] ^
		t[3][x[26]] ^
		t[4][x[34]] ^
		t[5][x[42]] ^
		t[6][x[50]] ^
		t[7][x[58]]
	binary.LittleEndian.PutUint64(k[16:], w)
	binary.LittleEndian.PutUint64(xk[16:], w^c[2])
	w = t[0][x[3]] ^
		t[1][x[11]] ^
		t[2][x[19]] ^
		t[3][x[27]] ^
		t[4][x[35]] ^
		t[5][x[43]] ^
		t[6][x[51]] ^
		t[7][x[59]]
	binary.LittleEndian.PutUint64(k[24:], w)
	binary.LittleEndian.PutUint64(xk[24:], w^c[3])
	w = t[0][x[4]] ^
		t[1][x[12]] ^
		t[2][x[20]] ^
		t[3][x[28]] ^
		t[4][x[36]] ^
		t[5][x[44]] ^
		t[6][x[52]] ^
		t[7][x[60]]
	binary.LittleEndian.PutUint64(k[32:], w)
	binary.LittleEndian.PutUint64(xk[32:], w^c[4])
	w = t[0][x[5]] ^
		t[1][x[13]] ^
		t[2][x[21]] ^
		t[3][x[29]] ^
		t[4][x[37]] ^
		t[5][x[45]] ^
		t[6][x[53]] ^
		t[7][x[61]]
	binary.LittleEndian.PutUint64(k[40:], w)
	binary.LittleEndian.PutUint64(xk[40:], w^c[5])
	w = t[0][x[6]] ^
		t[1][x[14]] ^
		t[2][x[22]] ^
		t[3][x[30]] ^
		t[4][x[38]] ^
		t[5][x[46]] ^
		t[6][x[54]] ^
		t[7][x[62]]
	binary.LittleEndian.PutUint64(k[48:], w)
	binary.LittleEndian.PutUint64(xk[48:], w^c[6])
	w = t[0][x[7]] ^
		t[1][x[15]] ^
		t[2][x[23]] ^
		t[3][x[31]] ^
		t[4][x[39]] ^
		t[5][x[47]] ^
		t[6][x[55]] ^
		t[7][x[63]]
	binary.LittleEndian.PutUint64(k[56:], w)
	binary.LittleEndian.PutUint64(xk[56:], w^c[7])
}
