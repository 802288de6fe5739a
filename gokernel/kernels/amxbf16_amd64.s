//go:build amd64 && !noasm

// The amx set's prefill of f16 and f32 weights on the AMX bf16 tile unit
// (amxbf16.go has the layouts and the pure-Go twins, amxbf16_amd64.go the
// declarations with the plain Go loop each kernel computes). Every value v
// is split into hi = bf16(v) and lo = bf16(v - hi); the products hi*hi,
// hi*lo and lo*hi are accumulated in float32 by TDPBF16PS. Operand order is
// Go's: sources first, destination last.

#include "textflag.h"
#include "macros_amd64.h"

// The instructions Go's assembler does not know, as bytes; each comment is
// the instruction (Intel syntax), checked with GNU as and objdump.

// vcvtne2ps2bf16 zmm18, zmm17, zmm16 (words 0-15 from zmm16, 16-31 from zmm17)
#define CVTNE2_Z18_Z17_Z16 BYTE $0x62; BYTE $0xA2; BYTE $0x77; BYTE $0x40; BYTE $0x72; BYTE $0xD0
// vcvtne2ps2bf16 zmm21, zmm17, zmm16
#define CVTNE2_Z21_Z17_Z16 BYTE $0x62; BYTE $0xA2; BYTE $0x77; BYTE $0x40; BYTE $0x72; BYTE $0xE8

// (ldtilecfg, tilerelease and tilezero tmm0/tmm1 are in macros_amd64.h.)
// tilezero tmm2
#define TILEZERO_T2      BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x49; BYTE $0xD0
// tilezero tmm3
#define TILEZERO_T3      BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x49; BYTE $0xD8
// tileloadd tmm4, [r8+rcx*1]
#define LOAD_T4_R8       BYTE $0xC4; BYTE $0xC2; BYTE $0x7B; BYTE $0x4B; BYTE $0x24; BYTE $0x08
// tileloadd tmm4, [r8+rcx*1+0x400]
#define LOAD_T4_R8_1K    BYTE $0xC4; BYTE $0xC2; BYTE $0x7B; BYTE $0x4B; BYTE $0xA4; BYTE $0x08; BYTE $0x00; BYTE $0x04; BYTE $0x00; BYTE $0x00
// tileloadd tmm5, [r9+rcx*1]
#define LOAD_T5_R9       BYTE $0xC4; BYTE $0xC2; BYTE $0x7B; BYTE $0x4B; BYTE $0x2C; BYTE $0x09
// tileloadd tmm5, [r9+rcx*1+0x400]
#define LOAD_T5_R9_1K    BYTE $0xC4; BYTE $0xC2; BYTE $0x7B; BYTE $0x4B; BYTE $0xAC; BYTE $0x09; BYTE $0x00; BYTE $0x04; BYTE $0x00; BYTE $0x00
// tileloadd tmm5, [r8+rcx*1+0x400]
#define LOAD_T5_R8_1K    BYTE $0xC4; BYTE $0xC2; BYTE $0x7B; BYTE $0x4B; BYTE $0xAC; BYTE $0x08; BYTE $0x00; BYTE $0x04; BYTE $0x00; BYTE $0x00
// tileloadd tmm6, [rdi+rcx*1]
#define LOAD_T6_DI       BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x4B; BYTE $0x34; BYTE $0x0F
// tileloadd tmm6, [rdi+rcx*1+0x400]
#define LOAD_T6_DI_1K    BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x4B; BYTE $0xB4; BYTE $0x0F; BYTE $0x00; BYTE $0x04; BYTE $0x00; BYTE $0x00
// tileloadd tmm7, [rdi+rcx*1+0x800]
#define LOAD_T7_DI_2K    BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x4B; BYTE $0xBC; BYTE $0x0F; BYTE $0x00; BYTE $0x08; BYTE $0x00; BYTE $0x00
// tileloadd tmm7, [rdi+rcx*1+0xc00]
#define LOAD_T7_DI_3K    BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x4B; BYTE $0xBC; BYTE $0x0F; BYTE $0x00; BYTE $0x0C; BYTE $0x00; BYTE $0x00
// tdpbf16ps tmm0, tmm4, tmm6
#define BF_T0_T4_T6      BYTE $0xC4; BYTE $0xE2; BYTE $0x4A; BYTE $0x5C; BYTE $0xC4
// tdpbf16ps tmm1, tmm4, tmm7
#define BF_T1_T4_T7      BYTE $0xC4; BYTE $0xE2; BYTE $0x42; BYTE $0x5C; BYTE $0xCC
// tdpbf16ps tmm2, tmm5, tmm6
#define BF_T2_T5_T6      BYTE $0xC4; BYTE $0xE2; BYTE $0x4A; BYTE $0x5C; BYTE $0xD5
// tdpbf16ps tmm3, tmm5, tmm7
#define BF_T3_T5_T7      BYTE $0xC4; BYTE $0xE2; BYTE $0x42; BYTE $0x5C; BYTE $0xDD
// tdpbf16ps tmm0, tmm5, tmm6
#define BF_T0_T5_T6      BYTE $0xC4; BYTE $0xE2; BYTE $0x4A; BYTE $0x5C; BYTE $0xC5
// tdpbf16ps tmm1, tmm5, tmm7
#define BF_T1_T5_T7      BYTE $0xC4; BYTE $0xE2; BYTE $0x42; BYTE $0x5C; BYTE $0xCD
// tilestored [r10+r11*1], tmm0
#define STORE_R10_T0     BYTE $0xC4; BYTE $0x82; BYTE $0x7A; BYTE $0x4B; BYTE $0x04; BYTE $0x1A
// tilestored [r10+r11*1+0x40], tmm1
#define STORE_R10_64_T1  BYTE $0xC4; BYTE $0x82; BYTE $0x7A; BYTE $0x4B; BYTE $0x4C; BYTE $0x1A; BYTE $0x40
// tilestored [r12+r11*1], tmm2
#define STORE_R12_T2     BYTE $0xC4; BYTE $0x82; BYTE $0x7A; BYTE $0x4B; BYTE $0x14; BYTE $0x1C
// tilestored [r12+r11*1+0x40], tmm3
#define STORE_R12_64_T3  BYTE $0xC4; BYTE $0x82; BYTE $0x7A; BYTE $0x4B; BYTE $0x5C; BYTE $0x1C; BYTE $0x40

