//go:build amd64 && !noasm

// vnniR8x4x3 and vnniR8Bx4x3: the four rows of one r8 group (packed.go)
// times three tokens with AVX-512 VNNI, for the avx512 set's prefill. Each
// block's weights are loaded and offset by 128 once, its scales spread
// over the lanes once (and its biases loaded once), and they serve the
// three tokens from registers. Per token they do what vnniR8x4 and
// vnniR8Bx4 (vnnipacked_amd64.s) do, in the same order (even and odd
// blocks into two pairs of accumulators, the scale-times-terms and the
// biases into one each, the same final sums), so each result is
// bit-identical to the one-token kernel's.
// Operand order is Go's: sources first, destination last.
//
// Registers: Z29-Z31 the lane indices and the 0x80 bytes; Z0/Z1 a block's
// offset weights (rows 0-1, rows 2-3), Y2 its eight scales, Z3/Z4 the
// scales spread over rows 0-1's and rows 2-3's lanes, Y5 its biases;
// Z6-Z9 and Z28 one token's temporaries; Z16-Z27 the tokens'
// accumulators (four each), Y10-Y15 their scale-times-terms and bias sums.

#include "textflag.h"
#include "macros_amd64.h"

// R8X3TOK(xoff, doff, aoff, XP, DP, AP, accA, accB, ksum, bsum, TOKB):
// one token's part of a block: activations at xoff(XP), scale at
// doff(DP), terms at aoff(AP). The products scale * xd equal vnniR8x4's
// (lanes permuted before instead of after the multiply).
#define R8X3TOK(xoff, doff, aoff, XP, DP, AP, accA, accB, ksum, bsum, TOKB) \
	VBROADCASTI64X4 xoff(XP), Z6 \
	VPXORD Z7, Z7, Z7 \
	VPXORD Z8, Z8, Z8 \
	VPDPBUSD Z6, Z0, Z7 \
	VPDPBUSD Z6, Z1, Z8 \
	VCVTDQ2PS Z7, Z7 \
	VCVTDQ2PS Z8, Z8 \
	VFMADD231PS aoff(AP), Y2, ksum \
	VMULPS.BCST doff(DP), Z3, Z9 \
	VMULPS.BCST doff(DP), Z4, Z28 \
	VFMADD231PS Z9, Z7, accA \
	VFMADD231PS Z28, Z8, accB \
	TOKB(aoff, AP, bsum)

#define R8X3NOLOAD(off)
#define R8X3NOTOKB(aoff, AP, bsum)

// R8X3LOAD loads the block's biases into Y5; R8X3TOKB adds them times the
// token's terms (xd * each half's activation sum, in the biases' order).
#define R8X3LOAD(off) \
	VMOVUPS (off+160)(SI), Y5

#define R8X3TOKB(aoff, AP, bsum) \
	VFMADD231PS aoff(AP), Y5, bsum

// R8X3BLOCK(off, xoff, doff, aoff, A0, B0, A1, B1, A2, B2, LOAD, TOKB):
// the block at off(SI) for the three tokens (activations at DI, R8, R10;
// scales at DX, R9, R11; terms at BX, R12, R13).
#define R8X3BLOCK(off, xoff, doff, aoff, A0, B0, A1, B1, A2, B2, LOAD, TOKB) \
	VPXORD off(SI), Z31, Z0 \
	VPXORD (off+64)(SI), Z31, Z1 \
	VMOVUPS (off+128)(SI), Y2 \
	VPERMPS Z2, Z30, Z3 \
	VPERMPS Z2, Z29, Z4 \
	LOAD(off) \
	R8X3TOK(xoff, doff, aoff, DI, DX, BX, A0, B0, Y10, Y11, TOKB) \
	R8X3TOK(xoff, doff, aoff, R8, R9, R12, A1, B1, Y12, Y13, TOKB) \
	R8X3TOK(xoff, doff, aoff, R10, R11, R13, A2, B2, Y14, Y15, TOKB)

// R8X3SUM(evenA, evenB, oddA, oddB, yk, xk, yb, xb, dst): vnniR8x4's
// final sums of one token (X9 holds -128), stored at dst. Clobbers Z0,
// Z1, Y5-Y7.
#define R8X3SUM(evenA, evenB, oddA, oddB, yk, xk, yb, xb, dst) \
	VADDPS oddA, evenA, Z0 \
	VADDPS oddB, evenB, Z1 \
	VEXTRACTF64X4 $1, Z0, Y5 \
	VEXTRACTF64X4 $1, Z1, Y6 \
	HSUM4(Y0, Y5, Y1, Y6, X0, X7) \
	YTOX(yk, xk, X7) \
	YTOX(yb, xb, X7) \
	VFMADD231PS X9, xk, X0 \
	VADDPS xb, X0, X0 \
	VMOVUPS X0, dst

