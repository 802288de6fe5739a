//go:build amd64 && !noasm

package kernels

// Packed-layout kernels of the avx512 and amx sets (vnnipacked_amd64.s):
// the four rows of one r4 or r8 group (packed.go) times one token with
// AVX-512 VNNI. Same contracts as r4x4Generic and r8x4Generic; the avx2
// set's versions are in packed_amd64.go.

// vnniR4x4 is r4x4Generic for nb > 0 blocks, with lanes pointing to
// r4VNNILanes:
//
//	for r := 0; r < 4; r++ {
//		var s float32
//		for b := 0; b < nb; b++ {
//			blk := p[b*96:]
//			var sum int32
//			for j := 0; j < 16; j++ {
//				sum += int32(blk[16*r+j]&15)*int32(int8(xq[32*b+j])) +
//					int32(blk[16*r+j]>>4)*int32(int8(xq[32*b+16+j]))
//			}
//			s += f32At(blk, 64+4*r)*act[8*b]*float32(sum) + f32At(blk, 80+4*r)*act[8*b+4]
//		}
//		out[r] = s
//	}
//
//go:noescape
func vnniR4x4(p *byte, xq *byte, act *float32, nb int, lanes *int32, out *float32)

// vnniR8x4 and vnniR8Bx4 are r8x4Generic for nb > 0 blocks of 160 and
// 192 bytes (without and with biases), with lanes pointing to
// r8VNNILanes and act from packedAct. The weights are multiplied offset by
// 128 and 128 * scale * act (xd times each half's activation sum) taken
// off, which is the same sum up to float32 rounding:
//
//	for r := 0; r < 4; r++ {
//		var s, c float32
//		for b := 0; b < nb; b++ {
//			blk := p[b*stride:]
//			var lo, hi int32 // (w+128) . x
//			for j := 0; j < 16; j++ {
//				lo += int32(blk[32*r+j]^0x80) * int32(int8(xq[32*b+j]))
//				hi += int32(blk[32*r+16+j]^0x80) * int32(int8(xq[32*b+16+j]))
//			}
//			s += f32At(blk, 128+4*r)*xd[b]*float32(lo) + f32At(blk, 144+4*r)*xd[b]*float32(hi)
//			c += f32At(blk, 128+4*r)*act[8*b] + f32At(blk, 144+4*r)*act[8*b+4]
//			if biased { s += f32At(blk, 160+4*r)*act[8*b] + f32At(blk, 176+4*r)*act[8*b+4] }
//		}
//		out[r] = s - 128*c
//	}
//
//go:noescape
func vnniR8x4(p *byte, xq *byte, xd *float32, act *float32, nb int, lanes *int32, out *float32)

//go:noescape
func vnniR8Bx4(p *byte, xq *byte, xd *float32, act *float32, nb int, lanes *int32, out *float32)

// r4VNNILanes spreads row r's scale over the four int32 lanes that hold
// its sums (128-bit lane r).
var r4VNNILanes = [16]int32{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3}

// r8VNNILanes: the lanes of the register holding rows 0 and 1 take scales
// (rows 0, 0, 1, 1) x (low, high half) four lanes each, in the order of
// the block's eight scales (low halves of rows 0-3, then high halves);
// the second register the same for rows 2 and 3.
var r8VNNILanes = [2][16]int32{
	{0, 0, 0, 0, 4, 4, 4, 4, 1, 1, 1, 1, 5, 5, 5, 5},
	{2, 2, 2, 2, 6, 6, 6, 6, 3, 3, 3, 3, 7, 7, 7, 7},
}

func r4x4VNNI(p []byte, xq []byte, act []float32, nb int, out []float32) {
	if packedReady(p, r4BlockBytes, xq, nil, act, nb, out) {
		vnniR4x4(&p[0], &xq[0], &act[0], nb, &r4VNNILanes[0], &out[0])
	}
}

func r8x4VNNI(p []byte, stride int, xq []byte, xd, act []float32, nb int, out []float32) {
	if !packedReady(p, stride, xq, xd, act, nb, out) {
		return
	}
	switch stride {
	case r8BiasBlockBytes:
		vnniR8Bx4(&p[0], &xq[0], &xd[0], &act[0], nb, &r8VNNILanes[0][0], &out[0])
	case r8BlockBytes:
		vnniR8x4(&p[0], &xq[0], &xd[0], &act[0], nb, &r8VNNILanes[0][0], &out[0])
	default:
		panic("kernels: r8 group with a block stride of neither 160 nor 192 bytes")
	}
}
