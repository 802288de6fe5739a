//go:build amd64 && !noasm

// The 512-bit kernels of the avx512 and amx sets: the q8r16 layout
// (q8r16.go) times one token with VPDPBUSD, and times a tile of 16 tokens
// with the AMX tile multiply. avx512_amd64.go declares them, with the plain
// Go loop each computes; the pure-Go twins are q8r16Generic and
// q8r16TileGeneric. Operand order is Go's: sources first, destination last.

#include "textflag.h"
#include "macros_amd64.h"

// ZEROZ4(a, b, c, d) clears four Z registers (accumulators); ZEROZ12 and
// ZEROZ16 clear Z0-Z11 and Z0-Z15.
#define ZEROZ4(a, b, c, d) \
	VPXORD a, a, a \
	VPXORD b, b, b \
	VPXORD c, c, c \
	VPXORD d, d, d

#define ZEROZ12 \
	ZEROZ4(Z0, Z1, Z2, Z3) \
	ZEROZ4(Z4, Z5, Z6, Z7) \
	ZEROZ4(Z8, Z9, Z10, Z11)

#define ZEROZ16 \
	ZEROZ12 \
	ZEROZ4(Z12, Z13, Z14, Z15)

// ZTOY(z, y, t) folds the 16 lanes of z into the 8 of y (its low half):
// y = low(z) + high(z), t a scratch Y register.
#define ZTOY(z, y, t) \
	VEXTRACTF64X4 $1, z, t \
	VADDPS t, y, y

// ZTOY4(t) folds Z0-Z3 into Y0-Y3, ZTOY12(t) Z0-Z11 into Y0-Y11.
#define ZTOY4(t) \
	ZTOY(Z0, Y0, t) \
	ZTOY(Z1, Y1, t) \
	ZTOY(Z2, Y2, t) \
	ZTOY(Z3, Y3, t)

#define ZTOY12(t) \
	ZTOY4(t) \
	ZTOY(Z4, Y4, t) \
	ZTOY(Z5, Y5, t) \
	ZTOY(Z6, Y6, t) \
	ZTOY(Z7, Y7, t) \
	ZTOY(Z8, Y8, t) \
	ZTOY(Z9, Y9, t) \
	ZTOY(Z10, Y10, t) \
	ZTOY(Z11, Y11, t)

// FGEMV4Z(LOADW, WSTEP): four rows times one vector, 16 values a step,
// as gemvF16x4AVX2 / gemvF32x4AVX2 with 512-bit registers. LOADW(mem,
// reg) loads 16 row values as float32, WSTEP is their bytes. Frame: w,
// ldw, x, n, out.
#define FGEMV4Z(LOADW, WSTEP) \
	GEMV4ARGS \
	ZEROZ4(Z0, Z1, Z2, Z3) \
	LOOPALIGN \
fzloop: \
	VMOVUPS (DI), Z4 \
	LOADW((SI), Z5) \
	LOADW((SI)(R8*1), Z6) \
	LOADW((SI)(R8*2), Z7) \
	LOADW((R9), Z8) \
	VFMADD231PS Z4, Z5, Z0 \
	VFMADD231PS Z4, Z6, Z1 \
	VFMADD231PS Z4, Z7, Z2 \
	VFMADD231PS Z4, Z8, Z3 \
	ADDQ $WSTEP, SI \
	ADDQ $WSTEP, R9 \
	ADDQ $64, DI \
	SUBQ $16, CX \
	JNZ  fzloop \
	ZTOY4(Y9) \
	HSUM4(Y0, Y1, Y2, Y3, X0, X9) \
	RET4(X0, 32)

// FGEMM43Z(LOADW, WSTEP): four rows times three vectors (ldx floats
// apart), as FGEMM43 with 512-bit registers; token t's four sums go to
// c + t*ldc floats. Frame: w, ldw, x, ldx, n, c, ldc.
#define FGEMM43Z(LOADW, WSTEP) \
	GEMM43ARGS \
	ZEROZ12 \
	LOOPALIGN \
