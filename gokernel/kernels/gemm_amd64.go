//go:build amd64 && !noasm

package kernels

// Four-row by three-token tiles (gemm_amd64.s): four weight rows, ldw bytes
// apart, times three tokens; token t's four results go to c[t*ldc:].

// gemmQ8x4x3AVX2 is gemvQ8x4AVX2 for three activation rows in split layout
// (token t: int8 values at xq[t*ldx:], ldx in bytes; scales at xd[t*ldd:]),
// with the same roundings:
//
//	for t := 0; t < 3; t++ {
//		for r := 0; r < 4; r++ {
//			var s float32
//			for b := 0; b < nb; b++ {
//				o := r*ldw + b*BlockQ8_0Bytes
//				var sum int32
//				for i := 0; i < QK8_0; i++ {
//					sum += int32(int8(w[o+2+i])) * int32(int8(xq[t*ldx+b*QK8_0+i]))
//				}
//				s += f16At(w, o) * xd[t*ldd+b] * float32(sum)
//			}
//			c[t*ldc+r] = s
//		}
//	}
//
//go:noescape
func gemmQ8x4x3AVX2(w *byte, ldw int, xq *byte, ldx int, xd *float32, ldd int, nb int, c *float32, ldc int)

// gemmF16x4x3AVX2 is, for four rows of n f16 values, three float32 rows
// ldx floats apart and n a multiple of 8,
//
//	for t := 0; t < 3; t++ {
//		for r := 0; r < 4; r++ {
//			var s float32
//			for i := 0; i < n; i++ {
//				s += f16At(w, r*ldw+2*i) * x[t*ldx+i]
//			}
//			c[t*ldc+r] = s
//		}
//	}
//
//go:noescape
func gemmF16x4x3AVX2(w *byte, ldw int, x *float32, ldx int, n int, c *float32, ldc int)

// gemmF32x4x3AVX2 is gemmF16x4x3AVX2 for float32 rows:
//
//	for t := 0; t < 3; t++ {
//		for r := 0; r < 4; r++ {
//			var s float32
//			for i := 0; i < n; i++ {
//				s += f32At(w, r*ldw+4*i) * x[t*ldx+i]
//			}
//			c[t*ldc+r] = s
//		}
//	}
//
//go:noescape
func gemmF32x4x3AVX2(w *byte, ldw int, x *float32, ldx int, n int, c *float32, ldc int)

func q8x4x3Asm(w []byte, ldw int, xq []byte, ldx int, xd []float32, ldd int, nb int, c []float32, ldc int) {
	_ = c[2*ldc+3]
	if nb <= 0 {
		for t := 0; t < 3; t++ {
			clear(c[t*ldc : t*ldc+4])
		}
		return
	}
	_ = w[3*ldw+nb*BlockQ8_0Bytes-1]
	_ = xq[2*ldx+nb*QK8_0-1]
	_ = xd[2*ldd+nb-1]
	gemmQ8x4x3AVX2(&w[0], ldw, &xq[0], ldx, &xd[0], ldd, nb, &c[0], ldc)
}

// fx4x3 is fx4 for the four-row by three-token kernels.
func fx4x3(kern func(w *byte, ldw int, x *float32, ldx int, n int, c *float32, ldc int), es, lanes int) func(w []byte, ldw int, x []float32, ldx, n int, c []float32, ldc int) {
	return func(w []byte, ldw int, x []float32, ldx, n int, c []float32, ldc int) {
		_ = c[2*ldc+3]
		nv := n &^ (lanes - 1)
		if nv > 0 {
			_ = w[3*ldw+es*n-1]
			_ = x[2*ldx+n-1]
			kern(&w[0], ldw, &x[0], ldx, nv, &c[0], ldc)
		} else {
			for t := 0; t < 3; t++ {
				clear(c[t*ldc : t*ldc+4])
			}
		}
		for t := 0; t < 3 && nv < n; t++ {
			addTail4(w, ldw, x[t*ldx:], nv, n, c[t*ldc:], es)
		}
	}
}
