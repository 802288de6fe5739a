//go:build amd64 && !noasm

// AVX2 + FMA + F16C kernels. Every function here has a pure-Go twin in
// twins.go with the same contract; kernels_amd64_test.go checks one against
// the other. Operand order is Go's: sources first, destination last.

#include "textflag.h"

// permidx undoes the lane interleaving of VPACKSSDW+VPACKSSWB: dword k of
// the result is dword permidx[k] of the packed vector.
DATA permidx<>+0(SB)/8, $0x0000000400000000
DATA permidx<>+8(SB)/8, $0x0000000500000001
DATA permidx<>+16(SB)/8, $0x0000000600000002
DATA permidx<>+24(SB)/8, $0x0000000700000003
GLOBL permidx<>(SB), RODATA|NOPTR, $32

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

// ONES16 sets Y0 to sixteen int16 ones (the VPMADDWD pair-sum multiplier).
#define ONES16 \
	MOVL $0x00010001, AX \
	VMOVD AX, X0 \
	VPBROADCASTD X0, Y0

// HSUM4(a, b, c, d, xa, xt) leaves [sum a, sum b, sum c, sum d] in xa.
#define HSUM4(a, b, c, d, xa, xt) \
	VHADDPS b, a, a \
	VHADDPS d, c, c \
	VHADDPS c, a, a \
	VEXTRACTF128 $1, a, xt \
	VADDPS xt, xa, xa

// SCALES4(d, dst) gathers the f16 scales of the blocks at byte offset d
// from SI, SI+R8, SI+2*R8 and R9 (four weight rows) into the low four
// float32 lanes of dst (an X register). Clobbers AX, BX, DX.
#define SCALES4(d, dst) \
	MOVWLZX d(SI), AX \
	MOVWLZX d(SI)(R8*1), BX \
	SHLL $16, BX \
	ORL  BX, AX \
	MOVWLZX d(SI)(R8*2), BX \
	MOVWLZX d(R9), DX \
	SHLL $16, DX \
	ORL  DX, BX \
	SHLQ $32, BX \
	ORQ  BX, AX \
	VMOVQ AX, dst \
	VCVTPH2PS dst, dst

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

// FGEMV4(LOADW) is the body of the 4-row float gemv kernels: LOADW(mem, reg)
// loads 8 weights as float32. Frame: w, ldw, x, n, out.
#define FGEMV4(LOADW, WSTEP) \
	MOVQ w+0(FP), SI \
	MOVQ ldw+8(FP), R8 \
	MOVQ x+16(FP), DI \
	MOVQ n+24(FP), CX \
	LEAQ (SI)(R8*2), R9 \
	ADDQ R8, R9 \
	VXORPS Y4, Y4, Y4 \
	VXORPS Y5, Y5, Y5 \
	VXORPS Y6, Y6, Y6 \
	VXORPS Y7, Y7, Y7 \
	VXORPS Y8, Y8, Y8 \
	VXORPS Y9, Y9, Y9 \
	VXORPS Y10, Y10, Y10 \
	VXORPS Y11, Y11, Y11 \
	CMPQ CX, $16 \
	JLT  fg8 \
fg16: \
	VMOVUPS (DI), Y0 \
	VMOVUPS 32(DI), Y12 \
	LOADW((SI), Y1) \
	LOADW((SI)(R8*1), Y2) \
	LOADW((SI)(R8*2), Y3) \
	LOADW((R9), Y13) \
	VFMADD231PS Y1, Y0, Y4 \
	VFMADD231PS Y2, Y0, Y5 \
	VFMADD231PS Y3, Y0, Y6 \
	VFMADD231PS Y13, Y0, Y7 \
	LOADW(WSTEP(SI), Y1) \
	LOADW(WSTEP(SI)(R8*1), Y2) \
	LOADW(WSTEP(SI)(R8*2), Y3) \
	LOADW(WSTEP(R9), Y13) \
	VFMADD231PS Y1, Y12, Y8 \
	VFMADD231PS Y2, Y12, Y9 \
	VFMADD231PS Y3, Y12, Y10 \
	VFMADD231PS Y13, Y12, Y11 \
	ADDQ $(2*WSTEP), SI \
	ADDQ $(2*WSTEP), R9 \
	ADDQ $64, DI \
	SUBQ $16, CX \
	CMPQ CX, $16 \
	JGE  fg16 \