// SPLIT32: the 32 float32 values in Z16 (first 16) and Z17 (next 16) to
// bf16 hi parts in Z18 and lo parts in Z21, 32 words each in the same
// order: hi = bf16(v) rounded to nearest even, lo = bf16(v - hi) (v - hi
// is exact in float32). Clobbers Z16, Z17, Z19, Z20.
#define SPLIT32 \
	CVTNE2_Z18_Z17_Z16 \
	VPMOVZXWD Y18, Z19 \
	VEXTRACTI64X4 $1, Z18, Y20 \
	VPMOVZXWD Y20, Z20 \
	VPSLLD $16, Z19, Z19 \
	VPSLLD $16, Z20, Z20 \
	VSUBPS Z19, Z16, Z16 \
	VSUBPS Z20, Z17, Z17 \
	CVTNE2_Z21_Z17_Z16

// TRANSPOSE16: Z0-Z15 (16 rows of 16 dwords) transposed in place (row c
// of the result, in Zc, holds dword c of each input row in order).
// Clobbers Z16-Z31. Dword interleave, qword interleave, then two rounds of
// 128-bit lane shuffles.
#define TRANSPOSE16 \
	VPUNPCKLDQ Z1, Z0, Z16 \
	VPUNPCKHDQ Z1, Z0, Z17 \
	VPUNPCKLDQ Z3, Z2, Z18 \
	VPUNPCKHDQ Z3, Z2, Z19 \
	VPUNPCKLDQ Z5, Z4, Z20 \
	VPUNPCKHDQ Z5, Z4, Z21 \
	VPUNPCKLDQ Z7, Z6, Z22 \
	VPUNPCKHDQ Z7, Z6, Z23 \
	VPUNPCKLDQ Z9, Z8, Z24 \
	VPUNPCKHDQ Z9, Z8, Z25 \
	VPUNPCKLDQ Z11, Z10, Z26 \
	VPUNPCKHDQ Z11, Z10, Z27 \
	VPUNPCKLDQ Z13, Z12, Z28 \
	VPUNPCKHDQ Z13, Z12, Z29 \
	VPUNPCKLDQ Z15, Z14, Z30 \
	VPUNPCKHDQ Z15, Z14, Z31 \
	VPUNPCKLQDQ Z18, Z16, Z0 \
	VPUNPCKHQDQ Z18, Z16, Z1 \
	VPUNPCKLQDQ Z19, Z17, Z2 \
	VPUNPCKHQDQ Z19, Z17, Z3 \
	VPUNPCKLQDQ Z22, Z20, Z4 \
	VPUNPCKHQDQ Z22, Z20, Z5 \
	VPUNPCKLQDQ Z23, Z21, Z6 \
	VPUNPCKHQDQ Z23, Z21, Z7 \
	VPUNPCKLQDQ Z26, Z24, Z8 \
	VPUNPCKHQDQ Z26, Z24, Z9 \
	VPUNPCKLQDQ Z27, Z25, Z10 \
	VPUNPCKHQDQ Z27, Z25, Z11 \
	VPUNPCKLQDQ Z30, Z28, Z12 \
	VPUNPCKHQDQ Z30, Z28, Z13 \
	VPUNPCKLQDQ Z31, Z29, Z14 \
	VPUNPCKHQDQ Z31, Z29, Z15 \
	VSHUFI32X4 $0x44, Z4, Z0, Z16 \
	VSHUFI32X4 $0xEE, Z4, Z0, Z17 \
	VSHUFI32X4 $0x44, Z12, Z8, Z18 \
	VSHUFI32X4 $0xEE, Z12, Z8, Z19 \
	VSHUFI32X4 $0x44, Z5, Z1, Z20 \
	VSHUFI32X4 $0xEE, Z5, Z1, Z21 \
	VSHUFI32X4 $0x44, Z13, Z9, Z22 \
	VSHUFI32X4 $0xEE, Z13, Z9, Z23 \
	VSHUFI32X4 $0x44, Z6, Z2, Z24 \
	VSHUFI32X4 $0xEE, Z6, Z2, Z25 \
	VSHUFI32X4 $0x44, Z14, Z10, Z26 \
	VSHUFI32X4 $0xEE, Z14, Z10, Z27 \
	VSHUFI32X4 $0x44, Z7, Z3, Z28 \
	VSHUFI32X4 $0xEE, Z7, Z3, Z29 \
	VSHUFI32X4 $0x44, Z15, Z11, Z30 \
	VSHUFI32X4 $0xEE, Z15, Z11, Z31 \
	VSHUFI32X4 $0x88, Z18, Z16, Z0 \
	VSHUFI32X4 $0xDD, Z18, Z16, Z4 \
	VSHUFI32X4 $0x88, Z19, Z17, Z8 \
	VSHUFI32X4 $0xDD, Z19, Z17, Z12 \
	VSHUFI32X4 $0x88, Z22, Z20, Z1 \
	VSHUFI32X4 $0xDD, Z22, Z20, Z5 \
	VSHUFI32X4 $0x88, Z23, Z21, Z9 \
	VSHUFI32X4 $0xDD, Z23, Z21, Z13 \
	VSHUFI32X4 $0x88, Z26, Z24, Z2 \
	VSHUFI32X4 $0xDD, Z26, Z24, Z6 \
	VSHUFI32X4 $0x88, Z27, Z25, Z10 \
	VSHUFI32X4 $0xDD, Z27, Z25, Z14 \
	VSHUFI32X4 $0x88, Z30, Z28, Z3 \
	VSHUFI32X4 $0xDD, Z30, Z28, Z7 \
	VSHUFI32X4 $0x88, Z31, Z29, Z11 \
	VSHUFI32X4 $0xDD, Z31, Z29, Z15