gzloop: \
	LOADW((SI), Z12) \
	LOADW((SI)(R8*1), Z13) \
	LOADW((SI)(R8*2), Z14) \
	LOADW((R9), Z15) \
	VMOVUPS (DI), Z16 \
	VMOVUPS (DI)(R10*1), Z17 \
	VMOVUPS (DI)(R10*2), Z18 \
	VFMADD231PS Z16, Z12, Z0 \
	VFMADD231PS Z16, Z13, Z1 \
	VFMADD231PS Z16, Z14, Z2 \
	VFMADD231PS Z16, Z15, Z3 \
	VFMADD231PS Z17, Z12, Z4 \
	VFMADD231PS Z17, Z13, Z5 \
	VFMADD231PS Z17, Z14, Z6 \
	VFMADD231PS Z17, Z15, Z7 \
	VFMADD231PS Z18, Z12, Z8 \
	VFMADD231PS Z18, Z13, Z9 \
	VFMADD231PS Z18, Z14, Z10 \
	VFMADD231PS Z18, Z15, Z11 \
	ADDQ $WSTEP, SI \
	ADDQ $WSTEP, R9 \
	ADDQ $64, DI \
	SUBQ $16, CX \
	JNZ  gzloop \
	ZTOY12(Y12) \
	MOVQ c+40(FP), DI \
	MOVQ ldc+48(FP), R10 \
	SHLQ $2, R10 \
	HSUM4(Y0, Y1, Y2, Y3, X0, X12) \
	VMOVUPS X0, (DI) \
	HSUM4(Y4, Y5, Y6, Y7, X4, X12) \
	VMOVUPS X4, (DI)(R10*1) \
	HSUM4(Y8, Y9, Y10, Y11, X8, X12) \
	VMOVUPS X8, (DI)(R10*2) \
	VZEROUPPER \
	RET



// The AMX instructions of the int8 tile kernels, as bytes (VEX encodings;
// the operands are fixed: the comment names them; ldtilecfg, tilerelease
// and tilezero are in macros_amd64.h). Tiles: T0, T1 results (16 tokens x
// 16 rows, int32); T2, T3 activations (16 tokens x 32 bytes, or 16 for half
// blocks); T4, T5 weights (8 x 64 bytes in VNNI order, or 4 x 64).
// tileloadd tmm2, [rsi+rdx]
#define LOAD_T2_SI_DX     BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x4B; BYTE $0x14; BYTE $0x16
// tileloadd tmm3, [rsi+rdx+32]
#define LOAD_T3_SI_DX_32  BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x4B; BYTE $0x5C; BYTE $0x16; BYTE $0x20
// tileloadd tmm3, [rsi+rdx+16]
#define LOAD_T3_SI_DX_16  BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x4B; BYTE $0x5C; BYTE $0x16; BYTE $0x10
// tileloadd tmm4, [rdi+rcx]
#define LOAD_T4_DI_CX     BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x4B; BYTE $0x24; BYTE $0x0F
// tileloadd tmm5, [rdi+rcx+576]
#define LOAD_T5_DI_CX_576 BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x4B; BYTE $0xAC; BYTE $0x0F; BYTE $0x40; BYTE $0x02; BYTE $0x00; BYTE $0x00
// tileloadd tmm5, [rdi+rcx+640]
#define LOAD_T5_DI_CX_640 BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x4B; BYTE $0xAC; BYTE $0x0F; BYTE $0x80; BYTE $0x02; BYTE $0x00; BYTE $0x00
// tileloadd tmm5, [rdi+rcx+384]
#define LOAD_T5_DI_CX_384 BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x4B; BYTE $0xAC; BYTE $0x0F; BYTE $0x80; BYTE $0x01; BYTE $0x00; BYTE $0x00
// tdpbssd tmm0, tmm2, tmm4
#define DP_T0_T2_T4       BYTE $0xC4; BYTE $0xE2; BYTE $0x5B; BYTE $0x5E; BYTE $0xC2
// tdpbssd tmm1, tmm3, tmm5
#define DP_T1_T3_T5       BYTE $0xC4; BYTE $0xE2; BYTE $0x53; BYTE $0x5E; BYTE $0xCB
// tilestored [rbx+rcx], tmm0
#define STORE_BX_CX_T0    BYTE $0xC4; BYTE $0xE2; BYTE $0x7A; BYTE $0x4B; BYTE $0x04; BYTE $0x0B
// tilestored [rbx+rcx+1024], tmm1
#define STORE_BX_CX_1K_T1 BYTE $0xC4; BYTE $0xE2; BYTE $0x7A; BYTE $0x4B; BYTE $0x8C; BYTE $0x0B; BYTE $0x00; BYTE $0x04; BYTE $0x00; BYTE $0x00