fg8: \
	CMPQ CX, $8 \
	JLT  fgdone \
	VMOVUPS (DI), Y0 \
	LOADW((SI), Y1) \
	LOADW((SI)(R8*1), Y2) \
	LOADW((SI)(R8*2), Y3) \
	LOADW((R9), Y13) \
	VFMADD231PS Y1, Y0, Y4 \
	VFMADD231PS Y2, Y0, Y5 \
	VFMADD231PS Y3, Y0, Y6 \
	VFMADD231PS Y13, Y0, Y7 \
fgdone: \
	VADDPS Y8, Y4, Y4 \
	VADDPS Y9, Y5, Y5 \
	VADDPS Y10, Y6, Y6 \
	VADDPS Y11, Y7, Y7 \
	HSUM4(Y4, Y5, Y6, Y7, X4, X8) \
	MOVQ out+32(FP), DI \
	VMOVUPS X4, (DI) \
	VZEROUPPER \
	RET

#define LOADF16(mem, reg) VCVTPH2PS mem, reg
#define LOADF32(mem, reg) VMOVUPS mem, reg

// ZERO12 clears the twelve accumulators Y4-Y15 of a 4x3 tile.
#define ZERO12 \
	VXORPS Y4, Y4, Y4 \
	VXORPS Y5, Y5, Y5 \
	VXORPS Y6, Y6, Y6 \
	VXORPS Y7, Y7, Y7 \
	VXORPS Y8, Y8, Y8 \
	VXORPS Y9, Y9, Y9 \
	VXORPS Y10, Y10, Y10 \
	VXORPS Y11, Y11, Y11 \
	VXORPS Y12, Y12, Y12 \
	VXORPS Y13, Y13, Y13 \
	VXORPS Y14, Y14, Y14 \
	VXORPS Y15, Y15, Y15

// TILE43(LOADW, W, W3, X) is one step of a 4 rows x 3 vectors float tile:
// 8 values of rows W, W+R8, W+2*R8 and W3 (loaded as float32 by
// LOADW(mem, reg) into Y0-Y3) times 8 values of vectors X, X+R10,
// X+2*R10, accumulated into Y4-Y7 (vector 0), Y8-Y11 (1), Y12-Y15 (2).
#define TILE43(LOADW, W, W3, X) \
	LOADW((W), Y0) \
	LOADW((W)(R8*1), Y1) \
	LOADW((W)(R8*2), Y2) \
	LOADW((W3), Y3) \
	VFMADD231PS (X), Y0, Y4 \
	VFMADD231PS (X), Y1, Y5 \
	VFMADD231PS (X), Y2, Y6 \
	VFMADD231PS (X), Y3, Y7 \
	VFMADD231PS (X)(R10*1), Y0, Y8 \
	VFMADD231PS (X)(R10*1), Y1, Y9 \
	VFMADD231PS (X)(R10*1), Y2, Y10 \
	VFMADD231PS (X)(R10*1), Y3, Y11 \
	VFMADD231PS (X)(R10*2), Y0, Y12 \
	VFMADD231PS (X)(R10*2), Y1, Y13 \
	VFMADD231PS (X)(R10*2), Y2, Y14 \
	VFMADD231PS (X)(R10*2), Y3, Y15

// STORE43(C, LDC) reduces the tile's accumulators and stores the four sums
// of vector t at C + t*LDC bytes (LDC a register); clobbers X0.
#define STORE43(C, LDC) \
	HSUM4(Y4, Y5, Y6, Y7, X4, X0) \
	VMOVUPS X4, (C) \
	HSUM4(Y8, Y9, Y10, Y11, X8, X0) \
	VMOVUPS X8, (C)(LDC*1) \
	HSUM4(Y12, Y13, Y14, Y15, X12, X0) \
	VMOVUPS X12, (C)(LDC*2)

