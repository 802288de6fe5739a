//go:build amd64 && !noasm

// Four-row by three-token matrix-matrix tiles (q8_0, f16 and f32 weight
// rows): MatMul's kernels for groups of three tokens, each weight load
// serving all three. gemm_amd64.go declares them, with the plain Go loop
// each computes; the pure-Go twins are in twins.go. Operand order is Go's:
// sources first, destination last.

#include "textflag.h"
#include "macros_amd64.h"

// SCALEPROD(d) multiplies the four weight scales in X1 by the activation
// scales at byte offset d from R11, R11+R12, R11+2*R12 (three tokens) and
// stores the 12 products at 0(SP)(R13*1) (token-major, 16 bytes a token).
#define SCALEPROD(d) \
	VBROADCASTSS d(R11), X2 \
	VMULPS X1, X2, X2 \
	VMOVUPS X2, 0(SP)(R13*1) \
	VBROADCASTSS d(R11)(R12*1), X2 \
	VMULPS X1, X2, X2 \
	VMOVUPS X2, 16(SP)(R13*1) \
	VBROADCASTSS d(R11)(R12*2), X2 \
	VMULPS X1, X2, X2 \
	VMOVUPS X2, 32(SP)(R13*1)

// QPAIR(wmem, xmem, scale, acc): acc += float(sum_i w_i*x_i) * scale for one
// 32-value block; Y1 holds |w|, Y0 the int16 ones; clobbers Y2, Y3.
#define QPAIR(wmem, xmem, scale, acc) \
	VMOVDQU xmem, Y2 \
	VPSIGNB wmem, Y2, Y2 \
	VPMADDUBSW Y2, Y1, Y2 \
	VPMADDWD Y0, Y2, Y2 \
	VCVTDQ2PS Y2, Y2 \
	VBROADCASTSS scale, Y3 \
	VFMADD231PS Y3, Y2, acc

// FGEMM43(LOADW, WSTEP): 4 rows x 3 tokens. Frame: w, ldw, x, ldx, n, c, ldc.
#define FGEMM43(LOADW, WSTEP) \
	GEMM43ARGS \
	ZERO12 \
	CMPQ CX, $8 \
	JLT  fmdone \
	LOOPALIGN \
fmloop: \
	TILE43(LOADW, SI, R9, DI) \
	ADDQ $WSTEP, SI \
	ADDQ $WSTEP, R9 \
	ADDQ $32, DI \
	SUBQ $8, CX \
	CMPQ CX, $8 \
	JGE  fmloop \
fmdone: \
	RET43(40, 48, X0)

// func gemmQ8x4x3AVX2(w *byte, ldw int, xq *byte, ldx int, xd *float32, ldd int, nb int, c *float32, ldc int)
// Four q8_0 weight rows (as gemvQ8x4AVX2) times three activation rows in
// split layout (token t: int8 at xq + t*ldx bytes, scales at xd + t*ldd
// floats). c[t*ldc + r] = row r . token t.
TEXT ·gemmQ8x4x3AVX2(SB), NOSPLIT, $96-72
	MOVQ w+0(FP), SI
	MOVQ ldw+8(FP), R8
	MOVQ xq+16(FP), DI
	MOVQ ldx+24(FP), R10
	MOVQ xd+32(FP), R11
	MOVQ ldd+40(FP), R12
	SHLQ $2, R12
	MOVQ nb+48(FP), CX
	LEAQ (SI)(R8*2), R9
	ADDQ R8, R9                 // row 3
	ONES16
	ZERO12
	TESTQ CX, CX
	JZ   g3done
	// The scale products are computed one block ahead into the other half
	// of a 96-byte double buffer (R13 = 0 or 48), so the broadcasts below
	// never wait on a just-issued store.
	XORQ R13, R13
	SCALES4(0, X1)
	SCALEPROD(0)

	LOOPALIGN
g3loop:
	CMPQ CX, $1
	JEQ  g3cur
	XORQ $48, R13
	SCALES4(34, X1)
	SCALEPROD(4)
	XORQ $48, R13

g3cur:

	VPABSB 2(SI), Y1
	QPAIR(2(SI), (DI), 0(SP)(R13*1), Y4)
	QPAIR(2(SI), (DI)(R10*1), 16(SP)(R13*1), Y8)
	QPAIR(2(SI), (DI)(R10*2), 32(SP)(R13*1), Y12)
	VPABSB 2(SI)(R8*1), Y1
	QPAIR(2(SI)(R8*1), (DI), 4(SP)(R13*1), Y5)
	QPAIR(2(SI)(R8*1), (DI)(R10*1), 20(SP)(R13*1), Y9)
	QPAIR(2(SI)(R8*1), (DI)(R10*2), 36(SP)(R13*1), Y13)
	VPABSB 2(SI)(R8*2), Y1
	QPAIR(2(SI)(R8*2), (DI), 8(SP)(R13*1), Y6)
	QPAIR(2(SI)(R8*2), (DI)(R10*1), 24(SP)(R13*1), Y10)
	QPAIR(2(SI)(R8*2), (DI)(R10*2), 40(SP)(R13*1), Y14)
	VPABSB 2(R9), Y1
	QPAIR(2(R9), (DI), 12(SP)(R13*1), Y7)
	QPAIR(2(R9), (DI)(R10*1), 28(SP)(R13*1), Y11)
	QPAIR(2(R9), (DI)(R10*2), 44(SP)(R13*1), Y15)

	XORQ $48, R13
	ADDQ $34, SI
	ADDQ $34, R9
	ADDQ $32, DI
	ADDQ $4, R11
	DECQ CX
	JNZ  g3loop

g3done:
	RET43(56, 64, X1)

// func gemmF16x4x3AVX2(w *byte, ldw int, x *float32, ldx int, n int, c *float32, ldc int)
// Four f16 rows times three float32 rows (stride ldx floats); n is a
// multiple of 8. c[t*ldc + r] = row r . token t.
TEXT ·gemmF16x4x3AVX2(SB), NOSPLIT, $0-56
	FGEMM43(LOADF16, 16)

// func gemmF32x4x3AVX2(w *byte, ldw int, x *float32, ldx int, n int, c *float32, ldc int)
// As gemmF16x4x3AVX2 for f32 rows.
TEXT ·gemmF32x4x3AVX2(SB), NOSPLIT, $0-56
	FGEMM43(LOADF32, 32)
