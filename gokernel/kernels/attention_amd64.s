//go:build amd64 && !noasm

// Attention kernels: scores of queries against a block of keys (f32 and
// f16 keys), the scale-and-maximum step of the softmax, and the weighted
// sum of value rows (f32 and f16 values). attention_amd64.go declares
// them, with the plain Go loop each computes; the pure-Go twins are in
// twins.go and exp.go. Operand order is Go's: sources first, destination
// last.

#include "textflag.h"
#include "macros_amd64.h"

// LOADY8 and STOREY8 move the 64 floats at (DI) to and from Y0-Y7.
#define LOADY8 \
	VMOVUPS (DI), Y0 \
	VMOVUPS 32(DI), Y1 \
	VMOVUPS 64(DI), Y2 \
	VMOVUPS 96(DI), Y3 \
	VMOVUPS 128(DI), Y4 \
	VMOVUPS 160(DI), Y5 \
	VMOVUPS 192(DI), Y6 \
	VMOVUPS 224(DI), Y7

#define STOREY8 \
	VMOVUPS Y0, (DI) \
	VMOVUPS Y1, 32(DI) \
	VMOVUPS Y2, 64(DI) \
	VMOVUPS Y3, 96(DI) \
	VMOVUPS Y4, 128(DI) \
	VMOVUPS Y5, 160(DI) \
	VMOVUPS Y6, 192(DI) \
	VMOVUPS Y7, 224(DI)

// AXROWS(done) starts AXPYROWS's walk over the rows for one group of
// columns: the weights at R10, the group's first row at R11, the row count
// in CX; with no rows it goes to done. AXNEXT(loop) steps to the next row.
#define AXROWS(done) \
	MOVQ w+8(FP), R10 \
	MOVQ DX, R11 \
	MOVQ rows+40(FP), CX \
	TESTQ CX, CX \
	JZ   done

#define AXNEXT(loop) \
	ADDQ $4, R10 \
	ADDQ R9, R11 \
	DECQ CX \
	JNZ  loop

// AXSTEP4(LOADV, GB, k, a0, a1, a2, a3): a0-a3 += the row weight (Y8)
// times the row's value groups k to k+3 (GB bytes each, at R11).
#define AXSTEP4(LOADV, GB, k, a0, a1, a2, a3) \
	LOADV((k*GB)(R11), Y9) \
	LOADV(((k+1)*GB)(R11), Y10) \
	LOADV(((k+2)*GB)(R11), Y11) \
	LOADV(((k+3)*GB)(R11), Y12) \
	VFMADD231PS Y9, Y8, a0 \
	VFMADD231PS Y10, Y8, a1 \
	VFMADD231PS Y11, Y8, a2 \
	VFMADD231PS Y12, Y8, a3

// AXPYROWS(LOADV, GB, SHIFT) is the body of the axpyRows kernels:
// dst[i] += sum_j w[j] * v_j[i] for i < n (a multiple of 8), 64 columns of
// dst held in eight registers while every row streams past, then 8 at a
// time. LOADV(mem, reg) loads 8 row values as float32, GB is the bytes of
// 8 row values (32 for f32, 16 for f16) and 1<<SHIFT the bytes of one
// (stride is counted in values). Frame: dst, w, x, n, stride, rows.
#define AXPYROWS(LOADV, GB, SHIFT) \
	MOVQ dst+0(FP), DI \
	MOVQ x+16(FP), DX \
	MOVQ n+24(FP), BX \
	MOVQ stride+32(FP), R9 \
	SHLQ $SHIFT, R9 \
arcol64: \
	CMPQ BX, $64 \
	JLT  arcol8 \
	LOADY8 \
	AXROWS(arstore64) \
	LOOPALIGN \
arrow64: \
	VBROADCASTSS (R10), Y8 \
	AXSTEP4(LOADV, GB, 0, Y0, Y1, Y2, Y3) \
	AXSTEP4(LOADV, GB, 4, Y4, Y5, Y6, Y7) \
	AXNEXT(arrow64) \
arstore64: \
	STOREY8 \
	ADDQ $256, DI \
	ADDQ $(8*GB), DX \
	SUBQ $64, BX \
	JMP  arcol64 \
arcol8: \
	CMPQ BX, $8 \
	JLT  ardone \
	VMOVUPS (DI), Y0 \
	AXROWS(arstore8) \
arrow8: \
	VBROADCASTSS (R10), Y8 \
	LOADV((R11), Y9) \
	VFMADD231PS Y9, Y8, Y0 \
	AXNEXT(arrow8) \
arstore8: \
	VMOVUPS Y0, (DI) \
	ADDQ $32, DI \
	ADDQ $GB, DX \
	SUBQ $8, BX \
	JMP  arcol8 \
ardone: \
	VZEROUPPER \
	RET

// func dotRowsAVX2(out *float32, a *float32, b *float32, n int, stride int, rows int)
// out[j] = a[:n] . b[j*stride : j*stride+n] for j < rows; n is a multiple
// of 8, stride is in floats. Attention scores of one query against a block
// of keys.
TEXT ·dotRowsAVX2(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), R8
	MOVQ stride+32(FP), R9
	SHLQ $2, R9
	MOVQ rows+40(FP), CX
	TESTQ CX, CX
	JZ   drdone

drrow:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	MOVQ SI, R10
	MOVQ DX, R11
	MOVQ R8, BX

	LOOPALIGN
drloop16:
	CMPQ BX, $16
	JLT  drloop8
	VMOVUPS (R10), Y2
	VMOVUPS 32(R10), Y3
	VFMADD231PS (R11), Y2, Y0
	VFMADD231PS 32(R11), Y3, Y1
	ADDQ $64, R10
	ADDQ $64, R11
	SUBQ $16, BX
	JMP  drloop16

