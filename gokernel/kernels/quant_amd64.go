//go:build amd64 && !noasm

package kernels

import "encoding/binary"

// Narrowing kernels (quant_amd64.s): float32 to q8_0 blocks and to f16.

// quantQ8_0AVX2 is, bit-identically (quantBlockQ8_0 is ggml's reference
// quantizer: d = max|x|/127, q = x/d rounded half away from zero),
//
//	for b := 0; b < nb; b++ {
//		d := quantBlockQ8_0(qs[b*qsStride:], x[32*b:32*b+32])
//		if h != nil {
//			binary.LittleEndian.PutUint16(h[b*hStride:], d)
//		}
//		if f != nil {
//			f[b] = F16ToF32(d)
//		}
//	}
//
//go:noescape
func quantQ8_0AVX2(x *float32, nb int, qs *byte, qsStride int, h *byte, hStride int, f *float32)

// f32ToF16AVX2 is, bit-identically (VCVTPS2PH rounds to nearest even), for
// n a multiple of 8,
//
//	for i := 0; i < n; i++ {
//		binary.LittleEndian.PutUint16(dst[2*i:], F32ToF16(src[i]))
//	}
//
//go:noescape
func f32ToF16AVX2(dst *byte, src *float32, n int)

func quantQ8_0Asm(dst []byte, x []float32) {
	nb := len(x) / QK8_0
	if nb == 0 {
		return
	}
	_ = dst[nb*BlockQ8_0Bytes-1]
	quantQ8_0AVX2(&x[0], nb, &dst[2], BlockQ8_0Bytes, &dst[0], BlockQ8_0Bytes, nil)
}

func quantSplitAsm(qs []byte, ds []float32, x []float32) {
	nb := len(x) / QK8_0
	if nb == 0 {
		return
	}
	_ = qs[nb*QK8_0-1]
	_ = ds[nb-1]
	quantQ8_0AVX2(&x[0], nb, &qs[0], QK8_0, nil, 0, &ds[0])
}

func toF16Asm(dst []byte, src []float32) {
	n := len(src)
	n8 := n &^ 7
	if n8 > 0 {
		_ = dst[2*n-1]
		f32ToF16AVX2(&dst[0], &src[0], n8)
	}
	for i := n8; i < n; i++ {
		binary.LittleEndian.PutUint16(dst[2*i:], F32ToF16(src[i]))
	}
}
