//go:build amd64 && !noasm

package kernels

// Four-row matrix-vector kernels (gemv_amd64.s): four weight rows, ldw
// bytes apart, times one token.

// gemvQ8x4AVX2 is, for four q8_0 weight rows of nb blocks and one
// activation row in split layout (xq: nb*32 int8 in [-127, 127]; xd: nb
// scales),
//
//	for r := 0; r < 4; r++ {
//		var s float32
//		for b := 0; b < nb; b++ {
//			o := r*ldw + b*BlockQ8_0Bytes
//			var sum int32
//			for i := 0; i < QK8_0; i++ {
//				sum += int32(int8(w[o+2+i])) * int32(int8(xq[b*QK8_0+i]))
//			}
//			s += f16At(w, o) * xd[b] * float32(sum)
//		}
//		out[r] = s
//	}
//
//go:noescape
func gemvQ8x4AVX2(w *byte, ldw int, xq *byte, xd *float32, nb int, out *float32)

// gemvF16x4AVX2 is, for four rows of n f16 values and n a multiple of 8,
//
//	for r := 0; r < 4; r++ {
//		var s float32
//		for i := 0; i < n; i++ {
//			s += f16At(w, r*ldw+2*i) * x[i]
//		}
//		out[r] = s
//	}
//
//go:noescape
func gemvF16x4AVX2(w *byte, ldw int, x *float32, n int, out *float32)

// gemvF32x4AVX2 is, for four rows of n float32 values and n a multiple of
// 8,
//
//	for r := 0; r < 4; r++ {
//		var s float32
//		for i := 0; i < n; i++ {
//			s += f32At(w, r*ldw+4*i) * x[i]
//		}
//		out[r] = s
//	}
//
//go:noescape
func gemvF32x4AVX2(w *byte, ldw int, x *float32, n int, out *float32)

func q8x4Asm(w []byte, ldw int, xq []byte, xd []float32, nb int, out []float32) {
	_ = out[3]
	if nb <= 0 {
		clear(out[:4])
		return
	}
	_ = w[3*ldw+nb*BlockQ8_0Bytes-1]
	_ = xq[nb*QK8_0-1]
	_ = xd[nb-1]
	gemvQ8x4AVX2(&w[0], ldw, &xq[0], &xd[0], nb, &out[0])
}

func f16x4Asm(w []byte, ldw int, x []float32, n int, out []float32) {
	_ = out[3]
	n8 := n &^ 7
	if n8 > 0 {
		_ = w[3*ldw+2*n-1]
		_ = x[n-1]
		gemvF16x4AVX2(&w[0], ldw, &x[0], n8, &out[0])
	} else {
		clear(out[:4])
	}
	for i := n8; i < n; i++ {
		for r := 0; r < 4; r++ {
			out[r] += f16At(w, r*ldw+2*i) * x[i]
		}
	}
}

func f32x4Asm(w []byte, ldw int, x []float32, n int, out []float32) {
	_ = out[3]
	n8 := n &^ 7
	if n8 > 0 {
		_ = w[3*ldw+4*n-1]
		_ = x[n-1]
		gemvF32x4AVX2(&w[0], ldw, &x[0], n8, &out[0])
	} else {
		clear(out[:4])
	}
	for i := n8; i < n; i++ {
		for r := 0; r < 4; r++ {
			out[r] += f32At(w, r*ldw+4*i) * x[i]
		}
	}
}
