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
	if q8x4Ready(w, ldw, xq, xd, nb, out) {
		gemvQ8x4AVX2(&w[0], ldw, &xq[0], &xd[0], nb, &out[0])
	}
}

// q8x4Ready checks the operands of a four-row q8_0 kernel (gemvQ8x4AVX2,
// gemvQ8x4VNNI) and reports whether it has blocks to multiply; without
// any it clears out[:4].
func q8x4Ready(w []byte, ldw int, xq []byte, xd []float32, nb int, out []float32) bool {
	_ = out[3]
	if nb <= 0 {
		clear(out[:4])
		return false
	}
	_ = w[3*ldw+nb*BlockQ8_0Bytes-1]
	_ = xq[nb*QK8_0-1]
	_ = xd[nb-1]
	return true
}

// fx4 wraps a four-row float kernel of es-byte values (2: f16, 4: f32) that
// takes n a multiple of lanes (gemvF16x4AVX2 and gemvF32x4AVX2 with 8, the
// 512-bit ones in avx512_amd64.go with 16): bounds checks, the multiple of
// lanes in assembly, the tail (and n < lanes) in Go after it.
func fx4(kern func(w *byte, ldw int, x *float32, n int, out *float32), es, lanes int) func(w []byte, ldw int, x []float32, n int, out []float32) {
	return func(w []byte, ldw int, x []float32, n int, out []float32) {
		_ = out[3]
		nv := n &^ (lanes - 1)
		if nv > 0 {
			_ = w[3*ldw+es*n-1]
			_ = x[n-1]
			kern(&w[0], ldw, &x[0], nv, &out[0])
		} else {
			clear(out[:4])
		}
		if nv < n {
			addTail4(w, ldw, x, nv, n, out, es)
		}
	}
}

// addTail4 adds columns nv to n-1 of four rows of es-byte values (ldw
// bytes apart) times x to out[:4], column after column.
func addTail4(w []byte, ldw int, x []float32, nv, n int, out []float32, es int) {
	out, x = out[:4], x[:n]
	for i := nv; i < n; i++ {
		if es == 2 {
			for r := 0; r < 4; r++ {
				out[r] += f16At(w, r*ldw+2*i) * x[i]
			}
			continue
		}
		for r := 0; r < 4; r++ {
			out[r] += f32At(w, r*ldw+4*i) * x[i]
		}
	}
}
