//go:build amd64 && !purego

#include "textflag.h"

// The compression function with AVX-512 VBMI and GFNI; compress_amd64.go
// explains the method and lays out the tables DX points to. Registers:
// Z0-Z3 the S-box, Z4-Z11 the gathers, Z12 the transposition, Z13 h and
// Z14 m, Z18 m transposed, Z16 the round key K and Z17 the state X of E,
// both transposed. Z15 is left alone.

#define LOAD_TABLES \
	VMOVDQU64 0(DX), Z0; \
	VMOVDQU64 64(DX), Z1; \
	VMOVDQU64 128(DX), Z2; \
	VMOVDQU64 192(DX), Z3; \
	VMOVDQU64 1600(DX), Z4; \
	VMOVDQU64 1664(DX), Z5; \
	VMOVDQU64 1728(DX), Z6; \
	VMOVDQU64 1792(DX), Z7; \
	VMOVDQU64 1856(DX), Z8; \
	VMOVDQU64 1920(DX), Z9; \
	VMOVDQU64 1984(DX), Z10; \
	VMOVDQU64 2048(DX), Z11; \
	VMOVDQU64 768(DX), Z12

// LPS sets V to LPS(V). S: two 128-byte look-ups (VPERMT2B uses the low
// seven bits of each index) blended on the top bit. Then eight gathers, each
// through its matrices, XORed as a tree to keep the chain short.
#define LPS(V, A, B, C, D, KM) \
	VPMOVB2M V, KM; \
	VMOVDQU64 Z0, A; \
	VPERMT2B Z1, V, A; \
	VMOVDQU64 Z2, B; \
	VPERMT2B Z3, V, B; \
	VPBLENDMB B, A, KM, A; \
	VPERMB A, Z4, B; \
	VGF2P8AFFINEQB $0, 256(DX), B, B; \
	VPERMB A, Z5, C; \
	VGF2P8AFFINEQB $0, 320(DX), C, C; \
	VPERMB A, Z6, D; \
	VGF2P8AFFINEQB $0, 384(DX), D, D; \
	VPTERNLOGQ $0x96, D, C, B; \
	VPERMB A, Z7, C; \
	VGF2P8AFFINEQB $0, 448(DX), C, C; \
	VPERMB A, Z8, D; \
	VGF2P8AFFINEQB $0, 512(DX), D, D; \
	VPERMB A, Z9, V; \
	VGF2P8AFFINEQB $0, 576(DX), V, V; \
	VPTERNLOGQ $0x96, D, C, V; \
	VPERMB A, Z10, C; \
	VGF2P8AFFINEQB $0, 640(DX), C, C; \
	VPERMB A, Z11, D; \
	VGF2P8AFFINEQB $0, 704(DX), D, D; \
	VPXORQ D, C, C; \
	VPTERNLOGQ $0x96, C, B, V

// ROUND is one round of E beside the key schedule: K = LPS(K ^ C) with C at
// offset c of the tables, X = LPS(X) ^ K. The two chains are independent
// until the final XOR.
#define ROUND(c) \
	VPXORQ c(DX), Z16, Z16; \
	LPS(Z16, Z19, Z20, Z21, Z22, K1); \
	LPS(Z17, Z23, Z24, Z25, Z26, K2); \
	VPXORQ Z16, Z17, Z17

// FINISH runs E from K = h ^ N in Z16 and m in Z14 and sets h = E ^ h ^ m.
#define FINISH \
	VPERMB Z14, Z12, Z18; \
	LPS(Z16, Z19, Z20, Z21, Z22, K1); \
	VPXORQ Z18, Z16, Z17; \
	ROUND(832); \
	ROUND(896); \
	ROUND(960); \
	ROUND(1024); \
	ROUND(1088); \
	ROUND(1152); \
	ROUND(1216); \
	ROUND(1280); \
	ROUND(1344); \
	ROUND(1408); \
	ROUND(1472); \
	ROUND(1536); \
	VPTERNLOGQ $0x96, Z18, Z17, Z13

// START loads m from SI and sets K = h ^ N with N at BX.
#define START \
	VMOVDQU64 (SI), Z14; \
	VMOVDQU64 (BX), Z16; \
	VPERMB Z16, Z12, Z16; \
	VPXORQ Z13, Z16, Z16