// FIX(m, acc): token m's 16 int32 block sums, stored at boff+64m(BX), to
// float, times the block's row scales (Z16) and token m's block scale
// (xoff+4m(R8)), added to acc.
#define FIX(boff, xoff, m, acc) \
	VCVTDQ2PS (boff+64*m)(BX), Z17 \
	VMULPS.BCST (xoff+4*m)(R8), Z16, Z18 \
	VFMADD231PS Z18, Z17, acc

// TOKENS16(FIXM, boff, xoff) runs FIXM(boff, xoff, m, Zm) for the 16
// tokens m of a tile.
#define TOKENS16(FIXM, boff, xoff) \
	FIXM(boff, xoff, 0, Z0) \
	FIXM(boff, xoff, 1, Z1) \
	FIXM(boff, xoff, 2, Z2) \
	FIXM(boff, xoff, 3, Z3) \
	FIXM(boff, xoff, 4, Z4) \
	FIXM(boff, xoff, 5, Z5) \
	FIXM(boff, xoff, 6, Z6) \
	FIXM(boff, xoff, 7, Z7) \
	FIXM(boff, xoff, 8, Z8) \
	FIXM(boff, xoff, 9, Z9) \
	FIXM(boff, xoff, 10, Z10) \
	FIXM(boff, xoff, 11, Z11) \
	FIXM(boff, xoff, 12, Z12) \
	FIXM(boff, xoff, 13, Z13) \
	FIXM(boff, xoff, 14, Z14) \
	FIXM(boff, xoff, 15, Z15)

// FIX16(soff, boff, xoff) scales one block's sums (boff(BX)) into the 16
// tokens' accumulators Z0-Z15, with its row scales at soff(DI) and the
// tokens' block scales at xoff(R8).
#define FIX16(soff, boff, xoff) \
	VMOVUPS soff(DI), Z16 \
	TOKENS16(FIX, boff, xoff)

// FIXB is FIX with a bias: also acc += the block's row biases (Z19) times
// token m's bias term (xoff+64+4m(R8): its block scale times its block's
// activation sum).
#define FIXB(boff, xoff, m, acc) \
	FIX(boff, xoff, m, acc) \
	VFMADD231PS.BCST (xoff+64+4*m)(R8), Z19, acc

// FIXB16 is FIX16 for the biased layouts: the row biases follow the row
// scales (soff+64(DI)).
#define FIXB16(soff, boff, xoff) \
	VMOVUPS soff(DI), Z16 \
	VMOVUPS (soff+64)(DI), Z19 \
	TOKENS16(FIXB, boff, xoff)

// STOREM(k, acc) stores token k's 16 results when k < mrows (R11).
#define STOREM(k, acc) \
	CMPQ R11, $k \
	JLE  qstored \
	ADDQ R10, AX \
	VMOVUPS acc, (AX)