// BROW(kk): transposed row kk (Zkk: the f16 pairs of 16 weight rows),
// widened, split and stored as row kk of the hi tile (DI) and the lo tile
// (DI+1024).
#define BROW(zk, yk, kk) \
	VCVTPH2PS yk, Z16 \
	VEXTRACTI64X4 $1, zk, Y17 \
	VCVTPH2PS Y17, Z17 \
	SPLIT32 \
	VMOVDQU64 Z18, (64*kk)(DI) \
	VMOVDQU64 Z21, (1024+64*kk)(DI)

// LOAD4(off, base, z0, z1, z2, z3): the 64 bytes at off of the rows at
// base, base+DX, base+2*DX and base+R9 into z0-z3.
#define LOAD4(off, base, z0, z1, z2, z3) \
	VMOVDQU64 off(base), z0 \
	VMOVDQU64 off(base)(DX*1), z1 \
	VMOVDQU64 off(base)(DX*2), z2 \
	VMOVDQU64 off(base)(R9*1), z3

// LOAD16(off): the 64 bytes at off into each of the 16 rows (SI, R10, R11,
// R12: rows 0, 4, 8, 12; DX the row stride, R9 three strides) to Z0-Z15.
#define LOAD16(off) \
	LOAD4(off, SI, Z0, Z1, Z2, Z3) \
	LOAD4(off, R10, Z4, Z5, Z6, Z7) \
	LOAD4(off, R11, Z8, Z9, Z10, Z11) \
	LOAD4(off, R12, Z12, Z13, Z14, Z15)