// R8X3BODY(LOAD, TOKB, STRIDE) is the body of the three-token r8 kernels
// (blocks of STRIDE bytes), two blocks per step. Frame: p, xq, ldx, xd,
// ldd, act, lda, nb, lanes, c, ldc.
#define R8X3BODY(LOAD, TOKB, STRIDE) \
	MOVQ p+0(FP), SI \
	MOVQ xq+8(FP), DI \
	MOVQ ldx+16(FP), AX \
	LEAQ (DI)(AX*1), R8 \
	LEAQ (R8)(AX*1), R10 \
	MOVQ xd+24(FP), DX \
	MOVQ ldd+32(FP), AX \
	LEAQ (DX)(AX*4), R9 \
	LEAQ (R9)(AX*4), R11 \
	MOVQ act+40(FP), BX \
	MOVQ lda+48(FP), AX \
	LEAQ (BX)(AX*4), R12 \
	LEAQ (R12)(AX*4), R13 \
	MOVQ nb+56(FP), CX \
	MOVQ lanes+64(FP), AX \
	VMOVDQU32 (AX), Z30 \
	VMOVDQU32 64(AX), Z29 \
	MOVL $0x80808080, AX \
	VPBROADCASTD AX, Z31 \
	VPXORD Z16, Z16, Z16 \
	VPXORD Z17, Z17, Z17 \
	VPXORD Z18, Z18, Z18 \
	VPXORD Z19, Z19, Z19 \
	VPXORD Z20, Z20, Z20 \
	VPXORD Z21, Z21, Z21 \
	VPXORD Z22, Z22, Z22 \
	VPXORD Z23, Z23, Z23 \
	VPXORD Z24, Z24, Z24 \
	VPXORD Z25, Z25, Z25 \
	VPXORD Z26, Z26, Z26 \
	VPXORD Z27, Z27, Z27 \
	VXORPS Y10, Y10, Y10 \
	VXORPS Y11, Y11, Y11 \
	VXORPS Y12, Y12, Y12 \
	VXORPS Y13, Y13, Y13 \
	VXORPS Y14, Y14, Y14 \
	VXORPS Y15, Y15, Y15 \
	SUBQ $2, CX \
	JLT  r8x3one \
	LOOPALIGN \
r8x3pair: \
	R8X3BLOCK(0, 0, 0, 0, Z16, Z17, Z20, Z21, Z24, Z25, LOAD, TOKB) \
	R8X3BLOCK(STRIDE, 32, 4, 32, Z18, Z19, Z22, Z23, Z26, Z27, LOAD, TOKB) \
	ADDQ $(2*STRIDE), SI \
	ADDQ $64, DI \
	ADDQ $64, R8 \
	ADDQ $64, R10 \
	ADDQ $8, DX \
	ADDQ $8, R9 \
	ADDQ $8, R11 \
	ADDQ $64, BX \
	ADDQ $64, R12 \
	ADDQ $64, R13 \
	SUBQ $2, CX \
	JGE  r8x3pair \
r8x3one: \
	CMPQ CX, $-1 \
	JNE  r8x3sum \
	R8X3BLOCK(0, 0, 0, 0, Z16, Z17, Z20, Z21, Z24, Z25, LOAD, TOKB) \
r8x3sum: \
	MOVL $0xc3000000, AX \
	VMOVD AX, X9 \
	VBROADCASTSS X9, X9 \
	MOVQ c+72(FP), DI \
	MOVQ ldc+80(FP), AX \
	LEAQ (DI)(AX*4), R8 \
	LEAQ (R8)(AX*4), R10 \
	R8X3SUM(Z16, Z17, Z18, Z19, Y10, X10, Y11, X11, (DI)) \
	R8X3SUM(Z20, Z21, Z22, Z23, Y12, X12, Y13, X13, (R8)) \
	R8X3SUM(Z24, Z25, Z26, Z27, Y14, X14, Y15, X15, (R10)) \
	VZEROUPPER \
	RET

// func vnniR8x4x3(p *byte, xq *byte, ldx int, xd *float32, ldd int, act *float32, lda int, nb int, lanes *int32, c *float32, ldc int)
TEXT ·vnniR8x4x3(SB), NOSPLIT, $0-88
	R8X3BODY(R8X3NOLOAD, R8X3NOTOKB, 160)

// func vnniR8Bx4x3(p *byte, xq *byte, ldx int, xd *float32, ldd int, act *float32, lda int, nb int, lanes *int32, c *float32, ldc int)
TEXT ·vnniR8Bx4x3(SB), NOSPLIT, $0-88
	R8X3BODY(R8X3LOAD, R8X3TOKB, 192)