// AMXQ8(XD, LOADA1, LOADB1, BLK, VAL, ASTEP, XSTEP, FIXBLK) is the body of
// the int8 tile kernels: for each group of 16 rows, blocks of BLK bytes
// (VAL bytes of weights in VNNI order, then the 16 rows' float32 scales and
// for the biased layouts their biases) times ASTEP activation values, with
// XSTEP bytes of per-token terms at XD per block. Blocks b and b+1 go into
// T0 and T1 (LOADA1 and LOADB1 load the second one: activations at +ASTEP,
// weights at +BLK), then each one's sums are scaled into the accumulators
// by FIXBLK(soff, boff, xoff) (FIX16 or FIXB16) while the other
// multiplies. Frame: p, ng, xq, ldx, XD, nb, mrows, c, ldc, cfg, buf.
#define AMXQ8(XD, LOADA1, LOADB1, BLK, VAL, ASTEP, XSTEP, FIXBLK) \
	MOVQ cfg+72(FP), AX \
	LDTILECFG_AX \
	MOVQ p+0(FP), DI \
	MOVQ ng+8(FP), R12 \
	MOVQ ldx+24(FP), DX \
	MOVQ mrows+48(FP), R11 \
	MOVQ c+56(FP), R13 \
	MOVQ ldc+64(FP), R10 \
	SHLQ $2, R10 \
	MOVQ buf+80(FP), BX \
	MOVQ $64, CX \
qgroup: \
	MOVQ xq+16(FP), SI \
	MOVQ XD+32(FP), R8 \
	ZEROZ16 \
	MOVQ nb+40(FP), R9 \
	SUBQ $2, R9 \
	JLT  qtail \
qpair: \
	LOAD_T2_SI_DX \
	LOAD_T4_DI_CX \
	TILEZERO_T0 \
	DP_T0_T2_T4 \
	LOADA1 \
	LOADB1 \
	TILEZERO_T1 \
	DP_T1_T3_T5 \
	STORE_BX_CX_T0 \
	FIXBLK(VAL, 0, 0) \
	STORE_BX_CX_1K_T1 \
	FIXBLK((BLK+VAL), 1024, XSTEP) \
	ADDQ $(2*ASTEP), SI \
	ADDQ $(2*BLK), DI \
	ADDQ $(2*XSTEP), R8 \
	SUBQ $2, R9 \
	JGE  qpair \
qtail: \
	CMPQ R9, $-1 \
	JNE  qstore \
	LOAD_T2_SI_DX \
	LOAD_T4_DI_CX \
	TILEZERO_T0 \
	DP_T0_T2_T4 \
	STORE_BX_CX_T0 \
	FIXBLK(VAL, 0, 0) \
	ADDQ $BLK, DI \
qstore: \
	MOVQ R13, AX \
	VMOVUPS Z0, (AX) \
	STOREM(1, Z1) \
	STOREM(2, Z2) \
	STOREM(3, Z3) \
	STOREM(4, Z4) \
	STOREM(5, Z5) \
	STOREM(6, Z6) \
	STOREM(7, Z7) \
	STOREM(8, Z8) \
	STOREM(9, Z9) \
	STOREM(10, Z10) \
	STOREM(11, Z11) \
	STOREM(12, Z12) \
	STOREM(13, Z13) \
	STOREM(14, Z14) \
	STOREM(15, Z15) \
qstored: \
	ADDQ $64, R13 \
	DECQ R12 \
	JNZ  qgroup \
	TILERELEASE \
	VZEROUPPER \
	RET

// QROWV(wmem, idx, acc) is gemv_amd64.s's QROW with one VPDPBUSD: the
// weights offset to unsigned (XOR 0x80, Y0), dotted with x (Y14), less
// 128 x the activations' four-byte sums (Y15): each lane's exact int32
// sum of four products, as QROW's, then scaled alike (Y8 the four rows'
// scale products); clobbers Y1, Y2, Y3.
#define QROWV(wmem, idx, acc) \
	VPXORD wmem, Y0, Y1 \
	VPXORD Y2, Y2, Y2 \
	VPDPBUSD Y14, Y1, Y2 \
	VPSUBD Y15, Y2, Y2 \
	VCVTDQ2PS Y2, Y2 \
	VPERMPS Y8, idx, Y3 \
	VFMADD231PS Y3, Y2, acc