// FGEMM43(LOADW, WSTEP): 4 rows x 3 tokens. Frame: w, ldw, x, ldx, n, c, ldc.
#define FGEMM43(LOADW, WSTEP) \
	MOVQ w+0(FP), SI \
	MOVQ ldw+8(FP), R8 \
	MOVQ x+16(FP), DI \
	MOVQ ldx+24(FP), R10 \
	SHLQ $2, R10 \
	MOVQ n+32(FP), CX \
	LEAQ (SI)(R8*2), R9 \
	ADDQ R8, R9 \
	ZERO12 \
	CMPQ CX, $8 \
	JLT  fmdone \
fmloop: \
	TILE43(LOADW, SI, R9, DI) \
	ADDQ $WSTEP, SI \
	ADDQ $WSTEP, R9 \
	ADDQ $32, DI \
	SUBQ $8, CX \
	CMPQ CX, $8 \
	JGE  fmloop \
fmdone: \
	MOVQ c+40(FP), DI \
	MOVQ ldc+48(FP), R10 \
	SHLQ $2, R10 \
	STORE43(DI, R10) \
	VZEROUPPER \
	RET

// AXPYROWS(LOADV, GB, SHIFT) is the body of the axpyRows kernels:
// dst[i] += sum_j w[j] * v_j[i] for i < n (a multiple of 8), 64 columns of
// dst held in eight registers while every row streams past. LOADV(mem, reg)
// loads 8 row values as float32, GB is the bytes of 8 row values (32 for
// f32, 16 for f16) and 1<<SHIFT the bytes of one (stride is counted in
// values). Frame: dst, w, x, n, stride, rows.
#define AXPYROWS(LOADV, GB, SHIFT) \
	MOVQ dst+0(FP), DI \
	MOVQ x+16(FP), DX \
	MOVQ n+24(FP), BX \
	MOVQ stride+32(FP), R9 \
	SHLQ $SHIFT, R9 \
arcol64: \
	CMPQ BX, $64 \
	JLT  arcol8 \
	VMOVUPS (DI), Y0 \
	VMOVUPS 32(DI), Y1 \
	VMOVUPS 64(DI), Y2 \
	VMOVUPS 96(DI), Y3 \
	VMOVUPS 128(DI), Y4 \
	VMOVUPS 160(DI), Y5 \
	VMOVUPS 192(DI), Y6 \
	VMOVUPS 224(DI), Y7 \
	MOVQ w+8(FP), R10 \
	MOVQ DX, R11 \
	MOVQ rows+40(FP), CX \
	TESTQ CX, CX \
	JZ   arstore64 \
arrow64: \
	VBROADCASTSS (R10), Y8 \
	LOADV((R11), Y9) \
	LOADV((1*GB)(R11), Y10) \
	LOADV((2*GB)(R11), Y11) \
	LOADV((3*GB)(R11), Y12) \
	VFMADD231PS Y9, Y8, Y0 \
	VFMADD231PS Y10, Y8, Y1 \
	VFMADD231PS Y11, Y8, Y2 \
	VFMADD231PS Y12, Y8, Y3 \
	LOADV((4*GB)(R11), Y9) \
	LOADV((5*GB)(R11), Y10) \
	LOADV((6*GB)(R11), Y11) \
	LOADV((7*GB)(R11), Y12) \
	VFMADD231PS Y9, Y8, Y4 \
	VFMADD231PS Y10, Y8, Y5 \
	VFMADD231PS Y11, Y8, Y6 \
	VFMADD231PS Y12, Y8, Y7 \
	ADDQ $4, R10 \
	ADDQ R9, R11 \
	DECQ CX \
	JNZ  arrow64 \
arstore64: \
	VMOVUPS Y0, (DI) \
	VMOVUPS Y1, 32(DI) \
	VMOVUPS Y2, 64(DI) \
	VMOVUPS Y3, 96(DI) \
	VMOVUPS Y4, 128(DI) \
	VMOVUPS Y5, 160(DI) \
	VMOVUPS Y6, 192(DI) \
	VMOVUPS Y7, 224(DI) \
	ADDQ $256, DI \
	ADDQ $(8*GB), DX \
	SUBQ $64, BX \
	JMP  arcol64 \
