//go:build amd64 && !noasm

// Packed-layout kernels: four rows of an r4 or r8 group (packed.go) times
// one token of int8 activations. packed_amd64.go declares them with the
// plain Go loop each computes; the pure-Go twins are in packed.go.

#include "textflag.h"
#include "macros_amd64.h"

// R4ROW(off, MUL, acc): acc += float(v . xq) * multiplier for one row's 32
// nibbles at off(SI); Y14 holds xq, Y15 the 0x0f byte mask, Y0 the int16
// ones; MUL(dst) puts the row's scale*xd in every lane of dst. Clobbers
// Y1, Y2, Y3.
#define R4ROW(off, MUL, acc) \
	VMOVDQU off(SI), X1 \
	VPSRLW $4, X1, X2 \
	VINSERTI128 $1, X2, Y1, Y1 \
	VPAND Y15, Y1, Y1 \
	VPMADDUBSW Y14, Y1, Y1 \
	VPMADDWD Y0, Y1, Y1 \
	VCVTDQ2PS Y1, Y1 \
	MUL(Y3) \
	VFMADD231PS Y3, Y1, acc

#define LANE0(dst) VBROADCASTSS X8, dst
#define LANE1(dst) VPERMPS Y8, Y10, dst
#define LANE2(dst) VPERMPS Y8, Y11, dst
#define LANE3(dst) VPERMPS Y8, Y13, dst


// R8ROW(off, idx, acc): acc += float(v . xq) * row scales for one row's 32
// int8 values at off(SI) (signed by the sign trick: |v| times xq carrying
// v's sign); Y8 holds the block's scales times xd, idx the row's lanes.
#define R8ROW(off, idx, acc) \
	VMOVDQU off(SI), Y1 \
	VPABSB Y1, Y2 \
	VPSIGNB Y1, Y14, Y1 \
	VPMADDUBSW Y1, Y2, Y2 \
	VPMADDWD Y0, Y2, Y2 \
	VCVTDQ2PS Y2, Y2 \
	VPERMPS Y8, idx, Y3 \
	VFMADD231PS Y3, Y2, acc

#define R8BIAS_OFF
#define R8BIAS_ON \
	VMOVUPS 160(SI), Y1 \
	VFMADD231PS (BX), Y1, Y12

// R8BODY(BIAS, STRIDE) is the body of the r8 kernels. Frame: p, xq, xd,
// act, nb, lanes, out.
#define R8BODY(BIAS, STRIDE) \
	MOVQ p+0(FP), SI \
	MOVQ xq+8(FP), DI \
	MOVQ xd+16(FP), DX \
	MOVQ act+24(FP), BX \
	MOVQ nb+32(FP), CX \
	MOVQ lanes+40(FP), R11 \
	ONES16 \
	VMOVDQU 0(R11), Y10 \
	VMOVDQU 32(R11), Y11 \
	VMOVDQU 64(R11), Y13 \
	VMOVDQU 96(R11), Y15 \
	ZERO4(Y4, Y5, Y6, Y7) \
	VXORPS Y12, Y12, Y12 \
	LOOPALIGN \
r8loop: \
	VMOVDQU (DI), Y14 \
	VBROADCASTSS (DX), Y3 \
	VMULPS 128(SI), Y3, Y8 \
	BIAS \
	R8ROW(0, Y10, Y4) \
	R8ROW(32, Y11, Y5) \
	R8ROW(64, Y13, Y6) \
	R8ROW(96, Y15, Y7) \
	ADDQ $STRIDE, SI \
	ADDQ $32, DI \
	ADDQ $4, DX \
	ADDQ $32, BX \
	DECQ CX \
	JNZ  r8loop \
	HSUM4(Y4, Y5, Y6, Y7, X4, X8) \
	YTOX(Y12, X12, X1) \
	VADDPS X12, X4, X4 \
	RET4(X4, 48)

// func gemvR4x4AVX2(p *byte, xq *byte, act *float32, nb int, out *float32)
TEXT ·gemvR4x4AVX2(SB), NOSPLIT, $0-40
	MOVQ p+0(FP), SI
	MOVQ xq+8(FP), DI
	MOVQ act+16(FP), DX
	MOVQ nb+24(FP), CX
	ONES16
	BCASTD(0x0f0f0f0f, X15, Y15)
	BCASTD(1, X10, Y10)
	BCASTD(2, X11, Y11)
	BCASTD(3, X13, Y13)
	ZERO4(Y4, Y5, Y6, Y7)
	VXORPS Y12, Y12, Y12

	LOOPALIGN
r4loop:
	VMOVDQU (DI), Y14
	VMOVUPS 64(SI), Y8
	VMULPS (DX), Y8, Y8
	VADDPS Y8, Y12, Y12
	R4ROW(0, LANE0, Y4)
	R4ROW(16, LANE1, Y5)
	R4ROW(32, LANE2, Y6)
	R4ROW(48, LANE3, Y7)
	ADDQ $96, SI
	ADDQ $32, DI
	ADDQ $32, DX
	DECQ CX
	JNZ  r4loop

	HSUM4(Y4, Y5, Y6, Y7, X4, X8)
	VEXTRACTF128 $1, Y12, X12
	VADDPS X12, X4, X4
	RET4(X4, 32)

// func gemvR8x4AVX2(p *byte, xq *byte, xd *float32, act *float32, nb int, lanes *int32, out *float32)
TEXT ·gemvR8x4AVX2(SB), NOSPLIT, $0-56
	R8BODY(R8BIAS_OFF, 160)

// func gemvR8Bx4AVX2(p *byte, xq *byte, xd *float32, act *float32, nb int, lanes *int32, out *float32)
TEXT ·gemvR8Bx4AVX2(SB), NOSPLIT, $0-56
	R8BODY(R8BIAS_ON, 192)
