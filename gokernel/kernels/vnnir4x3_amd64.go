//go:build amd64 && !noasm

package kernels

import "fmt"

// vnniR4x4x3 is vnniR4x4 for three tokens at once (nb > 0 blocks; token
// t's activations at xq+t*ldx bytes and terms at act+t*lda floats; row r
// of token t to c[t*ldc+r]), with lanes pointing to r4VNNILanes:
//
//	for t := 0; t < 3; t++ {
//		for r := 0; r < 4; r++ {
//			var s float32
//			for b := 0; b < nb; b++ {
//				blk := p[b*96:]
//				x, a := xq[t*ldx+32*b:], act[t*lda+8*b:]
//				var sum int32
//				for j := 0; j < 16; j++ {
//					sum += int32(blk[16*r+j]&15)*int32(int8(x[j])) +
//						int32(blk[16*r+j]>>4)*int32(int8(x[16+j]))
//				}
//				s += f32At(blk, 64+4*r)*a[0]*float32(sum) + f32At(blk, 80+4*r)*a[4]
//			}
//			c[t*ldc+r] = s
//		}
//	}
//
// Each result is bit-identical to vnniR4x4's for that token.
//
//go:noescape
func vnniR4x4x3(p *byte, xq *byte, ldx int, act *float32, lda int, nb int, lanes *int32, c *float32, ldc int)

// r4x4x3Check panics, naming the operand, when the r4x4x3 contract would
// read or write past one of the slices.
func r4x4x3Check(p []byte, xq []byte, ldx int, act []float32, lda, nb int, c []float32, ldc int) {
	switch {
	case nb < 0:
		panic(fmt.Sprintf("kernels: r4x4x3 with %d blocks", nb))
	case len(p) < nb*r4BlockBytes:
		panic(fmt.Sprintf("kernels: r4x4x3 group of %d bytes for %d blocks (needs %d)", len(p), nb, nb*r4BlockBytes))
	case ldx < 32*nb || len(xq) < 2*ldx+32*nb:
		panic(fmt.Sprintf("kernels: r4x4x3 activations of %d bytes with stride %d for %d blocks", len(xq), ldx, nb))
	case lda < 8*nb || len(act) < 2*lda+8*nb:
		panic(fmt.Sprintf("kernels: r4x4x3 terms of %d floats with stride %d for %d blocks", len(act), lda, nb))
	case ldc < 4 || len(c) < 2*ldc+4:
		panic(fmt.Sprintf("kernels: r4x4x3 output of %d floats with stride %d", len(c), ldc))
	}
}

// r4x4x3VNNI is r4x4x3Generic's contract on vnniR4x4x3.
func r4x4x3VNNI(p []byte, xq []byte, ldx int, act []float32, lda, nb int, c []float32, ldc int) {
	r4x4x3Check(p, xq, ldx, act, lda, nb, c, ldc)
	if nb == 0 {
		for t := 0; t < 3; t++ {
			clear(c[t*ldc : t*ldc+4])
		}
		return
	}
	vnniR4x4x3(&p[0], &xq[0], ldx, &act[0], lda, nb, &r4VNNILanes[0], &c[0], ldc)
}