// func compressAVX512(h, n, m *[8]uint64)
TEXT ·compressAVX512(SB), NOSPLIT, $0-24
	MOVQ h+0(FP), AX
	MOVQ n+8(FP), BX
	MOVQ m+16(FP), SI
	MOVQ ·avx512(SB), DX
	LOAD_TABLES
	VMOVDQU64 (AX), Z13
	VPERMB Z13, Z12, Z13
	START
	FINISH
	VPERMB Z13, Z12, Z13
	VMOVDQU64 Z13, (AX)
	VZEROUPPER
	RET

// func blocksAVX512(h, n, sigma *[8]uint64, p []byte)
TEXT ·blocksAVX512(SB), NOSPLIT, $0-48
	MOVQ h+0(FP), AX
	MOVQ n+8(FP), BX
	MOVQ sigma+16(FP), CX
	MOVQ p_base+24(FP), SI
	MOVQ p_len+32(FP), R8
	SHRQ $6, R8
	JZ   done
	MOVQ ·avx512(SB), DX
	LOAD_TABLES
	VMOVDQU64 (AX), Z13
	VPERMB Z13, Z12, Z13

loop:
	START

	// N += 512 and sigma += m on the integer units while the vector units
	// work; stored here, long before the next block loads N.
	ADDQ $512, 0(BX)
	ADCQ $0, 8(BX)
	ADCQ $0, 16(BX)
	ADCQ $0, 24(BX)
	ADCQ $0, 32(BX)
	ADCQ $0, 40(BX)
	ADCQ $0, 48(BX)
	ADCQ $0, 56(BX)
	MOVQ 0(SI), R9
	ADDQ R9, 0(CX)
	MOVQ 8(SI), R9
	ADCQ R9, 8(CX)
	MOVQ 16(SI), R9
	ADCQ R9, 16(CX)
	MOVQ 24(SI), R9
	ADCQ R9, 24(CX)
	MOVQ 32(SI), R9
	ADCQ R9, 32(CX)
	MOVQ 40(SI), R9
	ADCQ R9, 40(CX)
	MOVQ 48(SI), R9
	ADCQ R9, 48(CX)
	MOVQ 56(SI), R9
	ADCQ R9, 56(CX)
	FINISH
	ADDQ $64, SI
	DECQ R8
	JNZ  loop

	VPERMB Z13, Z12, Z13
	VMOVDQU64 Z13, (AX)
	VZEROUPPER

done:
	RET

// KEYED is one round of E with the round key given, for two states at once:
// X = LPS(X) ^ K with K at offset k from CX, in Z16 and Z17.
#define KEYED(k) \
	LPS(Z16, Z19, Z20, Z21, Z22, K1); \
	LPS(Z17, Z23, Z24, Z25, Z26, K2); \
	VPXORQ k(CX), Z16, Z16; \
	VPXORQ k(CX), Z17, Z17

// func keyedPairAVX512(h, ha, hb, ma, mb *[8]uint64, keys *[13][64]byte)
TEXT ·keyedPairAVX512(SB), NOSPLIT, $0-48
	MOVQ h+0(FP), AX
	MOVQ ma+24(FP), SI
	MOVQ mb+32(FP), DI
	MOVQ keys+40(FP), CX
	MOVQ ·avx512(SB), DX
	LOAD_TABLES
	VMOVDQU64 (SI), Z14
	VPERMB Z14, Z12, Z14
	VMOVDQU64 (DI), Z27
	VPERMB Z27, Z12, Z27
	VMOVDQU64 (CX), Z28
	VPXORQ Z28, Z14, Z16
	VPXORQ Z28, Z27, Z17
	KEYED(64)
	KEYED(128)
	KEYED(192)
	KEYED(256)
	KEYED(320)
	KEYED(384)
	KEYED(448)
	KEYED(512)
	KEYED(576)
	KEYED(640)
	KEYED(704)
	KEYED(768)
	VMOVDQU64 (AX), Z13
	VPERMB Z13, Z12, Z13
	VPTERNLOGQ $0x96, Z13, Z14, Z16
	VPTERNLOGQ $0x96, Z13, Z27, Z17
	VPERMB Z16, Z12, Z16
	VPERMB Z17, Z12, Z17
	MOVQ ha+8(FP), AX
	VMOVDQU64 Z16, (AX)
	MOVQ hb+16(FP), AX
	VMOVDQU64 Z17, (AX)
	VZEROUPPER
	RET
