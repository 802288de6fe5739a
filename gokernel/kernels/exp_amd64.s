//go:build amd64 && !noasm

// Vector exp kernels: exp itself, the SwiGLU gate and the softmax
// numerators, all on one polynomial (EXPBODY) that performs the float32
// operations of expF32Generic in its order, so results are bit-identical
// to the pure-Go twins in exp.go. exp_amd64.go declares them, with the
// plain Go loop each computes. Operand order is Go's: sources first,
// destination last.

#include "textflag.h"
#include "macros_amd64.h"

// Constants of the vector exp, 8 copies each, at 32-byte offsets from expk
// (order: log2e, 0.5, sign mask, c1, c2, p0..p5, 1.0, int 127, and the
// range limits lo, hi): the Cephes
// expf algorithm, evaluated with the same float32 operations in the same
// order as expF32Generic, so results are bit-identical.
DATA expk<>+0(SB)/4, $0x3fb8aa3b
DATA expk<>+4(SB)/4, $0x3fb8aa3b
DATA expk<>+8(SB)/4, $0x3fb8aa3b
DATA expk<>+12(SB)/4, $0x3fb8aa3b
DATA expk<>+16(SB)/4, $0x3fb8aa3b
DATA expk<>+20(SB)/4, $0x3fb8aa3b
DATA expk<>+24(SB)/4, $0x3fb8aa3b
DATA expk<>+28(SB)/4, $0x3fb8aa3b
DATA expk<>+32(SB)/4, $0x3f000000
DATA expk<>+36(SB)/4, $0x3f000000
DATA expk<>+40(SB)/4, $0x3f000000
DATA expk<>+44(SB)/4, $0x3f000000
DATA expk<>+48(SB)/4, $0x3f000000
DATA expk<>+52(SB)/4, $0x3f000000
DATA expk<>+56(SB)/4, $0x3f000000
DATA expk<>+60(SB)/4, $0x3f000000
DATA expk<>+64(SB)/4, $0x80000000
DATA expk<>+68(SB)/4, $0x80000000
DATA expk<>+72(SB)/4, $0x80000000
DATA expk<>+76(SB)/4, $0x80000000
DATA expk<>+80(SB)/4, $0x80000000
DATA expk<>+84(SB)/4, $0x80000000
DATA expk<>+88(SB)/4, $0x80000000
DATA expk<>+92(SB)/4, $0x80000000
DATA expk<>+96(SB)/4, $0x3f318000
DATA expk<>+100(SB)/4, $0x3f318000
DATA expk<>+104(SB)/4, $0x3f318000
DATA expk<>+108(SB)/4, $0x3f318000
DATA expk<>+112(SB)/4, $0x3f318000
DATA expk<>+116(SB)/4, $0x3f318000
DATA expk<>+120(SB)/4, $0x3f318000
DATA expk<>+124(SB)/4, $0x3f318000
DATA expk<>+128(SB)/4, $0xb95e8083
DATA expk<>+132(SB)/4, $0xb95e8083
DATA expk<>+136(SB)/4, $0xb95e8083
DATA expk<>+140(SB)/4, $0xb95e8083
DATA expk<>+144(SB)/4, $0xb95e8083
DATA expk<>+148(SB)/4, $0xb95e8083
DATA expk<>+152(SB)/4, $0xb95e8083
DATA expk<>+156(SB)/4, $0xb95e8083
DATA expk<>+160(SB)/4, $0x39506967
DATA expk<>+164(SB)/4, $0x39506967
DATA expk<>+168(SB)/4, $0x39506967
DATA expk<>+172(SB)/4, $0x39506967
DATA expk<>+176(SB)/4, $0x39506967
DATA expk<>+180(SB)/4, $0x39506967
DATA expk<>+184(SB)/4, $0x39506967
DATA expk<>+188(SB)/4, $0x39506967
DATA expk<>+192(SB)/4, $0x3ab743ce
DATA expk<>+196(SB)/4, $0x3ab743ce
DATA expk<>+200(SB)/4, $0x3ab743ce
DATA expk<>+204(SB)/4, $0x3ab743ce
DATA expk<>+208(SB)/4, $0x3ab743ce
DATA expk<>+212(SB)/4, $0x3ab743ce
DATA expk<>+216(SB)/4, $0x3ab743ce
DATA expk<>+220(SB)/4, $0x3ab743ce
DATA expk<>+224(SB)/4, $0x3c088908
DATA expk<>+228(SB)/4, $0x3c088908
DATA expk<>+232(SB)/4, $0x3c088908
DATA expk<>+236(SB)/4, $0x3c088908
DATA expk<>+240(SB)/4, $0x3c088908
DATA expk<>+244(SB)/4, $0x3c088908
DATA expk<>+248(SB)/4, $0x3c088908
DATA expk<>+252(SB)/4, $0x3c088908
DATA expk<>+256(SB)/4, $0x3d2aa9c1
DATA expk<>+260(SB)/4, $0x3d2aa9c1
DATA expk<>+264(SB)/4, $0x3d2aa9c1
DATA expk<>+268(SB)/4, $0x3d2aa9c1
DATA expk<>+272(SB)/4, $0x3d2aa9c1
DATA expk<>+276(SB)/4, $0x3d2aa9c1
DATA expk<>+280(SB)/4, $0x3d2aa9c1
DATA expk<>+284(SB)/4, $0x3d2aa9c1
DATA expk<>+288(SB)/4, $0x3e2aaaaa
DATA expk<>+292(SB)/4, $0x3e2aaaaa
DATA expk<>+296(SB)/4, $0x3e2aaaaa
DATA expk<>+300(SB)/4, $0x3e2aaaaa
DATA expk<>+304(SB)/4, $0x3e2aaaaa
DATA expk<>+308(SB)/4, $0x3e2aaaaa
DATA expk<>+312(SB)/4, $0x3e2aaaaa
DATA expk<>+316(SB)/4, $0x3e2aaaaa
DATA expk<>+320(SB)/4, $0x3f000000
DATA expk<>+324(SB)/4, $0x3f000000
DATA expk<>+328(SB)/4, $0x3f000000
DATA expk<>+332(SB)/4, $0x3f000000
DATA expk<>+336(SB)/4, $0x3f000000
DATA expk<>+340(SB)/4, $0x3f000000
DATA expk<>+344(SB)/4, $0x3f000000
DATA expk<>+348(SB)/4, $0x3f000000
DATA expk<>+352(SB)/4, $0x3f800000
DATA expk<>+356(SB)/4, $0x3f800000
DATA expk<>+360(SB)/4, $0x3f800000
DATA expk<>+364(SB)/4, $0x3f800000
DATA expk<>+368(SB)/4, $0x3f800000
DATA expk<>+372(SB)/4, $0x3f800000
DATA expk<>+376(SB)/4, $0x3f800000
DATA expk<>+380(SB)/4, $0x3f800000
DATA expk<>+384(SB)/4, $0x7f
DATA expk<>+388(SB)/4, $0x7f
DATA expk<>+392(SB)/4, $0x7f
DATA expk<>+396(SB)/4, $0x7f
DATA expk<>+400(SB)/4, $0x7f
DATA expk<>+404(SB)/4, $0x7f
DATA expk<>+408(SB)/4, $0x7f
DATA expk<>+412(SB)/4, $0x7f
DATA expk<>+416(SB)/4, $0xc2aeac50
DATA expk<>+420(SB)/4, $0xc2aeac50
DATA expk<>+424(SB)/4, $0xc2aeac50
DATA expk<>+428(SB)/4, $0xc2aeac50
DATA expk<>+432(SB)/4, $0xc2aeac50
DATA expk<>+436(SB)/4, $0xc2aeac50
DATA expk<>+440(SB)/4, $0xc2aeac50
DATA expk<>+444(SB)/4, $0xc2aeac50
DATA expk<>+448(SB)/4, $0x42b17218
DATA expk<>+452(SB)/4, $0x42b17218
DATA expk<>+456(SB)/4, $0x42b17218
DATA expk<>+460(SB)/4, $0x42b17218
DATA expk<>+464(SB)/4, $0x42b17218
DATA expk<>+468(SB)/4, $0x42b17218
DATA expk<>+472(SB)/4, $0x42b17218
DATA expk<>+476(SB)/4, $0x42b17218
GLOBL expk<>(SB), RODATA|NOPTR, $480

