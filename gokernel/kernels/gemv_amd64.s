//go:build amd64 && !noasm

// Four-row matrix-vector kernels (q8_0, f16 and f32 weight rows times one
// float32 or split-q8_0 activation row): MatMul's kernels for a single
// token and for the one or two tokens left after groups of three.
// gemv_amd64.go declares them, with the plain Go loop each computes; the
// pure-Go twins are in twins.go. Operand order is Go's: sources first,
// destination last.

#include "textflag.h"
#include "macros_amd64.h"

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

// ROWS4(LOADW, off, x, a0, a1, a2, a3): 8 values of each of the four rows
// at off bytes (loaded by LOADW into Y1, Y2, Y3, Y13) times the 8 values
// in x, added to a0-a3.
#define ROWS4(LOADW, off, x, a0, a1, a2, a3) \
	LOADW(off(SI), Y1) \
	LOADW(off(SI)(R8*1), Y2) \
	LOADW(off(SI)(R8*2), Y3) \
	LOADW(off(R9), Y13) \
	VFMADD231PS Y1, x, a0 \
	VFMADD231PS Y2, x, a1 \
	VFMADD231PS Y3, x, a2 \
	VFMADD231PS Y13, x, a3

// FGEMV4(LOADW, WSTEP) is the body of the 4-row float gemv kernels:
// LOADW(mem, reg) loads 8 weights as float32 and WSTEP is their size in
// bytes. Frame: w, ldw, x, n, out.
#define FGEMV4(LOADW, WSTEP) \
	GEMV4ARGS \
	ZERO4(Y4, Y5, Y6, Y7) \
	ZERO4(Y8, Y9, Y10, Y11) \
	CMPQ CX, $16 \
	JLT  fg8 \
	LOOPALIGN \
fg16: \
	VMOVUPS (DI), Y0 \
	VMOVUPS 32(DI), Y12 \
	ROWS4(LOADW, 0, Y0, Y4, Y5, Y6, Y7) \
	ROWS4(LOADW, WSTEP, Y12, Y8, Y9, Y10, Y11) \
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
	ROWS4(LOADW, 0, Y0, Y4, Y5, Y6, Y7) \
fgdone: \
	VADDPS Y8, Y4, Y4 \
	VADDPS Y9, Y5, Y5 \
	VADDPS Y10, Y6, Y6 \
	VADDPS Y11, Y7, Y7 \
	HSUM4(Y4, Y5, Y6, Y7, X4, X8) \
	RET4(X4, 32)

// Q8SETUP: the int16 ones in Y0 (QROW's pair sums) and the lane indices
// 0-3 in Y10-Y13 (QROW's scale lanes).
#define Q8SETUP \
	ONES16 \
	XORL AX, AX \
	BCASTAX(X10, Y10) \
	INCL AX \
	BCASTAX(X11, Y11) \
	INCL AX \
	BCASTAX(X12, Y12) \
	INCL AX \
	BCASTAX(X13, Y13)

// Q8PREFETCH asks for the four rows' blocks 256 bytes ahead.
#define Q8PREFETCH \
	PREFETCHT0 256(SI) \
	PREFETCHT0 256(SI)(R8*1) \
	PREFETCHT0 256(SI)(R8*2) \
	PREFETCHT0 256(R9)

// func gemvQ8x4AVX2(w *byte, ldw int, xq *byte, xd *float32, nb int, out *float32)
// Four q8_0 weight rows (w, w+ldw, w+2*ldw, w+3*ldw; nb blocks each) dotted
// with one activation row in split layout (xq: nb*32 int8 in [-127, 127];
// xd: nb float32 scales). out[r] = row r . x.
TEXT ·gemvQ8x4AVX2(SB), NOSPLIT, $0-48
	GEMVQ8(Q8SETUP, Q8PREFETCH, NOHOOK, QROW)

// func gemvF16x4AVX2(w *byte, ldw int, x *float32, n int, out *float32)
// Four f16 rows (row stride ldw bytes) dotted with x; n is a multiple of 8.
TEXT ·gemvF16x4AVX2(SB), NOSPLIT, $0-40
	FGEMV4(LOADF16, 16)

// func gemvF32x4AVX2(w *byte, ldw int, x *float32, n int, out *float32)
// Four f32 rows (row stride ldw bytes) dotted with x; n is a multiple of 8.
TEXT ·gemvF32x4AVX2(SB), NOSPLIT, $0-40
	FGEMV4(LOADF32, 32)
