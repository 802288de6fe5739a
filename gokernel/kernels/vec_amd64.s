//go:build amd64 && !noasm

// One-vector kernels (BLAS level 1): dot products of a float32, f16 or
// q8_0 row with a vector, and axpy. vec_amd64.go declares them, with the
// plain Go loop each computes; the pure-Go twins are in generic.go.
// Operand order is Go's: sources first, destination last.

#include "textflag.h"
#include "macros_amd64.h"

// DOT8(LOADW, WSTEP) is the body of the float dot products: sum a*b over
// n values (a multiple of 8) of a row at SI, loaded as float32 8 at a time
// by LOADW(mem, reg) (WSTEP bytes each), and a float32 vector at DI; 32
// values a step in four accumulators, then 8. Returns ret+24(FP).
#define DOT8(LOADW, WSTEP) \
	ZERO4(Y0, Y1, Y2, Y3) \
	LOOPALIGN \
dot32: \
	CMPQ CX, $32 \
	JLT  dot8 \
	LOADW((SI), Y4) \
	LOADW((1*WSTEP)(SI), Y5) \
	LOADW((2*WSTEP)(SI), Y6) \
	LOADW((3*WSTEP)(SI), Y7) \
	VFMADD231PS (DI), Y4, Y0 \
	VFMADD231PS 32(DI), Y5, Y1 \
	VFMADD231PS 64(DI), Y6, Y2 \
	VFMADD231PS 96(DI), Y7, Y3 \
	ADDQ $(4*WSTEP), SI \
	ADDQ $128, DI \
	SUBQ $32, CX \
	JMP  dot32 \
dot8: \
	CMPQ CX, $8 \
	JLT  dotdone \
	LOADW((SI), Y4) \
	VFMADD231PS (DI), Y4, Y0 \
	ADDQ $WSTEP, SI \
	ADDQ $32, DI \
	SUBQ $8, CX \
	JMP  dot8 \
dotdone: \
	VADDPS Y1, Y0, Y0 \
	VADDPS Y3, Y2, Y2 \
	VADDPS Y2, Y0, Y0 \
	HSUM8(Y0, X0, X1) \
	VZEROUPPER \
	MOVSS X0, ret+24(FP) \
	RET

// func dotF32AVX2(a, b *float32, n int) float32
// n is a multiple of 8.
TEXT ·dotF32AVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	DOT8(LOADF32, 32)

// func dotF16AVX2(w *byte, x *float32, n int) float32
// w holds n little-endian f16 values; n is a multiple of 8.
TEXT ·dotF16AVX2(SB), NOSPLIT, $0-28
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ n+16(FP), CX
	DOT8(LOADF16, 16)

// func axpyAVX2(dst *float32, a float32, x *float32, n int)
// dst[i] += a*x[i] for i < n; n is a multiple of 8.
TEXT ·axpyAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	VBROADCASTSS a+8(FP), Y0
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), CX

	LOOPALIGN
axloop32:
	CMPQ CX, $32
	JLT  axloop8
	VMOVUPS (DI), Y1
	VMOVUPS 32(DI), Y2
	VMOVUPS 64(DI), Y3
	VMOVUPS 96(DI), Y4
	VFMADD231PS (SI), Y0, Y1
	VFMADD231PS 32(SI), Y0, Y2
	VFMADD231PS 64(SI), Y0, Y3
	VFMADD231PS 96(SI), Y0, Y4
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  axloop32

axloop8:
	CMPQ CX, $8
	JLT  axdone
	VMOVUPS (DI), Y1
	VFMADD231PS (SI), Y0, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  axloop8

axdone:
	VZEROUPPER
	RET

// func dotQ8_0AVX2(w, x *byte, nb int) float32
// Two rows of nb standard q8_0 blocks (f16 scale, 32 int8). The x values
// must lie in [-127, 127] (QuantizeQ8_0 output); w may hold -128.
TEXT ·dotQ8_0AVX2(SB), NOSPLIT, $0-28
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ nb+16(FP), CX
	ONES16
	VXORPS Y1, Y1, Y1
	TESTQ CX, CX
	JZ   q1done

	LOOPALIGN
q1loop:
	VPABSB 2(SI), Y2
	VMOVDQU 2(DI), Y3
	VPSIGNB 2(SI), Y3, Y3
	VPMADDUBSW Y3, Y2, Y3
	VPMADDWD Y0, Y3, Y3
	VCVTDQ2PS Y3, Y3
	MOVWLZX (SI), AX
	MOVWLZX (DI), BX
	SHLL $16, BX
	ORL  BX, AX
	VMOVD AX, X4
	VCVTPH2PS X4, X4
	VMOVSHDUP X4, X5
	VMULSS X5, X4, X4
	VBROADCASTSS X4, Y4
	VFMADD231PS Y4, Y3, Y1
	ADDQ $34, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  q1loop

q1done:
	HSUM8(Y1, X1, X2)
	VZEROUPPER
	MOVSS X1, ret+24(FP)
	RET
