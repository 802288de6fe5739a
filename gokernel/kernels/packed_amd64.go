//go:build amd64 && !noasm

package kernels

// Packed-layout kernels (packed_amd64.s): the four rows of one r4 or r8
// group (packed.go) times one token whose activations are int8 per 32
// values (xq) with per-block terms (act; xd for r8).

// gemvR4x4AVX2 is r4x4Generic for nb > 0 blocks:
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
func gemvR4x4AVX2(p *byte, xq *byte, act *float32, nb int, out *float32)

// gemvR8x4AVX2 and gemvR8Bx4AVX2 are r8x4Generic for nb > 0 blocks of
// 160 and 192 bytes (without and with biases):
//
//	for r := 0; r < 4; r++ {
//		var s float32
//		for b := 0; b < nb; b++ {
//			blk := p[b*stride:]
//			var lo, hi int32
//			for j := 0; j < 16; j++ {
//				lo += int32(int8(blk[32*r+j])) * int32(int8(xq[32*b+j]))
//				hi += int32(int8(blk[32*r+16+j])) * int32(int8(xq[32*b+16+j]))
//			}
//			s += f32At(blk, 128+4*r)*xd[b]*float32(lo) + f32At(blk, 144+4*r)*xd[b]*float32(hi)
//			if biased { s += f32At(blk, 160+4*r)*act[8*b] + f32At(blk, 176+4*r)*act[8*b+4] }
//		}
//		out[r] = s
//	}
//
// lanes points to r8Lanes (the VPERMPS indices of each row's two scales).
//
//go:noescape
func gemvR8x4AVX2(p *byte, xq *byte, xd *float32, act *float32, nb int, lanes *int32, out *float32)

//go:noescape
func gemvR8Bx4AVX2(p *byte, xq *byte, xd *float32, act *float32, nb int, lanes *int32, out *float32)

// r8Lanes[r] selects row r's scale for values 0-15 (lanes 0-3 of a block's
// scale vector) and for values 16-31 (lanes 4-7).
var r8Lanes = [4][8]int32{
	{0, 0, 0, 0, 4, 4, 4, 4},
	{1, 1, 1, 1, 5, 5, 5, 5},
	{2, 2, 2, 2, 6, 6, 6, 6},
	{3, 3, 3, 3, 7, 7, 7, 7},
}

func r4x4Asm(p []byte, xq []byte, act []float32, nb int, out []float32) {
	if packedReady(p, r4BlockBytes, xq, nil, act, nb, out) {
		gemvR4x4AVX2(&p[0], &xq[0], &act[0], nb, &out[0])
	}
}

func r8x4Asm(p []byte, stride int, xq []byte, xd, act []float32, nb int, out []float32) {
	if !packedReady(p, stride, xq, xd, act, nb, out) {
		return
	}
	if stride == r8BiasBlockBytes {
		gemvR8Bx4AVX2(&p[0], &xq[0], &xd[0], &act[0], nb, &r8Lanes[0][0], &out[0])
	} else {
		gemvR8x4AVX2(&p[0], &xq[0], &xd[0], &act[0], nb, &r8Lanes[0][0], &out[0])
	}
}

// packedReady checks the operands of the kernels of one r4 or r8 group
// (these and the avx512 set's in vnnipacked_amd64.go): nb blocks of stride
// bytes, their activations xq and terms act, and for r8 their scales xd
// (nil for r4). It reports whether there are blocks to multiply; without
// any it clears out[:4].
func packedReady(p []byte, stride int, xq []byte, xd, act []float32, nb int, out []float32) bool {
	_ = out[3]
	if nb <= 0 {
		clear(out[:4])
		return false
	}
	_ = p[nb*stride-1]
	_ = xq[32*nb-1]
	_ = act[8*nb-1]
	if xd != nil {
		_ = xd[nb-1]
	}
	return true
}