arcol8: \
	CMPQ BX, $8 \
	JLT  ardone \
	VMOVUPS (DI), Y0 \
	MOVQ w+8(FP), R10 \
	MOVQ DX, R11 \
	MOVQ rows+40(FP), CX \
	TESTQ CX, CX \
	JZ   arstore8 \
arrow8: \
	VBROADCASTSS (R10), Y8 \
	LOADV((R11), Y9) \
	VFMADD231PS Y9, Y8, Y0 \
	ADDQ $4, R10 \
	ADDQ R9, R11 \
	DECQ CX \
	JNZ  arrow8 \
arstore8: \
	VMOVUPS Y0, (DI) \
	ADDQ $32, DI \
	ADDQ $GB, DX \
	SUBQ $8, BX \
	JMP  arcol8 \
ardone: \
	VZEROUPPER \
	RET

// QROW(wmem, idx, acc): acc += float(sum_i w_i*x_i) * Y8[idx lane] for one
// 32-value block of one weight row; Y14 holds x, Y0 the int16 ones, Y8 the
// four rows' scale products; clobbers Y1, Y2, Y3.
#define QROW(wmem, idx, acc) \
	VPABSB wmem, Y1 \
	VPSIGNB wmem, Y14, Y2 \
	VPMADDUBSW Y2, Y1, Y2 \
	VPMADDWD Y0, Y2, Y2 \
	VCVTDQ2PS Y2, Y2 \
	VPERMPS Y8, idx, Y3 \
	VFMADD231PS Y3, Y2, acc

// func dotF32AVX2(a, b *float32, n int) float32
// n is a multiple of 8.
TEXT ·dotF32AVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

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
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

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
	MOVL $0x7fffffff, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15       // abs mask
	MOVL $0x80000000, AX
	VMOVD AX, X14
	VPBROADCASTD X14, Y14       // sign mask
	MOVL $0x3f000000, AX
	VMOVD AX, X13
	VPBROADCASTD X13, Y13       // 0.5
	MOVL $0x3f800000, AX
	VMOVD AX, X12
	VPBROADCASTD X12, Y12       // 1.0
	MOVL $0x42fe0000, AX
	VMOVD AX, X11               // 127.0 (scalar)

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

// func gemvQ8x4AVX2(w *byte, ldw int, xq *byte, xd *float32, nb int, out *float32)
// Four q8_0 weight rows (w, w+ldw, w+2*ldw, w+3*ldw; nb blocks each) dotted
// with one activation row in split layout (xq: nb*32 int8 in [-127, 127];
// xd: nb float32 scales). out[r] = row r . x.
TEXT ·gemvQ8x4AVX2(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), SI
	MOVQ ldw+8(FP), R8
	MOVQ xq+16(FP), DI
	MOVQ xd+24(FP), R11
	MOVQ nb+32(FP), CX
	LEAQ (SI)(R8*2), R9
	ADDQ R8, R9                 // row 3
	ONES16
	XORL AX, AX
	VMOVD AX, X10
	VPBROADCASTD X10, Y10       // lane index 0
	INCL AX
	VMOVD AX, X11
	VPBROADCASTD X11, Y11       // 1
	INCL AX
	VMOVD AX, X12
	VPBROADCASTD X12, Y12       // 2
	INCL AX
	VMOVD AX, X13
	VPBROADCASTD X13, Y13       // 3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	TESTQ CX, CX
	JZ   g1done

g1loop:
	PREFETCHT0 256(SI)
	PREFETCHT0 256(SI)(R8*1)
	PREFETCHT0 256(SI)(R8*2)
	PREFETCHT0 256(R9)
	SCALES4(0, X8)
	VBROADCASTSS (R11), X9
	VMULPS X9, X8, X8
	VMOVDQU (DI), Y14
	QROW(2(SI), Y10, Y4)
	QROW(2(SI)(R8*1), Y11, Y5)
	QROW(2(SI)(R8*2), Y12, Y6)
	QROW(2(R9), Y13, Y7)
	ADDQ $34, SI
	ADDQ $34, R9
	ADDQ $32, DI
	ADDQ $4, R11
	DECQ CX
	JNZ  g1loop

