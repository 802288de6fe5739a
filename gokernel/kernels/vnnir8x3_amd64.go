//go:build amd64 && !noasm

package kernels

import "fmt"

// vnniR8x4x3 and vnniR8Bx4x3 are vnniR8x4 and vnniR8Bx4 for three tokens
// at once (nb > 0 blocks of 160 and 192 bytes, without and with biases;
// token t's activations at xq+t*ldx bytes, scales at xd+t*ldd floats,
// terms at act+t*lda floats; row r of token t to c[t*ldc+r]), with lanes
// pointing to r8VNNILanes:
//
//	for t := 0; t < 3; t++ {
//		for r := 0; r < 4; r++ {
//			var s, k float32
//			for b := 0; b < nb; b++ {
//				blk := p[b*stride:]
//				x, d, a := xq[t*ldx+32*b:], xd[t*ldd+b], act[t*lda+8*b:]
//				var lo, hi int32 // (w+128) . x
//				for j := 0; j < 16; j++ {
//					lo += int32(blk[32*r+j]^0x80) * int32(int8(x[j]))
//					hi += int32(blk[32*r+16+j]^0x80) * int32(int8(x[16+j]))
//				}
//				s += f32At(blk, 128+4*r)*d*float32(lo) + f32At(blk, 144+4*r)*d*float32(hi)
//				k += f32At(blk, 128+4*r)*a[0] + f32At(blk, 144+4*r)*a[4]
//				if biased { s += f32At(blk, 160+4*r)*a[0] + f32At(blk, 176+4*r)*a[4] }
//			}
//			c[t*ldc+r] = s - 128*k
//		}
//	}
//
// Each result is bit-identical to vnniR8x4's (vnniR8Bx4's) for that token.
//
//go:noescape
func vnniR8x4x3(p *byte, xq *byte, ldx int, xd *float32, ldd int, act *float32, lda int, nb int, lanes *int32, c *float32, ldc int)

//go:noescape
func vnniR8Bx4x3(p *byte, xq *byte, ldx int, xd *float32, ldd int, act *float32, lda int, nb int, lanes *int32, c *float32, ldc int)

// r8x4x3Check panics, naming the operand, when the r8x4x3 contract would
// read or write past one of the slices or the block stride is neither
// r8 layout's.
func r8x4x3Check(p []byte, stride int, xq []byte, ldx int, xd []float32, ldd int, act []float32, lda, nb int, c []float32, ldc int) {
	switch {
	case stride != r8BlockBytes && stride != r8BiasBlockBytes:
		panic(fmt.Sprintf("kernels: r8x4x3 group with a block stride of %d bytes (neither %d nor %d)", stride, r8BlockBytes, r8BiasBlockBytes))
	case nb < 0:
		panic(fmt.Sprintf("kernels: r8x4x3 with %d blocks", nb))
	case len(p) < nb*stride:
		panic(fmt.Sprintf("kernels: r8x4x3 group of %d bytes for %d blocks (needs %d)", len(p), nb, nb*stride))
	case ldx < 32*nb || len(xq) < 2*ldx+32*nb:
		panic(fmt.Sprintf("kernels: r8x4x3 activations of %d bytes with stride %d for %d blocks", len(xq), ldx, nb))
	case ldd < nb || len(xd) < 2*ldd+nb:
		panic(fmt.Sprintf("kernels: r8x4x3 scales of %d floats with stride %d for %d blocks", len(xd), ldd, nb))
	case lda < 8*nb || len(act) < 2*lda+8*nb:
		panic(fmt.Sprintf("kernels: r8x4x3 terms of %d floats with stride %d for %d blocks", len(act), lda, nb))
	case ldc < 4 || len(c) < 2*ldc+4:
		panic(fmt.Sprintf("kernels: r8x4x3 output of %d floats with stride %d", len(c), ldc))
	}
}

// r8x4x3VNNI is r8x4x3Generic's contract on vnniR8x4x3 and vnniR8Bx4x3.
func r8x4x3VNNI(p []byte, stride int, xq []byte, ldx int, xd []float32, ldd int, act []float32, lda, nb int, c []float32, ldc int) {
	r8x4x3Check(p, stride, xq, ldx, xd, ldd, act, lda, nb, c, ldc)
	if nb == 0 {
		for t := 0; t < 3; t++ {
			clear(c[t*ldc : t*ldc+4])
		}
		return
	}
	if stride == r8BiasBlockBytes {
		vnniR8Bx4x3(&p[0], &xq[0], ldx, &xd[0], ldd, &act[0], lda, nb, &r8VNNILanes[0][0], &c[0], ldc)
		return
	}
	vnniR8x4x3(&p[0], &xq[0], ldx, &xd[0], ldd, &act[0], lda, nb, &r8VNNILanes[0][0], &c[0], ldc)
}
