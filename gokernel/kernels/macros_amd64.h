// Macros shared by more than one kernel family: the *_amd64.s files that
// use them include this header after textflag.h. A macro that one family
// alone uses is defined in that family's file.

// LOOPALIGN starts the hot loop that follows on a 64-byte boundary (and
// with it makes the linker start the function on one): where the linker
// happens to place a kernel otherwise moves its loop between 64-byte
// fetch windows and its speed with it (docs/kernels.md, "Loop alignment").
// The padding is NOPs, run each time the loop is entered from above.
#define LOOPALIGN PCALIGN $64

// FUNCALIGN, as a function's first instruction, starts the function on a
// 64-byte boundary and so pins its layout without running any padding:
// for kernels whose loop measured slower on the boundary (LOOPALIGN) than
// where the function's own code puts it when the function starts on one.
#define FUNCALIGN PCALIGN $64

// BCASTAX(x, y) puts AX in all eight dwords of y (x its low half);
// BCASTD(imm, x, y) puts imm there (through AX).
#define BCASTAX(x, y) \
	VMOVD AX, x \
	VPBROADCASTD x, y

#define BCASTD(imm, x, y) \
	MOVL $imm, AX \
	BCASTAX(x, y)

// ONES16 sets Y0 to sixteen int16 ones (the VPMADDWD pair-sum multiplier).
#define ONES16 BCASTD(0x00010001, X0, Y0)

// YTOX(y, x, t) folds the 8 lanes of y into the 4 of x (its low half):
// x = low(y) + high(y), t a scratch X register.
#define YTOX(y, x, t) \
	VEXTRACTF128 $1, y, t \
	VADDPS t, x, x

// HSUM4(a, b, c, d, xa, xt) leaves [sum a, sum b, sum c, sum d] in xa.
#define HSUM4(a, b, c, d, xa, xt) \
	VHADDPS b, a, a \
	VHADDPS d, c, c \
	VHADDPS c, a, a \
	YTOX(a, xa, xt)

// HSUM8(y, x, xt) leaves the sum of y's eight lanes in lane 0 of x (y's
// low half): high half added to low, then two pairwise adds. Clobbers xt.
#define HSUM8(y, x, xt) \
	YTOX(y, x, xt) \
	VHADDPS x, x, x \
	VHADDPS x, x, x

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

// RET4(x, off) is the four-row kernels' return: the four float32 results
// in x stored to out (the pointer argument at off(FP)), then VZEROUPPER.
#define RET4(x, off) \
	MOVQ out+off(FP), DI \
	VMOVUPS x, (DI) \
	VZEROUPPER \
	RET

// GEMV4ARGS loads the frame w, ldw, x, n of the four-row float kernels:
// rows at SI, SI+R8, SI+2*R8 and R9, x at DI, n in CX.
#define GEMV4ARGS \
	MOVQ w+0(FP), SI \
	MOVQ ldw+8(FP), R8 \
	MOVQ x+16(FP), DI \
	MOVQ n+24(FP), CX \
	LEAQ (SI)(R8*2), R9 \
	ADDQ R8, R9

// GEMM43ARGS is GEMV4ARGS for the frame w, ldw, x, ldx, n of the 4x3
// float kernels: the three vectors at DI, DI+R10, DI+2*R10 (R10: ldx in
// bytes).
#define GEMM43ARGS \
	MOVQ w+0(FP), SI \
	MOVQ ldw+8(FP), R8 \
	MOVQ x+16(FP), DI \
	MOVQ ldx+24(FP), R10 \
	SHLQ $2, R10 \
	MOVQ n+32(FP), CX \
	LEAQ (SI)(R8*2), R9 \
	ADDQ R8, R9