g1done:
	HSUM4(Y4, Y5, Y6, Y7, X4, X8)
	MOVQ out+40(FP), DI
	VMOVUPS X4, (DI)
	VZEROUPPER
	RET

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
	MOVQ c+56(FP), DI
	MOVQ ldc+64(FP), R10
	SHLQ $2, R10
	HSUM4(Y4, Y5, Y6, Y7, X4, X1)
	VMOVUPS X4, (DI)
	HSUM4(Y8, Y9, Y10, Y11, X8, X1)
	VMOVUPS X8, (DI)(R10*1)
	HSUM4(Y12, Y13, Y14, Y15, X12, X1)
	VMOVUPS X12, (DI)(R10*2)
	VZEROUPPER
	RET

// func gemvF16x4AVX2(w *byte, ldw int, x *float32, n int, out *float32)
// Four f16 rows (row stride ldw bytes) dotted with x; n is a multiple of 8.
TEXT ·gemvF16x4AVX2(SB), NOSPLIT, $0-40
	FGEMV4(LOADF16, 16)

// func gemvF32x4AVX2(w *byte, ldw int, x *float32, n int, out *float32)
// Four f32 rows (row stride ldw bytes) dotted with x; n is a multiple of 8.
TEXT ·gemvF32x4AVX2(SB), NOSPLIT, $0-40
	FGEMV4(LOADF32, 32)

// func gemmF16x4x3AVX2(w *byte, ldw int, x *float32, ldx int, n int, c *float32, ldc int)
// Four f16 rows times three float32 rows (stride ldx floats); n is a
// multiple of 8. c[t*ldc + r] = row r . token t.
TEXT ·gemmF16x4x3AVX2(SB), NOSPLIT, $0-56
	FGEMM43(LOADF16, 16)

// func gemmF32x4x3AVX2(w *byte, ldw int, x *float32, ldx int, n int, c *float32, ldc int)
// As gemmF16x4x3AVX2 for f32 rows.
TEXT ·gemmF32x4x3AVX2(SB), NOSPLIT, $0-56
	FGEMM43(LOADF32, 32)