// Q8SETUPV: 0x80 bytes in Y0 (QROWV's offset to unsigned) and the lane
// indices 0-3 in Y10-Y13.
#define Q8SETUPV \
	MOVL $0x80808080, AX \
	VPBROADCASTD AX, Y0 \
	XORL AX, AX \
	VPBROADCASTD AX, Y10 \
	INCL AX \
	VPBROADCASTD AX, Y11 \
	INCL AX \
	VPBROADCASTD AX, Y12 \
	INCL AX \
	VPBROADCASTD AX, Y13

// Q8XSUMV: 128 x each lane's four activations (Y14) in Y15, the offset
// QROWV takes off.
#define Q8XSUMV \
	VPXORD Y15, Y15, Y15 \
	VPDPBUSD Y14, Y0, Y15

// VNNIRUN(off, x, acc): acc += (the 64 weight bytes at off(DI), offset by
// 128 to unsigned) . (the four activation bytes at x(SI), in every lane).
#define VNNIRUN(off, x, w, acc) \
	VPXORD off(DI), Z31, w \
	VPDPBUSD.BCST x(SI), w, acc

// func vnniQ8R16(p *byte, ng int, xq *byte, xd *float32, xc *int32, nb int, out *float32)
TEXT ·vnniQ8R16(SB), NOSPLIT, $0-56
	MOVQ p+0(FP), DI
	MOVQ ng+8(FP), R12
	MOVQ out+48(FP), R13
	MOVL $0x80808080, AX
	VPBROADCASTD AX, Z31

vgroup:
	MOVQ xq+16(FP), SI
	MOVQ xd+24(FP), R8
	MOVQ xc+32(FP), R9
	MOVQ nb+40(FP), CX
	VPXORD Z0, Z0, Z0

	LOOPALIGN
vblock:
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VNNIRUN(0, 0, Z4, Z1)
	VNNIRUN(64, 4, Z5, Z2)
	VNNIRUN(128, 8, Z6, Z1)
	VNNIRUN(192, 12, Z7, Z2)
	VNNIRUN(256, 16, Z4, Z1)
	VNNIRUN(320, 20, Z5, Z2)
	VNNIRUN(384, 24, Z6, Z1)
	VNNIRUN(448, 28, Z7, Z2)
	VPADDD Z2, Z1, Z1
	VPSUBD.BCST (R9), Z1, Z1     // exact int32 dot products of the 16 rows
	VCVTDQ2PS Z1, Z1
	VMOVUPS 512(DI), Z3
	VMULPS.BCST (R8), Z3, Z3     // row scales * the block's activation scale
	VFMADD231PS Z3, Z1, Z0
	ADDQ $576, DI
	ADDQ $32, SI
	ADDQ $4, R8
	ADDQ $4, R9
	DECQ CX
	JNZ  vblock

	VMOVUPS Z0, (R13)
	ADDQ $64, R13
	DECQ R12
	JNZ  vgroup
	VZEROUPPER
	RET

// func amxQ8R16(p *byte, ng int, xq *byte, ldx int, xdT *float32, nb int, mrows int, c *float32, ldc int, cfg *byte, buf *byte)
// q8r16 blocks (576 bytes: 512 of values, 16 scales) of 32 values, xdT
// holding per block the 16 tokens' scales; cfg is amxConfig.
TEXT ·amxQ8R16(SB), NOSPLIT, $0-88
	AMXQ8(xdT, LOAD_T3_SI_DX_32, LOAD_T5_DI_CX_576, 576, 512, 32, 64, FIX16)

// func amxQ8R16B(p *byte, ng int, xq *byte, ldx int, xds *float32, nb int, mrows int, c *float32, ldc int, cfg *byte, buf *byte)
// amxQ8R16 for the biased layout (640-byte blocks of 32 values) with xds
// holding per block the 16 tokens' scales then their bias terms; cfg is
// amxConfig.
TEXT ·amxQ8R16B(SB), NOSPLIT, $0-88
	AMXQ8(xds, LOAD_T3_SI_DX_32, LOAD_T5_DI_CX_640, 640, 512, 32, 128, FIXB16)