// EXPBODY: Y2 = exp(Y0) for lanes in the polynomial's range, the same
// float32 operations as expF32Generic; R8 points at expk. Clobbers Y0, Y1,
// Y3, Y4.
#define EXPBODY \
	VMULPS 0(R8), Y0, Y1 \
	VANDPS 64(R8), Y1, Y2 \
	VORPS 32(R8), Y2, Y2 \
	VADDPS Y2, Y1, Y1 \
	VCVTTPS2DQ Y1, Y1 \
	VCVTDQ2PS Y1, Y2 \
	VMULPS 96(R8), Y2, Y3 \
	VSUBPS Y3, Y0, Y0 \
	VMULPS 128(R8), Y2, Y3 \
	VSUBPS Y3, Y0, Y0 \
	VMOVUPS 160(R8), Y2 \
	VMULPS Y0, Y2, Y2 \
	VADDPS 192(R8), Y2, Y2 \
	VMULPS Y0, Y2, Y2 \
	VADDPS 224(R8), Y2, Y2 \
	VMULPS Y0, Y2, Y2 \
	VADDPS 256(R8), Y2, Y2 \
	VMULPS Y0, Y2, Y2 \
	VADDPS 288(R8), Y2, Y2 \
	VMULPS Y0, Y2, Y2 \
	VADDPS 320(R8), Y2, Y2 \
	VMULPS Y0, Y2, Y2 \
	VMULPS Y0, Y2, Y2 \
	VADDPS Y0, Y2, Y2 \
	VADDPS 352(R8), Y2, Y2 \
	VPCMPGTD 384(R8), Y1, Y3 \
	VANDPS Y3, Y2, Y4 \
	VADDPS Y4, Y2, Y2 \
	VPADDD Y3, Y1, Y1 \
	VPADDD 384(R8), Y1, Y1 \
	VPSLLD $23, Y1, Y1 \
	VMULPS Y1, Y2, Y2

