//go:build amd64 && !noasm

// The packed-layout kernels of the avx512 and amx sets: the four rows of
// one r4 or r8 group (packed.go) times one token with AVX-512 VNNI
// (VPDPBUSD: unsigned bytes times signed bytes, four products summed into
// each int32 lane). vnnipacked_amd64.go declares them with the plain Go
// loop each computes; the pure-Go twins are r4x4Generic and r8x4Generic.
// Operand order is Go's: sources first, destination last.

#include "textflag.h"
#include "macros_amd64.h"

// R4BLOCK(off, xoff, aoff, acc): acc += float(codes . xq) * scale * xd for
// the r4 block at off(SI), its activations at xoff(DI) and terms at
// aoff(DX). One 512-bit register holds the block's 64 code bytes (row r
// in 128-bit lane r); the low nibbles multiply xq[0:16] and the high ones
// xq[16:32], each broadcast to the four lanes, into the same int32 lanes
// (one scale per row and block). Z31 holds 0x0f bytes, Z30 the lane
// indices that spread row r's scale over lanes 4r..4r+3; X2 gathers the
// biases times the block's activation sum. Clobbers Z4-Z9.
#define R4BLOCK(off, xoff, aoff, acc) \
	VBROADCASTI32X4 xoff(DI), Z4 \
	VBROADCASTI32X4 (xoff+16)(DI), Z5 \
	VPANDD off(SI), Z31, Z6 \
	VPSRLW $4, off(SI), Z7 \
	VPANDD Z7, Z31, Z7 \
	VPXORD Z8, Z8, Z8 \
	VPDPBUSD Z4, Z6, Z8 \
	VPDPBUSD Z5, Z7, Z8 \
	VCVTDQ2PS Z8, Z8 \
	VBROADCASTSS aoff(DX), X9 \
	VMULPS (off+64)(SI), X9, X9 \
	VPERMPS Z9, Z30, Z9 \
	VFMADD231PS Z9, Z8, acc \
	VMOVUPS (off+80)(SI), X9 \
	VFMADD231PS (aoff+16)(DX), X9, X2

// R8BLOCK(off, xoff, doff, aoff, accA, accB, BIAS): the r8 block at
// off(SI) (activations at xoff(DI), scale at doff(DX), terms at aoff(BX))
// into accA (rows 0 and 1) and accB (rows 2 and 3). Each register holds
// two rows' 64 values, each row's 32 bytes times the 32 activations
// (broadcast to both halves); row r's low half lands in its first four
// int32 lanes, its high half in the next four, which take its two scales
// (Z30, Z29: the lane indices). VPDPBUSD wants one unsigned operand: the
// weights are offset by 128 (XOR 0x80, Z31), which adds 128 * the
// activations' sum of each half; that sum times the scale is gathered in
// Y3 (the terms hold xd * the half's sum) and taken off once at the end.
// Clobbers Z4-Z12.
#define R8BLOCK(off, xoff, doff, aoff, accA, accB, BIAS) \
	VBROADCASTI64X4 xoff(DI), Z4 \
	VPXORD off(SI), Z31, Z5 \
	VPXORD (off+64)(SI), Z31, Z6 \
	VPXORD Z7, Z7, Z7 \
	VPXORD Z8, Z8, Z8 \
	VPDPBUSD Z4, Z5, Z7 \
	VPDPBUSD Z4, Z6, Z8 \
	VCVTDQ2PS Z7, Z7 \
	VCVTDQ2PS Z8, Z8 \
	VMOVUPS (off+128)(SI), Y9 \
	VFMADD231PS aoff(BX), Y9, Y3 \
	VMULPS.BCST doff(DX), Y9, Y9 \
	VPERMPS Z9, Z30, Z10 \
	VPERMPS Z9, Z29, Z11 \
	VFMADD231PS Z10, Z7, accA \
	VFMADD231PS Z11, Z8, accB \
	BIAS(off, aoff)

#define R8NOBIAS(off, aoff)
// R8BIAS adds the block's biases times the terms (xd * each half's
// activation sum, in the biases' order) into Y2.
#define R8BIAS(off, aoff) \
	VMOVUPS (off+160)(SI), Y12 \
	VFMADD231PS aoff(BX), Y12, Y2