// ROWPTRS sets R10, R11, R12 to rows 4, 8 and 12 of SI and R9 to three
// times the stride DX.
#define ROWPTRS \
	LEAQ (DX)(DX*2), R9 \
	LEAQ (SI)(DX*4), R10 \
	LEAQ (R10)(DX*4), R11 \
	LEAQ (R11)(DX*4), R12

// FROW(addr0, addr1, n): the 32 float32 values at addr0 (16) and addr1 (16)
// split, in order, into row n of the hi tile (DI) and of the lo tile.
#define FROW(addr0, addr1, n) \
	VMOVUPS addr0, Z16 \
	VMOVUPS addr1, Z17 \
	SPLIT32 \
	VMOVDQU64 Z18, (64*n)(DI) \
	VMOVDQU64 Z21, (1024+64*n)(DI)

// FROW4(base, n): FROW for the four rows at base, base+DX, base+2*DX and
// base+R9 (R9 = 3*DX), into tile rows n to n+3.
#define FROW4(base, n) \
	FROW((base), 64(base), n) \
	FROW((base)(DX*1), 64(base)(DX*1), (n+1)) \
	FROW((base)(DX*2), 64(base)(DX*2), (n+2)) \
	FROW((base)(R9*1), 64(base)(R9*1), (n+3))

// TLOAD4(o, z0, z1, z2, z3) loads the four 64-byte tile rows at o(DI) into
// z0-z3; TSTORE4 stores them back.
#define TLOAD4(o, z0, z1, z2, z3) \
	VMOVDQU64 (o)(DI), z0 \
	VMOVDQU64 (o+64)(DI), z1 \
	VMOVDQU64 (o+128)(DI), z2 \
	VMOVDQU64 (o+192)(DI), z3

#define TSTORE4(o, z0, z1, z2, z3) \
	VMOVDQU64 z0, (o)(DI) \
	VMOVDQU64 z1, (o+64)(DI) \
	VMOVDQU64 z2, (o+128)(DI) \
	VMOVDQU64 z3, (o+192)(DI)

// TILET(off): the tile at off(DI) transposed in place (dwords: bf16 pairs).
#define TILET(off) \
	TLOAD4(off, Z0, Z1, Z2, Z3) \
	TLOAD4((off+256), Z4, Z5, Z6, Z7) \
	TLOAD4((off+512), Z8, Z9, Z10, Z11) \
	TLOAD4((off+768), Z12, Z13, Z14, Z15) \
	TRANSPOSE16 \
	TSTORE4(off, Z0, Z1, Z2, Z3) \
	TSTORE4((off+256), Z4, Z5, Z6, Z7) \
	TSTORE4((off+512), Z8, Z9, Z10, Z11) \
	TSTORE4((off+768), Z12, Z13, Z14, Z15)