// func amxQ8R16H(p *byte, ng int, xq *byte, ldx int, xds *float32, nb int, mrows int, c *float32, ldc int, cfg *byte, buf *byte)
// amxQ8R16B for half blocks (384-byte blocks of 16 values: the r8 types'
// scale and bias per 16 values); nb counts half blocks and cfg is
// amxConfigHalf (16-byte activation rows, 4-row weight tiles).
TEXT ·amxQ8R16H(SB), NOSPLIT, $0-88
	AMXQ8(xds, LOAD_T3_SI_DX_16, LOAD_T5_DI_CX_384, 384, 256, 16, 128, FIXB16)

// func xgetbv0() (eax, edx uint32)
TEXT ·xgetbv0(SB), NOSPLIT, $0-8
	XORL CX, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// KT4(k0, k1, k2, k3) widens 64 f16 values at (SI) (one dimension of a
// transposed key block, or one 64-value row) into four registers.
#define KT4(k0, k1, k2, k3) \
	VCVTPH2PS (SI), k0 \
	VCVTPH2PS 32(SI), k1 \
	VCVTPH2PS 64(SI), k2 \
	VCVTPH2PS 96(SI), k3

// FMA4(q, a0, a1, a2, a3): four accumulators += the widened keys (Z12-Z15)
// times the broadcast query value q.
#define FMA4(q, a0, a1, a2, a3) \
	VFMADD231PS Z12, q, a0 \
	VFMADD231PS Z13, q, a1 \
	VFMADD231PS Z14, q, a2 \
	VFMADD231PS Z15, q, a3

// KT4X3: the 64 f16 values at (SI) widened (KT4 into Z12-Z15) times the
// three query values (AX), (AX)(R8*1) and (AX)(R8*2), added to Z0-Z3,
// Z4-Z7 and Z8-Z11.
#define KT4X3 \
	KT4(Z12, Z13, Z14, Z15) \
	VBROADCASTSS (AX), Z16 \
	VBROADCASTSS (AX)(R8*1), Z17 \
	VBROADCASTSS (AX)(R8*2), Z18 \
	FMA4(Z16, Z0, Z1, Z2, Z3) \
	FMA4(Z17, Z4, Z5, Z6, Z7) \
	FMA4(Z18, Z8, Z9, Z10, Z11)

// LOAD64(o, base, z0, z1, z2, z3) loads the 64 floats at o bytes past the
// address base (a memory operand without offset) into z0-z3; STORE64
// stores them back.
#define LOAD64(o, base, z0, z1, z2, z3) \
	VMOVUPS (o)base, z0 \
	VMOVUPS (o+64)base, z1 \
	VMOVUPS (o+128)base, z2 \
	VMOVUPS (o+192)base, z3

#define STORE64(o, base, z0, z1, z2, z3) \
	VMOVUPS z0, (o)base \
	VMOVUPS z1, (o+64)base \
	VMOVUPS z2, (o+128)base \
	VMOVUPS z3, (o+192)base