// GEMVQ8(SETUP, PREFETCH, XPREP, ROW) is the body of the four-row q8_0
// kernels on the file's layout (gemvQ8x4AVX2, gemvQ8x4VNNI): four weight
// rows (SI, SI+R8, SI+2*R8, R9; nb blocks of 34 bytes each) dotted with
// one activation row in split layout (int8 at DI, float32 scales at R11).
// SETUP puts the constants in place (Y0 and the lane indices 0-3 in
// Y10-Y13); per block, PREFETCH runs first, XPREP once the activations are
// in Y14 and the four rows' scale products in Y8, and ROW(wmem, idx, acc)
// adds one row's block. NOHOOK is the empty hook. Frame: w, ldw, xq, xd,
// nb, out.
#define NOHOOK
#define GEMVQ8(SETUP, PREFETCH, XPREP, ROW) \
	MOVQ w+0(FP), SI \
	MOVQ ldw+8(FP), R8 \
	MOVQ xq+16(FP), DI \
	MOVQ xd+24(FP), R11 \
	MOVQ nb+32(FP), CX \
	LEAQ (SI)(R8*2), R9 \
	ADDQ R8, R9 \
	SETUP \
	ZERO4(Y4, Y5, Y6, Y7) \
	TESTQ CX, CX \
	JZ   q8done \
	LOOPALIGN \
q8loop: \
	PREFETCH \
	SCALES4(0, X8) \
	VBROADCASTSS (R11), X9 \
	VMULPS X9, X8, X8 \
	VMOVDQU (DI), Y14 \
	XPREP \
	ROW(2(SI), Y10, Y4) \
	ROW(2(SI)(R8*1), Y11, Y5) \
	ROW(2(SI)(R8*2), Y12, Y6) \
	ROW(2(R9), Y13, Y7) \
	ADDQ $34, SI \
	ADDQ $34, R9 \
	ADDQ $32, DI \
	ADDQ $4, R11 \
	DECQ CX \
	JNZ  q8loop \
q8done: \
	HSUM4(Y4, Y5, Y6, Y7, X4, X8) \
	RET4(X4, 40)

// LOADF16 and LOADF32 load 8 (into a Y register) or 16 (into a Z register)
// values as float32, from f16 and from f32: the load argument of FGEMV4,
// FGEMM43, TILE43, AXPYROWS, DOT8, FGEMV4Z and FGEMM43Z.
#define LOADF16(mem, reg) VCVTPH2PS mem, reg
#define LOADF32(mem, reg) VMOVUPS mem, reg

// ZERO4(a, b, c, d) clears four Y registers (accumulators).
#define ZERO4(a, b, c, d) \
	VXORPS a, a, a \
	VXORPS b, b, b \
	VXORPS c, c, c \
	VXORPS d, d, d

// ZERO12 clears the twelve accumulators Y4-Y15 of a 4x3 tile.
#define ZERO12 \
	ZERO4(Y4, Y5, Y6, Y7) \
	ZERO4(Y8, Y9, Y10, Y11) \
	ZERO4(Y12, Y13, Y14, Y15)

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

// RET43(coff, ldcoff, xt) is the 4x3 tiles' return: the tile's
// accumulators reduced and the four sums of vector t stored at c + t*ldc
// floats (the arguments c and ldc at coff(FP) and ldcoff(FP)), then
// VZEROUPPER; clobbers xt.
#define RET43(coff, ldcoff, xt) \
	MOVQ c+coff(FP), DI \
	MOVQ ldc+ldcoff(FP), R10 \
	SHLQ $2, R10 \
	HSUM4(Y4, Y5, Y6, Y7, X4, xt) \
	VMOVUPS X4, (DI) \
	HSUM4(Y8, Y9, Y10, Y11, X8, xt) \
	VMOVUPS X8, (DI)(R10*1) \
	HSUM4(Y12, Y13, Y14, Y15, X12, xt) \
	VMOVUPS X12, (DI)(R10*2) \
	VZEROUPPER \
	RET

// The AMX instructions both tile families use (avx512_amd64.s: int8 tiles,
// amxbf16_amd64.s: bf16 tiles), as bytes: Go's assembler does not know
// them. Each comment is the instruction (Intel syntax), checked with GNU as
// and objdump.
// ldtilecfg [rax]
#define LDTILECFG_AX BYTE $0xC4; BYTE $0xE2; BYTE $0x78; BYTE $0x49; BYTE $0x00
// tilerelease
#define TILERELEASE  BYTE $0xC4; BYTE $0xE2; BYTE $0x78; BYTE $0x49; BYTE $0xC0
// tilezero tmm0
#define TILEZERO_T0  BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x49; BYTE $0xC0
// tilezero tmm1
#define TILEZERO_T1  BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x49; BYTE $0xC8