drloop8:
	CMPQ BX, $8
	JLT  drsum
	VMOVUPS (R10), Y2
	VFMADD231PS (R11), Y2, Y0

drsum:
	VADDPS Y1, Y0, Y0
	HSUM8(Y0, X0, X1)
	VMOVSS X0, (DI)
	ADDQ $4, DI
	ADDQ R9, DX
	DECQ CX
	JNZ  drrow

drdone:
	VZEROUPPER
	RET

// func axpyRowsAVX2(dst *float32, w *float32, x *float32, n int, stride int, rows int)
// dst[i] += sum over j < rows of w[j]*x[j*stride+i], for i < n; n is a
// multiple of 8, stride is in floats. The weighted sum of a block of value
// rows in attention; dst is read and written once per call.
TEXT ·axpyRowsAVX2(SB), NOSPLIT, $0-48
	AXPYROWS(LOADF32, 32, 2)

// func axpyRowsF16AVX2(dst *float32, w *float32, x *byte, n int, stride int, rows int)
// dst[i] += sum_j w[j] * f16(x[j*stride + i]) for i < n (a multiple of 8),
// j < rows; stride counts f16 values. As axpyRowsAVX2, 64 columns of dst
// stay in eight registers while every row streams past, each row's eight
// groups widened with VCVTPH2PS on the way.
TEXT ·axpyRowsF16AVX2(SB), NOSPLIT, $0-48
	AXPYROWS(LOADF16, 16, 1)

// func scaleMaxAVX2(x *float32, n int, scale float32) float32
// x[i] *= scale for i < n (a positive multiple of 8); returns the largest
// result. x must hold no NaN (ScaleMaxF32s's contract): VMAXPS keeps its
// second source when either is NaN, so a NaN lane's fate depends on where
// it falls.
TEXT ·scaleMaxAVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS scale+16(FP), Y5
	VMULPS (DI), Y5, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	SUBQ $8, CX
	JZ   smreduce

smloop:
	VMULPS (DI), Y5, Y1
	VMOVUPS Y1, (DI)
	VMAXPS Y0, Y1, Y0
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ  smloop

smreduce:
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X0, X1, X0
	VPERMILPS $0x4e, X0, X1
	VMAXPS X0, X1, X0
	VPERMILPS $0xb1, X0, X1
	VMAXPS X0, X1, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func scoresT3AVX2(out *float32, q *float32, ldq int, kt *byte, d int)
// ScoresF16T for three queries (ldq floats apart) and d > 0 on a
// transposed key block: a quarter of the block (16 keys, two registers per
// query) at a time, each key's sum in its own lane over the dimensions in
// order.
TEXT ·scoresT3AVX2(SB), NOSPLIT, $0-40
	FUNCALIGN // t3dim on the boundary (LOOPALIGN) measured 3 % slower
	MOVQ out+0(FP), DI
	MOVQ ldq+16(FP), R8
	SHLQ $2, R8
	MOVQ kt+24(FP), R9
	MOVQ $4, DX

t3quarter:
	MOVQ q+8(FP), AX
	MOVQ R9, SI
	MOVQ d+32(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5

t3dim:
	VCVTPH2PS (SI), Y6
	VCVTPH2PS 16(SI), Y7
	VBROADCASTSS (AX), Y8
	VBROADCASTSS (AX)(R8*1), Y9
	VBROADCASTSS (AX)(R8*2), Y10
	VFMADD231PS Y6, Y8, Y0
	VFMADD231PS Y7, Y8, Y1
	VFMADD231PS Y6, Y9, Y2
	VFMADD231PS Y7, Y9, Y3
	VFMADD231PS Y6, Y10, Y4
	VFMADD231PS Y7, Y10, Y5
	ADDQ $128, SI
	ADDQ $4, AX
	DECQ CX
	JNZ  t3dim

	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 256(DI)
	VMOVUPS Y3, 288(DI)
	VMOVUPS Y4, 512(DI)
	VMOVUPS Y5, 544(DI)
	ADDQ $64, DI
	ADDQ $32, R9
	DECQ DX
	JNZ  t3quarter
	VZEROUPPER
	RET

// func scoresT1AVX2(out *float32, q *float32, kt *byte, d int)
// ScoresF16T for one query and d > 0: the 64 keys in eight accumulators.
TEXT ·scoresT1AVX2(SB), NOSPLIT, $0-32
	FUNCALIGN // t1dim on the boundary (LOOPALIGN) measured 5 % slower
	MOVQ out+0(FP), DI
	MOVQ q+8(FP), AX
	MOVQ kt+16(FP), SI
	MOVQ d+24(FP), CX
	ZERO4(Y0, Y1, Y2, Y3)
	ZERO4(Y4, Y5, Y6, Y7)

t1dim:
	VBROADCASTSS (AX), Y8
	VCVTPH2PS (SI), Y9
	VFMADD231PS Y9, Y8, Y0
	VCVTPH2PS 16(SI), Y10
	VFMADD231PS Y10, Y8, Y1
	VCVTPH2PS 32(SI), Y11
	VFMADD231PS Y11, Y8, Y2
	VCVTPH2PS 48(SI), Y12
	VFMADD231PS Y12, Y8, Y3
	VCVTPH2PS 64(SI), Y9
	VFMADD231PS Y9, Y8, Y4
	VCVTPH2PS 80(SI), Y10
	VFMADD231PS Y10, Y8, Y5
	VCVTPH2PS 96(SI), Y11
	VFMADD231PS Y11, Y8, Y6
	VCVTPH2PS 112(SI), Y12
	VFMADD231PS Y12, Y8, Y7
	ADDQ $128, SI
	ADDQ $4, AX
	DECQ CX
	JNZ  t1dim

	STOREY8
	VZEROUPPER
	RET
