//go:build amd64 && !noasm

package kernels

// One-vector kernels (vec_amd64.s): dot products of one row and axpy.

// dotF32AVX2 is, for n a multiple of 8,
//
//	var s float32
//	for i := 0; i < n; i++ {
//		s += a[i] * b[i]
//	}
//	return s
//
//go:noescape
func dotF32AVX2(a, b *float32, n int) float32

// dotF16AVX2 is, for w holding n little-endian f16 values and n a multiple
// of 8,
//
//	var s float32
//	for i := 0; i < n; i++ {
//		s += f16At(w, 2*i) * x[i]
//	}
//	return s
//
//go:noescape
func dotF16AVX2(w *byte, x *float32, n int) float32

// axpyAVX2 is, for n a multiple of 8 (one fused multiply-add each),
//
//	for i := 0; i < n; i++ {
//		dst[i] += a * x[i]
//	}
//
//go:noescape
func axpyAVX2(dst *float32, a float32, x *float32, n int)

// dotQ8_0AVX2 is, for two rows w and x of nb standard q8_0 blocks (f16
// scale, 32 int8) with the x values in [-127, 127] (QuantizeQ8_0 output),
//
//	var s float32
//	for b := 0; b < nb; b++ {
//		o := b * BlockQ8_0Bytes
//		var sum int32
//		for i := 2; i < BlockQ8_0Bytes; i++ {
//			sum += int32(int8(w[o+i])) * int32(int8(x[o+i]))
//		}
//		s += f16At(w, o) * f16At(x, o) * float32(sum)
//	}
//	return s
//
//go:noescape
func dotQ8_0AVX2(w, x *byte, nb int) float32

func dotF32Asm(a, b []float32) float32 {
	n := len(a)
	b = b[:n]
	n8 := n &^ 7
	var s float32
	if n8 > 0 {
		s = dotF32AVX2(&a[0], &b[0], n8)
	}
	for i := n8; i < n; i++ {
		s += a[i] * b[i]
	}
	return s
}

func dotF16Asm(w []byte, x []float32) float32 {
	n := len(w) / 2
	x = x[:n]
	n8 := n &^ 7
	var s float32
	if n8 > 0 {
		s = dotF16AVX2(&w[0], &x[0], n8)
	}
	for i := n8; i < n; i++ {
		s += f16At(w, 2*i) * x[i]
	}
	return s
}

func axpyAsm(dst []float32, a float32, x []float32) {
	n := len(dst)
	x = x[:n]
	n8 := n &^ 7
	if n8 > 0 {
		axpyAVX2(&dst[0], a, &x[0], n8)
	}
	for i := n8; i < n; i++ {
		dst[i] += a * x[i]
	}
}

func dotQ8_0Asm(w, x []byte) float32 {
	nb := len(w) / BlockQ8_0Bytes
	if nb == 0 {
		return 0
	}
	_ = x[nb*BlockQ8_0Bytes-1]
	return dotQ8_0AVX2(&w[0], &x[0], nb)
}