// PACKF16: one block of 32 columns of 16 f16 rows: the pairs of the rows
// transposed, then each transposed row split into the hi and lo tiles.
#define PACKF16 \
	LOAD16(0) \
	TRANSPOSE16 \
	BROW(Z0, Y0, 0) \
	BROW(Z1, Y1, 1) \
	BROW(Z2, Y2, 2) \
	BROW(Z3, Y3, 3) \
	BROW(Z4, Y4, 4) \
	BROW(Z5, Y5, 5) \
	BROW(Z6, Y6, 6) \
	BROW(Z7, Y7, 7) \
	BROW(Z8, Y8, 8) \
	BROW(Z9, Y9, 9) \
	BROW(Z10, Y10, 10) \
	BROW(Z11, Y11, 11) \
	BROW(Z12, Y12, 12) \
	BROW(Z13, Y13, 13) \
	BROW(Z14, Y14, 14) \
	BROW(Z15, Y15, 15)

// PACKF32: one block of 32 columns of 16 f32 rows: each row split in column
// order into the hi and lo tiles, then both tiles transposed in place.
#define PACKF32 \
	FROW4(SI, 0) \
	FROW4(R10, 4) \
	FROW4(R11, 8) \
	FROW4(R12, 12) \
	TILET(0) \
	TILET(1024)

// PACK16(BLOCK, WSTEP) is the body of the weight packers: nkb blocks of
// 32 columns of 16 rows (ldw bytes apart at w, WSTEP bytes of a row per
// block), BLOCK packing one from the rows at SI, R10, R11 and R12 (rows 0,
// 4, 8, 12; see ROWPTRS) into the tile pair at DI; block kb's tiles at
// dst+kb*step. Frame: w, ldw, nkb, dst, step.
#define PACK16(BLOCK, WSTEP) \
	MOVQ w+0(FP), SI \
	MOVQ ldw+8(FP), DX \
	MOVQ nkb+16(FP), CX \
	MOVQ dst+24(FP), DI \
	MOVQ step+32(FP), R8 \
	ROWPTRS \
packloop: \
	BLOCK \
	ADDQ $WSTEP, SI \
	ADDQ $WSTEP, R10 \
	ADDQ $WSTEP, R11 \
	ADDQ $WSTEP, R12 \
	ADDQ R8, DI \
	DECQ CX \
	JNZ  packloop \
	VZEROUPPER \
	RET

// func packF16BF16AVX512(w *byte, ldw int, nkb int, dst *byte, step int)
// 16 f16 weight rows (ldw bytes apart) to B tile pairs: per block kb of 32
// columns, the pairs of the 16 rows transposed (B row kk holds each row's
// columns 2kk and 2kk+1), then split: hi tile at dst+kb*step, lo tile 1024
// bytes further.
TEXT ·packF16BF16AVX512(SB), NOSPLIT, $0-40
	PACK16(PACKF16, 64)

// func packF32BF16AVX512(w *byte, ldw int, nkb int, dst *byte, step int)
// packF16BF16AVX512 for f32 rows: each row's 32 values split in column
// order into the hi and lo tiles, then both tiles transposed in place.
TEXT ·packF32BF16AVX512(SB), NOSPLIT, $0-40
	PACK16(PACKF32, 128)