// R8BODY(BIAS, STRIDE) is the body of the r8 kernels (blocks of STRIDE
// bytes), two blocks per step into two pairs of accumulators. Frame: p,
// xq, xd, act, nb, lanes, out.
#define R8BODY(BIAS, STRIDE) \
	MOVQ p+0(FP), SI \
	MOVQ xq+8(FP), DI \
	MOVQ xd+16(FP), DX \
	MOVQ act+24(FP), BX \
	MOVQ nb+32(FP), CX \
	MOVQ lanes+40(FP), AX \
	VMOVDQU32 (AX), Z30 \
	VMOVDQU32 64(AX), Z29 \
	MOVL $0x80808080, AX \
	VPBROADCASTD AX, Z31 \
	VPXORD Z0, Z0, Z0 \
	VPXORD Z1, Z1, Z1 \
	VPXORD Z13, Z13, Z13 \
	VPXORD Z14, Z14, Z14 \
	VXORPS Y2, Y2, Y2 \
	VXORPS Y3, Y3, Y3 \
	SUBQ $2, CX \
	JLT  r8one \
	LOOPALIGN \
r8pair: \
	R8BLOCK(0, 0, 0, 0, Z0, Z1, BIAS) \
	R8BLOCK(STRIDE, 32, 4, 32, Z13, Z14, BIAS) \
	ADDQ $(2*STRIDE), SI \
	ADDQ $64, DI \
	ADDQ $8, DX \
	ADDQ $64, BX \
	SUBQ $2, CX \
	JGE  r8pair \
r8one: \
	CMPQ CX, $-1 \
	JNE  r8sum \
	R8BLOCK(0, 0, 0, 0, Z0, Z1, BIAS) \
r8sum: \
	VADDPS Z13, Z0, Z0 \
	VADDPS Z14, Z1, Z1 \
	VEXTRACTF64X4 $1, Z0, Y5 \
	VEXTRACTF64X4 $1, Z1, Y6 \
	HSUM4(Y0, Y5, Y1, Y6, X0, X7) \
	YTOX(Y3, X3, X7) \
	YTOX(Y2, X2, X7) \
	MOVL $0xc3000000, AX \
	VMOVD AX, X7 \
	VBROADCASTSS X7, X7 \
	VFMADD231PS X7, X3, X0 \
	VADDPS X2, X0, X0 \
	RET4(X0, 48)

// func vnniR4x4(p *byte, xq *byte, act *float32, nb int, lanes *int32, out *float32)
TEXT ·vnniR4x4(SB), NOSPLIT, $0-48
	MOVQ p+0(FP), SI
	MOVQ xq+8(FP), DI
	MOVQ act+16(FP), DX
	MOVQ nb+24(FP), CX
	MOVQ lanes+32(FP), AX
	VMOVDQU32 (AX), Z30
	MOVL $0x0f0f0f0f, AX
	VPBROADCASTD AX, Z31
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VXORPS X2, X2, X2
	SUBQ $2, CX
	JLT  r4one

	LOOPALIGN
r4pair:
	R4BLOCK(0, 0, 0, Z0)
	R4BLOCK(96, 32, 32, Z1)
	ADDQ $192, SI
	ADDQ $64, DI
	ADDQ $64, DX
	SUBQ $2, CX
	JGE  r4pair

r4one:
	CMPQ CX, $-1
	JNE  r4sum
	R4BLOCK(0, 0, 0, Z0)

r4sum:
	// Row r's four lanes are 4r..4r+3: rows 0 and 1 in Y0, 2 and 3 in Y5.
	VADDPS Z1, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y5
	VHADDPS Y5, Y0, Y0
	VHADDPS Y0, Y0, Y0   // [r0 r2 r0 r2 | r1 r3 r1 r3]
	VEXTRACTF128 $1, Y0, X5
	VUNPCKLPS X5, X0, X0 // [r0 r1 r2 r3]
	VADDPS X2, X0, X0
	RET4(X0, 40)

// func vnniR8x4(p *byte, xq *byte, xd *float32, act *float32, nb int, lanes *int32, out *float32)
TEXT ·vnniR8x4(SB), NOSPLIT, $0-56
	R8BODY(R8NOBIAS, 160)

// func vnniR8Bx4(p *byte, xq *byte, xd *float32, act *float32, nb int, lanes *int32, out *float32)
TEXT ·vnniR8Bx4(SB), NOSPLIT, $0-56
	R8BODY(R8BIAS, 192)
