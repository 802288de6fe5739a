//go:build amd64 && !noasm

package kernels

import (
	"math"
	"unsafe"
)

// Attention kernels (attention_amd64.s): scores of queries against a block
// of keys, the softmax's scale-and-maximum step and the weighted sum of
// value rows. Row strides count values, except ldk (bytes).

// dotRowsAVX2 is, for n a multiple of 8,
//
//	for j := 0; j < rows; j++ {
//		var s float32
//		for i := 0; i < n; i++ {
//			s += a[i] * b[j*stride+i]
//		}
//		out[j] = s
//	}
//
//go:noescape
func dotRowsAVX2(out *float32, a *float32, b *float32, n int, stride int, rows int)

// scaleMaxAVX2 is, for n a positive multiple of 8 and x holding no NaN,
//
//	m := float32(math.Inf(-1))
//	for i := 0; i < n; i++ {
//		x[i] *= scale
//		if x[i] > m {
//			m = x[i]
//		}
//	}
//	return m
//
//go:noescape
func scaleMaxAVX2(x *float32, n int, scale float32) float32

// axpyRowsAVX2 is, for n a multiple of 8 (one fused multiply-add per term,
// rows in order; dst read and written once),
//
//	for j := 0; j < rows; j++ {
//		for i := 0; i < n; i++ {
//			dst[i] += w[j] * x[j*stride+i]
//		}
//	}
//
//go:noescape
func axpyRowsAVX2(dst *float32, w *float32, x *float32, n int, stride int, rows int)

// axpyRowsF16AVX2 is axpyRowsAVX2 for rows of f16 values:
//
//	for j := 0; j < rows; j++ {
//		for i := 0; i < n; i++ {
//			dst[i] += w[j] * f16At(x, 2*(j*stride+i))
//		}
//	}
//
//go:noescape
func axpyRowsF16AVX2(dst *float32, w *float32, x *byte, n int, stride int, rows int)

func dotRowsAsm(out, a, b []float32, stride int) {
	rows, n := len(out), len(a)
	if rows == 0 {
		return
	}
	checkRows("DotRowsF32", len(b), rows, n, stride)
	n8 := n &^ 7
	if n8 > 0 {
		// Four keys at a time share each load of the query (the 4-row f32
		// gemv kernel), the rest one at a time.
		j := 0
		for ; j+4 <= rows; j += 4 {
			gemvF32x4AVX2((*byte)(unsafe.Pointer(&b[j*stride])), 4*stride, &a[0], n8, &out[j])
		}
		if j < rows {
			dotRowsAVX2(&out[j], &a[0], &b[j*stride], n8, stride, rows-j)
		}
	} else {
		clear(out)
	}
	for j := range out {
		row := b[j*stride : j*stride+n]
		s := out[j]
		for i := n8; i < n; i++ {
			s += a[i] * row[i]
		}
		out[j] = s
	}
}

func scaleMaxAsm(x []float32, scale float32) float32 {
	n8 := len(x) &^ 7
	m := float32(math.Inf(-1))
	if n8 > 0 {
		m = scaleMaxAVX2(&x[0], n8, scale)
	}
	for i := n8; i < len(x); i++ {
		v := x[i] * scale
		x[i] = v
		if v > m {
			m = v
		}
	}
	return m
}

func axpyRowsAsm(dst, w, x []float32, stride int) {
	rows, n := len(w), len(dst)
	if rows == 0 || n == 0 {
		return
	}
	checkRows("AxpyRowsF32", len(x), rows, n, stride)
	n8 := n &^ 7
	if n8 > 0 {
		axpyRowsAVX2(&dst[0], &w[0], &x[0], n8, stride, rows)
	}
	if n8 == n {
		return
	}
	for j, wj := range w {
		row := x[j*stride : j*stride+n]
		for i := n8; i < n; i++ {
			dst[i] += wj * row[i]
		}
	}
}

func axpyRowsF16Asm(dst, w []float32, x []byte, stride int) {
	rows, n := len(w), len(dst)
	if rows == 0 || n == 0 {
		return
	}
	checkRows("AxpyRowsF16", len(x)/2, rows, n, stride)
	n8 := n &^ 7
	if n8 > 0 {
		axpyRowsF16AVX2(&dst[0], &w[0], &x[0], n8, stride, rows)
	}
	if n8 == n {
		return
	}
	for j, wj := range w {
		for i := n8; i < n; i++ {
			dst[i] += wj * f16At(x, 2*(j*stride+i))
		}
	}
}

// scoresT3AVX2 and scoresT1AVX2 are scoresT3Generic and scoresT1Generic
// for d > 0 (each key's sum in its own lane, over the dimensions in order,
// with fused multiply-adds):
//
//	for i := 0; i < 3; i++ { // 1 for scoresT1AVX2
//		for j := 0; j < 64; j++ {
//			var s float32
//			for x := 0; x < d; x++ {
//				s += q[i*ldq+x] * f16At(kt, 2*(x*64+j))
//			}
//			out[i*64+j] = s
//		}
//	}
//
//go:noescape
func scoresT3AVX2(out *float32, q *float32, ldq int, kt *byte, d int)

//go:noescape
func scoresT1AVX2(out *float32, q *float32, kt *byte, d int)

// scoresT3Of and scoresT1Of wrap a set's score kernels (scoresT3AVX2 and
// scoresT1AVX2, the avx512 set's in avx512_amd64.go) with the operand
// checks.
func scoresT3Of(kern func(out, q *float32, ldq int, kt *byte, d int)) func(out, q []float32, ldq int, kt []byte, d int) {
	return func(out, q []float32, ldq int, kt []byte, d int) {
		checkScores(out, q, ldq, kt, d, 3)
		kern(&out[0], &q[0], ldq, &kt[0], d)
	}
}

func scoresT1Of(kern func(out, q *float32, kt *byte, d int)) func(out, q []float32, kt []byte, d int) {
	return func(out, q []float32, kt []byte, d int) {
		checkScores(out, q, 0, kt, d, 1)
		kern(&out[0], &q[0], &kt[0], d)
	}
}

// checkScores checks the operands of a score kernel of nq queries (ldq
// apart) against a block of keys: the scores, the queries' d values and
// the block's d x KeyBlock f16 keys.
func checkScores(out, q []float32, ldq int, kt []byte, d, nq int) {
	_ = out[nq*KeyBlock-1]
	_ = q[(nq-1)*ldq+d-1]
	_ = kt[2*d*KeyBlock-1]
}