// func splitBF16AVX512(x *float32, nkb int, dst *byte, step int)
// Per block kb of 32 values at x+128kb: the 64 bytes of hi parts at
// dst+kb*step, the lo parts 1024 bytes further (one row of an A tile pair).
TEXT ·splitBF16AVX512(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ nkb+8(FP), CX
	MOVQ dst+16(FP), DI
	MOVQ step+24(FP), DX

sloop:
	FROW((SI), 64(SI), 0)
	ADDQ $128, SI
	ADDQ DX, DI
	DECQ CX
	JNZ  sloop
	VZEROUPPER
	RET

// KPAIR: one block of 32 columns for two token tiles (A0 at R8, A1 at R9:
// hi tile, lo tile 1024 bytes further) and 32 weight rows (DI: B0 hi, B0
// lo, B1 hi, B1 lo, 1024 bytes each): C[i][j] (tmm 2i+j) += Ai_hi*Bj_hi +
// Ai_hi*Bj_lo + Ai_lo*Bj_hi, ten tile loads for twelve multiplies.
#define KPAIR \
	LOAD_T4_R8 \
	LOAD_T6_DI \
	BF_T0_T4_T6 \
	LOAD_T5_R9 \
	BF_T2_T5_T6 \
	LOAD_T7_DI_2K \
	BF_T1_T4_T7 \
	BF_T3_T5_T7 \
	LOAD_T6_DI_1K \
	BF_T0_T4_T6 \
	BF_T2_T5_T6 \
	LOAD_T7_DI_3K \
	BF_T1_T4_T7 \
	BF_T3_T5_T7 \
	LOAD_T4_R8_1K \
	LOAD_T6_DI \
	BF_T0_T4_T6 \
	LOAD_T5_R9_1K \
	BF_T2_T5_T6 \
	LOAD_T7_DI_2K \
	BF_T1_T4_T7 \
	BF_T3_T5_T7

// KONE is KPAIR for one token tile (A at R8): C0 (tmm0), C1 (tmm1).
#define KONE \
	LOAD_T4_R8 \
	LOAD_T6_DI \
	BF_T0_T4_T6 \
	LOAD_T7_DI_2K \
	BF_T1_T4_T7 \
	LOAD_T6_DI_1K \
	BF_T0_T4_T6 \
	LOAD_T7_DI_3K \
	BF_T1_T4_T7 \
	LOAD_T5_R8_1K \
	LOAD_T6_DI \
	BF_T0_T5_T6 \
	LOAD_T7_DI_2K \
	BF_T1_T5_T7

// func amxBF16(b *byte, ng int, nkb int, a *byte, lda int, nt int, c *float32, ldc int, cfg *byte)
// nt token tiles (16 tokens each, lda bytes apart at a) times ng groups of
// 32 weight rows (nkb blocks each at b, one after the other): two token
// tiles at a time, and for each group four result tiles accumulated over
// all nkb blocks and stored straight to c (16 rows of 32 floats per token
// tile and group, ldc floats apart); an odd last token tile alone.
TEXT ·amxBF16(SB), NOSPLIT, $0-72
	MOVQ cfg+64(FP), AX
	LDTILECFG_AX
	MOVQ b+0(FP), BX
	MOVQ a+24(FP), SI
	MOVQ lda+32(FP), DX
	MOVQ nt+40(FP), R13
	MOVQ c+48(FP), R10
	MOVQ ldc+56(FP), R11
	SHLQ $2, R11                 // ldc in bytes: the result tiles' row stride
	MOVQ $64, CX                 // the scratch tiles' row stride

tpair:
	CMPQ R13, $2
	JLT  tone
	MOVQ BX, DI
	MOVQ ng+8(FP), AX

tpairg:
	TILEZERO_T0
	TILEZERO_T1
	TILEZERO_T2
	TILEZERO_T3
	MOVQ SI, R8
	LEAQ (SI)(DX*1), R9
	MOVQ nkb+16(FP), R12

tpairk:
	KPAIR
	ADDQ $2048, R8
	ADDQ $2048, R9
	ADDQ $4096, DI
	DECQ R12
	JNZ  tpairk

	STORE_R10_T0
	STORE_R10_64_T1
	LEAQ (R10)(R11*8), R12
	LEAQ (R12)(R11*8), R12       // the second token tile: 16 rows of c down
	STORE_R12_T2
	STORE_R12_64_T3
	ADDQ $128, R10               // the next group's 32 columns
	DECQ AX
	JNZ  tpairg

	MOVQ ng+8(FP), R12
	SHLQ $7, R12
	SUBQ R12, R10                // back to the first group's columns,
	LEAQ (R10)(R11*8), R10       // 32 rows of c down
	LEAQ (R10)(R11*8), R10
	LEAQ (R10)(R11*8), R10
	LEAQ (R10)(R11*8), R10
	LEAQ (SI)(DX*2), SI
	SUBQ $2, R13
	JMP  tpair

tone:
	TESTQ R13, R13
	JZ    tdone
	MOVQ  BX, DI
	MOVQ  ng+8(FP), AX

toneg:
	TILEZERO_T0
	TILEZERO_T1
	MOVQ SI, R8
	MOVQ nkb+16(FP), R12

tonek:
	KONE
	ADDQ $2048, R8
	ADDQ $4096, DI
	DECQ R12
	JNZ  tonek

	STORE_R10_T0
	STORE_R10_64_T1
	ADDQ $128, R10
	DECQ AX
	JNZ  toneg

tdone:
	TILERELEASE
	RET