// INRANGE(x, t, acc): acc &= (lo <= x <= hi) lane-wise (false for NaN);
// R8 points at expk; clobbers t.
#define INRANGE(x, t, acc) \
	VCMPPS $0x1d, 416(R8), x, t \
	VANDPS t, acc, acc \
	VCMPPS $0x12, 448(R8), x, t \
	VANDPS t, acc, acc

// EXPGROUPS(LOADX, STORE) is the loop of the kernels that stop at the
// polynomial's range (expAVX2, siluMulAVX2): n values (CX, a multiple of
// 8) group of 8 by group of 8; LOADX puts the group's exp argument in Y0,
// and a group with a lane outside [-87.33654, 88.72284] (or NaN) ends the
// loop before it is computed; otherwise EXPBODY, then STORE (exp in Y2)
// writes the group's results; SI and DI step 32 bytes a group. Returns
// done, the number of values computed.
#define EXPGROUPS(LOADX, STORE) \
	LEAQ expk<>(SB), R8 \
	XORQ DX, DX \
	SHRQ $3, CX \
	JZ   egdone \
	LOOPALIGN \
egloop: \
	LOADX \
	VPCMPEQD Y6, Y6, Y6 \
	INRANGE(Y0, Y7, Y6) \
	VMOVMSKPS Y6, AX \
	CMPL AX, $0xff \
	JNE  egdone \
	EXPBODY \
	STORE \
	ADDQ $32, SI \
	ADDQ $32, DI \
	ADDQ $8, DX \
	DECQ CX \
	JNZ  egloop \
egdone: \
	MOVQ DX, done+24(FP) \
	VZEROUPPER \
	RET

// EXPLOAD and EXPSTORE: expAVX2's group, from src (SI) to dst (DI).
#define EXPLOAD VMOVUPS (SI), Y0
#define EXPSTORE VMOVUPS Y2, (DI)

// SILULOAD and SILUSTORE: siluMulAVX2's group: gate (DI, kept in Y5) and
// the exp argument -gate, then gate / (1 + exp(-gate)) * up (SI) back to
// gate.
#define SILULOAD \
	VMOVUPS (DI), Y5 \
	VXORPS 64(R8), Y5, Y0

#define SILUSTORE \
	VADDPS 352(R8), Y2, Y2 \
	VDIVPS Y2, Y5, Y5 \
	VMULPS (SI), Y5, Y5 \
	VMOVUPS Y5, (DI)

// func expAVX2(dst, src *float32, n int) (done int)
// dst[i] = exp(src[i]) group of 8 by group of 8 (n is a multiple of 8),
// stopping before the first group with a value outside [-87.33654,
// 88.72284] (or NaN); done is the number of values computed. dst may be
// src.
TEXT ·expAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	EXPGROUPS(EXPLOAD, EXPSTORE)

// func siluMulAVX2(gate, up *float32, n int) (done int)
// gate[i] = gate[i] / (1 + exp(-gate[i])) * up[i] group of 8 by group of 8
// (n is a multiple of 8) with the same roundings as siluMulGeneric,
// stopping before the first group with some -gate[i] outside the exp
// polynomial's range (or NaN); done is the number of values computed.
TEXT ·siluMulAVX2(SB), NOSPLIT, $0-32
	MOVQ gate+0(FP), DI
	MOVQ up+8(FP), SI
	MOVQ n+16(FP), CX
	EXPGROUPS(SILULOAD, SILUSTORE)

// func expShiftSumAVX2(x *float32, n int, shift float32) float32
// x[i] = exp(x[i] - shift) for i < n (a multiple of 8), with EXPBODY (so
// bit-identical to expF32Generic) and 0 where x[i] - shift is below the
// polynomial's range (exp < 2^-126); returns the sum of the results in
// eight lanes added pairwise at the end.
TEXT ·expShiftSumAVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS shift+16(FP), Y5
	LEAQ expk<>(SB), R8
	VXORPS Y7, Y7, Y7
	SHRQ $3, CX
	JZ   esdone

	LOOPALIGN
esloop:
	VMOVUPS (DI), Y0
	VSUBPS Y5, Y0, Y0
	VCMPPS $0x05, 416(R8), Y0, Y6 // not (x < lo), NaN included
	EXPBODY
	VANDPS Y6, Y2, Y2
	VMOVUPS Y2, (DI)
	VADDPS Y2, Y7, Y7
	ADDQ $32, DI
	DECQ CX
	JNZ  esloop

esdone:
	VEXTRACTF128 $1, Y7, X1
	VADDPS X7, X1, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET
