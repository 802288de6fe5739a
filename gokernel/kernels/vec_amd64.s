//go:build amd64 && !noasm

// One-vector kernels (BLAS level 1): dot products of a float32, f16 or
// q8_0 row with a vector, and axpy. vec_amd64.go declares them, with the
// plain Go loop each computes; the pure-Go twins are in generic.go.
// Operand order is Go's: sources first, destination last.

#include "textflag.h"
#include "macros_amd64.h"

// func dotF32AVX2(a, b *float32, n int) float32
// n is a multiple of 8.
TEXT ·dotF32AVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	ZERO4(Y0, Y1, Y2, Y3)

f32loop32:
	CMPQ CX, $32
	JLT  f32loop8
	VMOVUPS (SI), Y4
	VMOVUPS 32(SI), Y5
	VMOVUPS 64(SI), Y6
	VMOVUPS 96(SI), Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  f32loop32

f32loop8:
	CMPQ CX, $8
	JLT  f32done
	VMOVUPS (SI), Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  f32loop8

f32done:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func dotF16AVX2(w *byte, x *float32, n int) float32
// w holds n little-endian f16 values; n is a multiple of 8.
TEXT ·dotF16AVX2(SB), NOSPLIT, $0-28
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ n+16(FP), CX
	ZERO4(Y0, Y1, Y2, Y3)

f16loop32:
	CMPQ CX, $32
	JLT  f16loop8
	VCVTPH2PS (SI), Y4
	VCVTPH2PS 16(SI), Y5
	VCVTPH2PS 32(SI), Y6
	VCVTPH2PS 48(SI), Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ $64, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  f16loop32

f16loop8:
	CMPQ CX, $8
	JLT  f16done
	VCVTPH2PS (SI), Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ $16, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  f16loop8

f16done:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func axpyAVX2(dst *float32, a float32, x *float32, n int)
// dst[i] += a*x[i] for i < n; n is a multiple of 8.
TEXT ·axpyAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	VBROADCASTSS a+8(FP), Y0
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), CX

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
	VEXTRACTF128 $1, Y1, X2
	VADDPS X2, X1, X1
	VHADDPS X1, X1, X1
	VHADDPS X1, X1, X1
	VZEROUPPER
	MOVSS X1, ret+24(FP)
	RET
