//go:build amd64 && !noasm

package kernels

import "golang.org/x/sys/cpu"

// The AVX2 + FMA + F16C kernel set. Its assembly is split by kernel family,
// each family's *_amd64.s beside a *_amd64.go that declares the kernels and
// wraps them:
//
//	vec        dot products of one row (f32, f16, q8_0) and axpy
//	quant      float32 to q8_0 blocks and to f16
//	gemv       four weight rows times one token (MatMul)
//	gemm       four weight rows times three tokens (MatMul)
//	packed     four rows of a packed quantized group times one token
//	attention  scores, the softmax's scale-and-max, weighted value sums
//	exp        exp, the SwiGLU gate, softmax numerators
//	bandwidth  the streaming read of MeasureBandwidth
//
// Macros that more than one family uses are in macros_amd64.h.
//
// Each kernel takes raw pointers and counts; its Go wrapper checks bounds,
// handles the tail that is not a multiple of the vector width and gives it
// the kernelSet signature. The doc comment of each declaration is the plain
// Go loop the kernel computes, reading a pointer argument p as the slice of
// values that starts at p. Float sums are taken in vector lanes with fused
// multiply-adds and the lanes added at the end, so they equal the loop's up
// to rounding (helpers_test.go gives the tolerance); results the comment
// calls bit-identical are exactly the loop's.

// hasAVX2Set reports whether the CPU (and OS) support the avx2 set.
func hasAVX2Set() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C }

var avx2Set = &kernelSet{
	name:        "avx2",
	isa:         "avx2,fma,f16c", // exactly what hasAVX2Set checks
	dotF32:      dotF32Asm,
	dotF16:      dotF16Asm,
	dotQ8_0:     dotQ8_0Asm,
	quantQ8_0:   quantQ8_0Asm,
	axpy:        axpyAsm,
	quantSplit:  quantSplitAsm,
	q8x4:        q8x4Asm,
	q8x4x3:      q8x4x3Asm,
	r4x4:        r4x4Asm,
	r8x4:        r8x4Asm,
	q8r16:       q8r16Generic,
	f16x4:       fx4(gemvF16x4AVX2, 2, 8),
	f16x4x3:     fx4x3(gemmF16x4x3AVX2, 2, 8),
	f32x4:       fx4(gemvF32x4AVX2, 4, 8),
	f32x4x3:     fx4x3(gemmF32x4x3AVX2, 4, 8),
	sumBytes:    sumBytesAsm,
	dotRows:     dotRowsAsm,
	axpyRows:    axpyRowsAsm,
	axpyRowsF16: axpyRowsF16Asm,
	scoresT3:    scoresT3Of(scoresT3AVX2),
	scoresT1:    scoresT1Of(scoresT1AVX2),
	scaleMax:    scaleMaxAsm,
	expShiftSum: expShiftSumAsm,
	toF16:       toF16Asm,
	exp:         expAsm,
	siluMul:     siluMulAsm,
}
