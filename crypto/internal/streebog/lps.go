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

// lpsRound is one round of E fused with the key schedule: with
// K' = LPS(xk), it sets xkOut = K' ^ c and xsOut = LPS(xs) ^ K'. Computing
// both per output word keeps K' in a register and gives the CPU two
// independent chains of look-ups. The outputs must not alias the inputs.
func lpsRound(xkOut, xsOut, xk, xs *[64]byte, c *[8]uint64) {
	t := &lpsTable
	{
		wk := t[0][xk[0]] ^
			t[1][xk[8]] ^
			t[2][xk[16]] ^
			t[3][xk[24]] ^
			t[4][xk[32]] ^
			t[5][xk[40]] ^
			t[6][xk[48]] ^
			t[7][xk[56]]
		binary.LittleEndian.PutUint64(xkOut[0:], wk^c[0])
		binary.LittleEndian.PutUint64(xsOut[0:], wk^
			t[0][xs[0]]^
			t[1][xs[8]]^
			t[2][xs[16]]^
			t[3][xs[24]]^
			t[4][xs[32]]^
			t[5][xs[40]]^
			t[6][xs[48]]^
			t[7][xs[56]])
	}
	{
		wk := t[0][xk[1]] ^
			t[1][xk[9]] ^
			t[2][xk[17]] ^
			t[3][xk[25]] ^
			t[4][xk[33]] ^
			t[5][xk[41]] ^
			t[6][xk[49]] ^
			t[7][xk[57]]
		binary.LittleEndian.PutUint64(xkOut[8:], wk^c[1])
		binary.LittleEndian.PutUint64(xsOut[8:], wk^
			t[0][xs[1]]^
			t[1][xs[9]]^
			t[2][xs[17]]^
			t[3][xs[25]]^
			t[4][xs[33]]^
			t[5][xs[41]]^
			t[6][xs[49]]^
			t[7][xs[57]])
	}
	{
		wk := t[0][xk[2]] ^
			t[1][xk[10]] ^
			t[2][xk[18]] ^
			t[3][xk[26]] ^
			t[4][xk[34]] ^
			t[5][xk[42]] ^
			t[6][xk[50]] ^
			t[7][xk[58]]
		binary.LittleEndian.PutUint64(xkOut[16:], wk^c[2])
		binary.LittleEndian.PutUint64(xsOut[16:], wk^
			t[0][xs[2]]^
			t[1][xs[10]]^
			t[2][xs[18]]^
			t[3][xs[26]]^
			t[4][xs[34]]^
			t[5][xs[42]]^
			t[6][xs[50]]^
			t[7][xs[58]])
	}
	{
		wk := t[0][xk[3]] ^
			t[1][xk[11]] ^
			t[2][xk[19]] ^
			t[3][xk[27]] ^
			t[4][xk[35]] ^
			t[5][xk[43]] ^
			t[6][xk[51]] ^
			t[7][xk[59]]
		binary.LittleEndian.PutUint64(xkOut[24:], wk^c[3])
		binary.LittleEndian.PutUint64(xsOut[24:], wk^
			t[0][xs[3]]^
			t[1][xs[11]]^
			t[2][xs[19]]^
			t[3][xs[27]]^
			t[4][xs[35]]^
			t[5][xs[43]]^
			t[6][xs[51]]^
			t[7][xs[59]])
	}
	{
		wk := t[0][xk[4]] ^
			t[1][xk[12]] ^
			t[2][xk[20]] ^
			t[3][xk[28]] ^
			t[4][xk[36]] ^
			t[5][xk[44]] ^
			t[6][xk[52]] ^
			t[7][xk[60]]
		binary.LittleEndian.PutUint64(xkOut[32:], wk^c[4])
		binary.LittleEndian.PutUint64(xsOut[32:], wk^
			t[0][xs[4]]^
			t[1][xs[12]]^
			t[2][xs[20]]^
			t[3][xs[28]]^
			t[4][xs[36]]^
			t[5][xs[44]]^
			t[6][xs[52]]^
			t[7][xs[60]])
	}
	{
		wk := t[0][xk[5]] ^
			t[1][xk[13]] ^
			t[2][xk[21]] ^
			t[3][xk[29]] ^
			t[4][xk[37]] ^
			t[5][xk[45]] ^
			t[6][xk[53]] ^
			t[7][xk[61]]
		binary.LittleEndian.PutUint64(xkOut[40:], wk^c[5])
		binary.LittleEndian.PutUint64(xsOut[40:], wk^
			t[0][xs[5]]^
			t[1][xs[13]]^
			t[2][xs[21]]^
			t[3][xs[29]]^
			t[4][xs[37]]^
			t[5][xs[45]]^
			t[6][xs[53]]^
			t[7][xs[61]])
	}
	{
		wk := t[0][xk[6]] ^
			t[1][xk[14]] ^
			t[2][xk[22]] ^
			t[3][xk[30]] ^
			t[4][xk[38]] ^
			t[5][xk[46]] ^
			t[6][xk[54]] ^
			t[7][xk[62]]
		binary.LittleEndian.PutUint64(xkOut[48:], wk^c[6])
		binary.LittleEndian.PutUint64(xsOut[48:], wk^
			t[0][xs[6]]^
			t[1][xs[14]]^
			t[2][xs[22]]^
			t[3][xs[30]]^
			t[4][xs[38]]^
			t[5][xs[46]]^
			t[6][xs[54]]^
			t[7][xs[62]])
	}
	{
		wk := t[0][xk[7]] ^
			t[1][xk[15]] ^
			t[2][xk[23]] ^
			t[3][xk[31]] ^
			t[4][xk[39]] ^
			t[5][xk[47]] ^
			t[6][xk[55]] ^
			t[7][xk[63]]
		binary.LittleEndian.PutUint64(xkOut[56:], wk^c[7])
		binary.LittleEndian.PutUint64(xsOut[56:], wk^
			t[0][xs[7]]^
			t[1][xs[15]]^
			t[2][xs[23]]^
			t[3][xs[31]]^
			t[4][xs[39]]^
			t[5][xs[47]]^
			t[6][xs[55]]^
			t[7][xs[63]])
	}
}
