//go:build amd64 && !noasm

// Narrowing float32 into the stored formats: q8_0 blocks (ggml's
// reference quantizer) and f16. quant_amd64.go declares them, with the
// plain Go loop each computes. Operand order is Go's: sources first,
// destination last.

#include "textflag.h"
#include "macros_amd64.h"

// permidx undoes the lane interleaving of VPACKSSDW+VPACKSSWB: dword k of
// the result is dword permidx[k] of the packed vector.
DATA permidx<>+0(SB)/8, $0x0000000400000000
DATA permidx<>+8(SB)/8, $0x0000000500000001
DATA permidx<>+16(SB)/8, $0x0000000600000002
DATA permidx<>+24(SB)/8, $0x0000000700000003
GLOBL permidx<>(SB), RODATA|NOPTR, $32

// func quantQ8_0AVX2(x *float32, nb int, qs *byte, qsStride int, h *byte, hStride int, f *float32)
// Quantizes nb blocks of 32 floats as ggml's reference quantizer does
// (d = amax/127, q = round half away from zero of x/d). The int8 values of
// block b go to qs + b*qsStride; when h is not nil the f16 scale goes to
// h + b*hStride; when f is not nil the f16-rounded scale as float32 goes to
// f[b].
TEXT ·quantQ8_0AVX2(SB), NOSPLIT, $0-56
	MOVQ x+0(FP), SI
	MOVQ nb+8(FP), CX
	MOVQ qs+16(FP), DI
	MOVQ qsStride+24(FP), R8
	MOVQ h+32(FP), R9
	MOVQ hStride+40(FP), R10
	MOVQ f+48(FP), R11
	TESTQ CX, CX
	JZ   qtdone
	BCASTD(0x7fffffff, X15, Y15) // abs mask
	BCASTD(0x80000000, X14, Y14) // sign mask
	BCASTD(0x3f000000, X13, Y13) // 0.5
	BCASTD(0x3f800000, X12, Y12) // 1.0
	MOVL $0x42fe0000, AX
	VMOVD AX, X11               // 127.0 (scalar)

	LOOPALIGN
qtloop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VANDPS Y15, Y0, Y4
	VANDPS Y15, Y1, Y5
	VANDPS Y15, Y2, Y6
	VANDPS Y15, Y3, Y7
	VMAXPS Y5, Y4, Y4
	VMAXPS Y7, Y6, Y6
	VMAXPS Y6, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VMAXPS X5, X4, X4
	VMOVHLPS X4, X4, X5
	VMAXPS X5, X4, X4
	VMOVSHDUP X4, X5
	VMAXSS X5, X4, X4           // amax
	VDIVSS X11, X4, X4          // d = amax/127
	VXORPS X5, X5, X5
	VUCOMISS X5, X4
	JEQ  qtzero
	MOVL $0x3f800000, AX
	VMOVD AX, X6
	VDIVSS X4, X6, X6           // id = 1/d
	JMP  qtscale

qtzero:
	VXORPS X6, X6, X6           // id = 0

qtscale:
	VCVTPS2PH $0, X4, X7        // f16(d), round to nearest even
	TESTQ R9, R9
	JZ   qtnoh
	VPEXTRW $0, X7, AX
	MOVW AX, (R9)
	ADDQ R10, R9

qtnoh:
	TESTQ R11, R11
	JZ   qtnof
	VCVTPH2PS X7, X8
	MOVSS X8, (R11)
	ADDQ $4, R11

qtnof:
	VBROADCASTSS X6, Y6
	VMULPS Y6, Y0, Y0
	VMULPS Y6, Y1, Y1
	VMULPS Y6, Y2, Y2
	VMULPS Y6, Y3, Y3

	// round half away from zero: t = trunc(v); r = t + (|v-t| >= 0.5 ? copysign(1, v) : 0)
#define ROUNDAWAY(v, t, m) \
	VROUNDPS $3, v, t \
	VSUBPS t, v, m \
	VANDPS Y15, m, m \
	VCMPPS $0x0d, Y13, m, m \
	VANDPS Y14, v, v \
	VORPS Y12, v, v \
	VANDPS m, v, v \
	VADDPS t, v, v

	ROUNDAWAY(Y0, Y4, Y5)
	ROUNDAWAY(Y1, Y6, Y7)
	ROUNDAWAY(Y2, Y8, Y9)
	ROUNDAWAY(Y3, Y10, Y5)

	VCVTPS2DQ Y0, Y0
	VCVTPS2DQ Y1, Y1
	VCVTPS2DQ Y2, Y2
	VCVTPS2DQ Y3, Y3
	VPACKSSDW Y1, Y0, Y0        // int16, lanes interleaved per 128 bits
	VPACKSSDW Y3, Y2, Y2
	VPACKSSWB Y2, Y0, Y0        // int8 in order 0-3,8-11,16-19,24-27 | 4-7,12-15,20-23,28-31 (dwords)
	// Reorder dwords: result dword k comes from dword permidx[k].
	VMOVDQU permidx<>(SB), Y1
	VPERMD Y0, Y1, Y0
	VMOVDQU Y0, (DI)
	ADDQ R8, DI
	ADDQ $128, SI
	DECQ CX
	JNZ  qtloop

qtdone:
	VZEROUPPER
	RET

// func f32ToF16AVX2(dst *byte, src *float32, n int)
// dst gets the f16 of src[i] for i < n (a multiple of 8), rounded to
// nearest even (VCVTPS2PH mode 0), as F32ToF16 does.
TEXT ·f32ToF16AVX2(SB), NOSPLIT, $0-24
	FUNCALIGN // LOOPALIGN's 49 bytes of padding cost 2 % of a 192-value call
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

tohloop:
	CMPQ CX, $8
	JLT  tohdone
	VMOVUPS (SI), Y0
	VCVTPS2PH $0, Y0, X1
	VMOVDQU X1, (DI)
	ADDQ $32, SI
	ADDQ $16, DI
	SUBQ $8, CX
	JMP  tohloop

tohdone:
	VZEROUPPER
	RET