// func sumBytesAVX2(p *byte, n int) uint64
// Streams n bytes (a multiple of 256) and returns a checksum of them, so the
// reads cannot be optimised away. Used by MeasureBandwidth.
TEXT ·sumBytesAVX2(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	SHRQ $8, CX
	JZ   sbdone

sbloop:
	VPADDQ (SI), Y0, Y0
	VPADDQ 32(SI), Y1, Y1
	VPADDQ 64(SI), Y2, Y2
	VPADDQ 96(SI), Y3, Y3
	VPADDQ 128(SI), Y0, Y0
	VPADDQ 160(SI), Y1, Y1
	VPADDQ 192(SI), Y2, Y2
	VPADDQ 224(SI), Y3, Y3
	ADDQ $256, SI
	DECQ CX
	JNZ  sbloop

sbdone:
	VPADDQ Y1, Y0, Y0
	VPADDQ Y3, Y2, Y2
	VPADDQ Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDQ X1, X0, X0
	VPSHUFD $0x4e, X0, X1
	VPADDQ X1, X0, X0
	VMOVQ X0, AX
	VZEROUPPER
	MOVQ AX, ret+16(FP)
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
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
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

// func expAVX2(dst, src *float32, n int) (done int)
// dst[i] = exp(src[i]) group of 8 by group of 8 (n is a multiple of 8),
// stopping before the first group with a value outside [-87.33654,
// 88.72284] (or NaN); done is the number of values computed. dst may be
// src.
TEXT ·expAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	LEAQ expk<>(SB), R8
	XORQ DX, DX
	SHRQ $3, CX
	JZ   exdone

exloop:
	VMOVUPS (SI), Y0
	VPCMPEQD Y6, Y6, Y6
	INRANGE(Y0, Y7, Y6)
	VMOVMSKPS Y6, AX
	CMPL AX, $0xff
	JNE  exdone
	EXPBODY
	VMOVUPS Y2, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $8, DX
	DECQ CX
	JNZ  exloop

exdone:
	MOVQ DX, done+24(FP)
	VZEROUPPER
	RET

// func siluMulAVX2(gate, up *float32, n int) (done int)
// gate[i] = gate[i] / (1 + exp(-gate[i])) * up[i] group of 8 by group of 8
// (n is a multiple of 8) with the same roundings as siluMulGeneric,
// stopping before the first group with some -gate[i] outside the exp
// polynomial's range (or NaN); done is the number of values computed.
TEXT ·siluMulAVX2(SB), NOSPLIT, $0-32
	MOVQ gate+0(FP), DI
	MOVQ up+8(FP), SI
	MOVQ n+16(FP), CX
	LEAQ expk<>(SB), R8
	XORQ DX, DX
	SHRQ $3, CX
	JZ   sldone

slloop:
	VMOVUPS (DI), Y5
	VXORPS 64(R8), Y5, Y0
	VPCMPEQD Y6, Y6, Y6
	INRANGE(Y0, Y7, Y6)
	VMOVMSKPS Y6, AX
	CMPL AX, $0xff
	JNE  sldone
	EXPBODY
	VADDPS 352(R8), Y2, Y2
	VDIVPS Y2, Y5, Y5
	VMULPS (SI), Y5, Y5
	VMOVUPS Y5, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $8, DX
	DECQ CX
	JNZ  slloop

sldone:
	MOVQ DX, done+24(FP)
	VZEROUPPER
	RET

// func axpyRowsF16AVX2(dst *float32, w *float32, x *byte, n int, stride int, rows int)
// dst[i] += sum_j w[j] * f16(x[j*stride + i]) for i < n (a multiple of 8),
// j < rows; stride counts f16 values. As axpyRowsAVX2, 64 columns of dst
// stay in eight registers while every row streams past, each row's eight
// groups widened with VCVTPH2PS on the way.
TEXT ·axpyRowsF16AVX2(SB), NOSPLIT, $0-48
	AXPYROWS(LOADF16, 16, 1)

// func f32ToF16AVX2(dst *byte, src *float32, n int)
// dst gets the f16 of src[i] for i < n (a multiple of 8), rounded to
// nearest even (VCVTPS2PH mode 0), as F32ToF16 does.
TEXT ·f32ToF16AVX2(SB), NOSPLIT, $0-24
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

// func scoresF16x3AVX2(k *byte, ldk int, q *float32, ldq int, d int, nk int, out *float32, ldo int)
// out[t*ldo+j] = q_t . k_j for three queries t (q_t at q + t*ldq floats) and
// nk keys (a multiple of 4; key j is d f16 values at k + j*ldk bytes),
// d a positive multiple of 8. The FGEMM43 tile (4 keys x 3 queries, twelve
// accumulators) looped over the keys inside one call, so a block of
// attention scores costs one call rather than one per four keys.
TEXT ·scoresF16x3AVX2(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), SI
	MOVQ ldk+8(FP), R8
	MOVQ q+16(FP), DI
	MOVQ ldq+24(FP), R10
	SHLQ $2, R10
	MOVQ d+32(FP), R11
	MOVQ nk+40(FP), R12
	MOVQ out+48(FP), DX
	MOVQ ldo+56(FP), R13
	SHLQ $2, R13

sfkeys:
	CMPQ R12, $4
	JLT  sfdone
	ZERO12
	MOVQ SI, AX
	LEAQ (SI)(R8*2), R9
	ADDQ R8, R9
	MOVQ DI, BX
	MOVQ R11, CX

sfloop:
	TILE43(LOADF16, AX, R9, BX)
	ADDQ $16, AX
	ADDQ $16, R9
	ADDQ $32, BX
	SUBQ $8, CX
	JNZ  sfloop

	STORE43(DX, R13)
	LEAQ (SI)(R8*4), SI
	ADDQ $16, DX
	SUBQ $4, R12
	JMP  sfkeys

sfdone:
	VZEROUPPER
	RET

// func scaleMaxAVX2(x *float32, n int, scale float32) float32
// x[i] *= scale for i < n (a positive multiple of 8); returns the largest
// result (VMAXPS: a NaN lane is dropped in favour of the other operand,
// as ScaleMaxF32s documents).
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