// func scoresT3AVX512(out *float32, q *float32, ldq int, kt *byte, d int)
// ScoresF16T for three queries (ldq floats apart) and d > 0: 64 keys x 3
// queries in twelve accumulators, one dimension per step.
TEXT ·scoresT3AVX512(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DI
	MOVQ q+8(FP), AX
	MOVQ ldq+16(FP), R8
	SHLQ $2, R8
	MOVQ kt+24(FP), SI
	MOVQ d+32(FP), CX
	ZEROZ12

	LOOPALIGN
t3loop:
	KT4X3
	ADDQ $128, SI
	ADDQ $4, AX
	DECQ CX
	JNZ  t3loop

	STORE64(0, (DI), Z0, Z1, Z2, Z3)
	STORE64(256, (DI), Z4, Z5, Z6, Z7)
	STORE64(512, (DI), Z8, Z9, Z10, Z11)
	VZEROUPPER
	RET

// func scoresT1AVX512(out *float32, q *float32, kt *byte, d int)
// ScoresF16T for one query and d > 0.
TEXT ·scoresT1AVX512(SB), NOSPLIT, $0-32
	MOVQ out+0(FP), DI
	MOVQ q+8(FP), AX
	MOVQ kt+16(FP), SI
	MOVQ d+24(FP), CX
	ZEROZ4(Z0, Z1, Z2, Z3)

	LOOPALIGN
t1loop:
	KT4(Z12, Z13, Z14, Z15)
	VBROADCASTSS (AX), Z16
	FMA4(Z16, Z0, Z1, Z2, Z3)
	ADDQ $128, SI
	ADDQ $4, AX
	DECQ CX
	JNZ  t1loop

	STORE64(0, (DI), Z0, Z1, Z2, Z3)
	VZEROUPPER
	RET

// func axpyRowsF16x3AVX512(dst *float32, ldd int, w *float32, ldw int, x *byte, stride int, rows int)
// AxpyRowsF16Heads for three heads of 64 values and rows > 0: each f16
// row (128 bytes, stride values apart) widened once for the three heads,
// whose outputs (ldd floats apart) stay in twelve registers; the rows are
// taken in order, as axpyRowsF16AVX2 takes them.
TEXT ·axpyRowsF16x3AVX512(SB), NOSPLIT, $0-56
	FUNCALIGN // x3loop on the boundary (LOOPALIGN) measured 2 % slower
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R9
	SHLQ $2, R9
	MOVQ w+16(FP), AX
	MOVQ ldw+24(FP), R8
	SHLQ $2, R8
	MOVQ x+32(FP), SI
	MOVQ stride+40(FP), R10
	SHLQ $1, R10
	MOVQ rows+48(FP), CX
	LEAQ (DI)(R9*2), R11         // head 2's output
	LOAD64(0, (DI), Z0, Z1, Z2, Z3)
	LOAD64(0, (DI)(R9*1), Z4, Z5, Z6, Z7)
	LOAD64(0, (R11), Z8, Z9, Z10, Z11)

x3loop:
	KT4X3
	ADDQ R10, SI
	ADDQ $4, AX
	DECQ CX
	JNZ  x3loop

	STORE64(0, (DI), Z0, Z1, Z2, Z3)
	STORE64(0, (DI)(R9*1), Z4, Z5, Z6, Z7)
	STORE64(0, (R11), Z8, Z9, Z10, Z11)
	VZEROUPPER
	RET

// func gemvF16x4AVX512(w *byte, ldw int, x *float32, n int, out *float32)
TEXT ·gemvF16x4AVX512(SB), NOSPLIT, $0-40
	FGEMV4Z(LOADF16, 32)

// func gemvF32x4AVX512(w *byte, ldw int, x *float32, n int, out *float32)
TEXT ·gemvF32x4AVX512(SB), NOSPLIT, $0-40
	FGEMV4Z(LOADF32, 64)

// func gemmF16x4x3AVX512(w *byte, ldw int, x *float32, ldx int, n int, c *float32, ldc int)
TEXT ·gemmF16x4x3AVX512(SB), NOSPLIT, $0-56
	FGEMM43Z(LOADF16, 32)

// func gemmF32x4x3AVX512(w *byte, ldw int, x *float32, ldx int, n int, c *float32, ldc int)
TEXT ·gemmF32x4x3AVX512(SB), NOSPLIT, $0-56
	FGEMM43Z(LOADF32, 64)

// func gemvQ8x4VNNI(w *byte, ldw int, xq *byte, xd *float32, nb int, out *float32)
// gemvQ8x4AVX2 (four q8_0 rows in the file's layout times one token) with
// VPDPBUSD: the same lane sums and scaling, so the same bits.
TEXT ·gemvQ8x4VNNI(SB), NOSPLIT, $0-48
	GEMVQ8(Q8SETUPV, NOHOOK, Q8XSUMV, QROWV)
