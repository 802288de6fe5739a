//go:build amd64 && !noasm

// vnniR4x4x3: the four rows of one r4 group (packed.go) times three tokens
// with AVX-512 VNNI, for the avx512 set's prefill. Each block's codes are
// loaded and split into nibbles once, its scales spread over the lanes
// once, and both serve the three tokens from registers. Per token it does
// what vnniR4x4 (vnnipacked_amd64.s) does, in the same order (even and
// odd blocks into two accumulators, the biases into a third, the same
// final sums), so each result is bit-identical to vnniR4x4's.
// Operand order is Go's: sources first, destination last.

#include "textflag.h"
#include "macros_amd64.h"

// R4X3TOK(xoff, aoff, XP, AP, acc, bias): one token's part of a block:
// the token's activations at xoff(XP), its terms at aoff(AP). Z12 and
// Z13 hold the block's low and high nibbles, Z19 its row scales spread
// over the lanes, X18 its biases. Clobbers Z14-Z17.
#define R4X3TOK(xoff, aoff, XP, AP, acc, bias) \
	VBROADCASTI32X4 xoff(XP), Z14 \
	VBROADCASTI32X4 (xoff+16)(XP), Z15 \
	VPXORD Z16, Z16, Z16 \
	VPDPBUSD Z14, Z12, Z16 \
	VPDPBUSD Z15, Z13, Z16 \
	VCVTDQ2PS Z16, Z16 \
	VMULPS.BCST aoff(AP), Z19, Z17 \
	VFMADD231PS Z17, Z16, acc \
	VFMADD231PS (aoff+16)(AP), X18, bias

// R4X3BLOCK(off, xoff, aoff, acc0, acc1, acc2): the block at off(SI) for
// the three tokens (activations at DI, R8, R10; terms at DX, R9, R11).
// The scale products equal vnniR4x4's (act times scale, lanes permuted
// before instead of after the multiply).
#define R4X3BLOCK(off, xoff, aoff, acc0, acc1, acc2) \
	VPANDD off(SI), Z31, Z12 \
	VPSRLW $4, off(SI), Z13 \
	VPANDD Z13, Z31, Z13 \
	VMOVUPS (off+64)(SI), X19 \
	VPERMPS Z19, Z30, Z19 \
	VMOVUPS (off+80)(SI), X18 \
	R4X3TOK(xoff, aoff, DI, DX, acc0, X6) \
	R4X3TOK(xoff, aoff, R8, R9, acc1, X7) \
	R4X3TOK(xoff, aoff, R10, R11, acc2, X8)

// R4X3SUM(even, odd, yeven, xeven, bias, dst): vnniR4x4's final sums of
// one token, stored at dst. Clobbers Z9.
#define R4X3SUM(even, odd, yeven, xeven, bias, dst) \
	VADDPS odd, even, even \
	VEXTRACTF64X4 $1, even, Y9 \
	VHADDPS Y9, yeven, yeven \
	VHADDPS yeven, yeven, yeven \
	VEXTRACTF128 $1, yeven, X9 \
	VUNPCKLPS X9, xeven, xeven \
	VADDPS bias, xeven, xeven \
	VMOVUPS xeven, dst

// func vnniR4x4x3(p *byte, xq *byte, ldx int, act *float32, lda int, nb int, lanes *int32, c *float32, ldc int)
TEXT ·vnniR4x4x3(SB), NOSPLIT, $0-72
	MOVQ p+0(FP), SI
	MOVQ xq+8(FP), DI
	MOVQ ldx+16(FP), AX
	LEAQ (DI)(AX*1), R8
	LEAQ (R8)(AX*1), R10
	MOVQ act+24(FP), DX
	MOVQ lda+32(FP), AX
	LEAQ (DX)(AX*4), R9
	LEAQ (R9)(AX*4), R11
	MOVQ nb+40(FP), CX
	MOVQ lanes+48(FP), AX
	VMOVDQU32 (AX), Z30
	MOVL $0x0f0f0f0f, AX
	VPBROADCASTD AX, Z31
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VXORPS X6, X6, X6
	VXORPS X7, X7, X7
	VXORPS X8, X8, X8
	SUBQ $2, CX
	JLT  r4x3one

	LOOPALIGN
r4x3pair:
	R4X3BLOCK(0, 0, 0, Z0, Z2, Z4)
	R4X3BLOCK(96, 32, 32, Z1, Z3, Z5)
	ADDQ $192, SI
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $64, R10
	ADDQ $64, DX
	ADDQ $64, R9
	ADDQ $64, R11
	SUBQ $2, CX
	JGE  r4x3pair

r4x3one:
	CMPQ CX, $-1
	JNE  r4x3sum
	R4X3BLOCK(0, 0, 0, Z0, Z2, Z4)

r4x3sum:
	MOVQ c+56(FP), DI
	MOVQ ldc+64(FP), AX
	LEAQ (DI)(AX*4), R8
	LEAQ (R8)(AX*4), R10
	R4X3SUM(Z0, Z1, Y0, X0, X6, (DI))
	R4X3SUM(Z2, Z3, Y2, X2, X7, (R8))
	R4X3SUM(Z4, Z5, Y4, X4, X8, (R10))
	VZEROUPPER
	RET
