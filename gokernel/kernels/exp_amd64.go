//go:build amd64 && !noasm

package kernels

// Vector exp kernels (exp_amd64.s). Every exp is bit-identical to
// expF32Generic's. expAVX2 and siluMulAVX2 work in groups of 8 and stop at
// the first group holding an exp argument outside [expLo, expHi] (or NaN),
// returning how many values they computed; the wrappers hand that group to
// the pure-Go twin and carry on.

// expAVX2 is, for n a multiple of 8 (dst may be src),
//
//	for done = 0; done < n; done += 8 {
//		for _, v := range src[done : done+8] {
//			if !(v >= expLo && v <= expHi) {
//				return done
//			}
//		}
//		for i := done; i < done+8; i++ {
//			dst[i] = expF32Generic(src[i])
//		}
//	}
//	return done
//
//go:noescape
func expAVX2(dst, src *float32, n int) (done int)

// siluMulAVX2 is, bit-identically to siluMulGeneric, for n a multiple of 8,
//
//	for done = 0; done < n; done += 8 {
//		for _, v := range gate[done : done+8] {
//			if !(-v >= expLo && -v <= expHi) {
//				return done
//			}
//		}
//		for i := done; i < done+8; i++ {
//			g := gate[i]
//			gate[i] = float32(g/(1+expF32Generic(-g))) * up[i]
//		}
//	}
//	return done
//
//go:noescape
func siluMulAVX2(gate, up *float32, n int) (done int)

// expShiftSumAVX2 is, for n a multiple of 8 and every x[i] - shift at
// most expHi, with each x[i] bit-identical to the loop's (the sum is taken
// in eight lanes, added pairwise at the end),
//
//	var s float32
//	for i := 0; i < n; i++ {
//		x[i] = expShifted(x[i] - shift) // 0 below expLo
//		s += x[i]
//	}
//	return s
//
//go:noescape
func expShiftSumAVX2(x *float32, n int, shift float32) float32

// expAsm runs the vector exp over groups of 8; a group holding a value
// outside the polynomial's range (rare: a huge or NaN score) and the tail
// go to the pure-Go twin. In-place use (dst == src) is fine.
func expAsm(dst, src []float32) { byGroups(dst, src[:len(dst)], expAVX2, expSliceGeneric) }

// siluMulAsm is siluMulGeneric with the vector kernel on groups of 8 whose
// exponents are in range.
func siluMulAsm(g, u []float32) { byGroups(g, u[:len(g)], siluMulAVX2, siluMulGeneric) }

// byGroups runs kern (expAVX2, siluMulAVX2) over a and b (of one length)
// in groups of 8, handing the group it stops at and the tail to twin.
func byGroups(a, b []float32, kern func(a, b *float32, n int) int, twin func(a, b []float32)) {
	n8 := len(a) &^ 7
	for o := 0; o < n8; {
		o += kern(&a[o], &b[o], n8-o)
		if o < n8 {
			twin(a[o:o+8], b[o:o+8])
			o += 8
		}
	}
	twin(a[n8:], b[n8:])
}

func expShiftSumAsm(x []float32, shift float32) float32 {
	n8 := len(x) &^ 7
	var s float32
	if n8 > 0 {
		s = expShiftSumAVX2(&x[0], n8, shift)
	}
	for i := n8; i < len(x); i++ {
		e := expShifted(x[i] - shift)
		x[i] = e
		s += e
	}
	return s
}
