//go:build amd64 && !noasm

package kernels

import (
	"encoding/binary"
	"math"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// Assembly kernels (kernels_amd64.s). Each takes raw pointers and counts;
// the Go wrappers below check bounds, handle tails that are not a multiple
// of the vector width, and give them the kernelSet signatures.

//go:noescape
func dotF32AVX2(a, b *float32, n int) float32

//go:noescape
func dotF16AVX2(w *byte, x *float32, n int) float32

//go:noescape
func axpyAVX2(dst *float32, a float32, x *float32, n int)

//go:noescape
func dotQ8_0AVX2(w, x *byte, nb int) float32

//go:noescape
func quantQ8_0AVX2(x *float32, nb int, qs *byte, qsStride int, h *byte, hStride int, f *float32)

//go:noescape
func gemvQ8x4AVX2(w *byte, ldw int, xq *byte, xd *float32, nb int, out *float32)

//go:noescape
func gemmQ8x4x3AVX2(w *byte, ldw int, xq *byte, ldx int, xd *float32, ldd int, nb int, c *float32, ldc int)

//go:noescape
func gemvF16x4AVX2(w *byte, ldw int, x *float32, n int, out *float32)

//go:noescape
func gemvF32x4AVX2(w *byte, ldw int, x *float32, n int, out *float32)

//go:noescape
func gemmF16x4x3AVX2(w *byte, ldw int, x *float32, ldx int, n int, c *float32, ldc int)

//go:noescape
func gemmF32x4x3AVX2(w *byte, ldw int, x *float32, ldx int, n int, c *float32, ldc int)

//go:noescape
func sumBytesAVX2(p *byte, n int) uint64

// hasAVX2Set reports whether the CPU (and OS) support the avx2 set.
func hasAVX2Set() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C }

func archSets() []*kernelSet {
	if !hasAVX2Set() {
		return nil
	}
	return []*kernelSet{avx2Set}
}

var avx2Set = &kernelSet{
	name:        "avx2",
	isa:         "avx2,fma,f16c", // exactly what hasAVX2Set checks
	dotF32:      dotF32Asm,
	dotF16:      dotF16Asm,
	dotQ8_0:     dotQ8_0Asm,
	quantQ8_0:   quantQ8_0Asm,
	axpy:        axpyAsm,
	quantSplit:  quantSplitAsm,
	q8x4:        q8x4Asm,
	q8x4x3:      q8x4x3Asm,
	f16x4:       f16x4Asm,
	f16x4x3:     f16x4x3Asm,
	f32x4:       f32x4Asm,
	f32x4x3:     f32x4x3Asm,
	sumBytes:    sumBytesAsm,
	dotRows:     dotRowsAsm,
	axpyRows:    axpyRowsAsm,
	axpyRowsF16: axpyRowsF16Asm,
	scoresF16x3: scoresF16x3Asm,
	scaleMax:    scaleMaxAsm,
	expShiftSum: expShiftSumAsm,
	toF16:       toF16Asm,
	exp:         expAsm,
	siluMul:     siluMulAsm,
}

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

func quantQ8_0Asm(dst []byte, x []float32) {
	nb := len(x) / QK8_0
	if nb == 0 {
		return
	}
	_ = dst[nb*BlockQ8_0Bytes-1]
	quantQ8_0AVX2(&x[0], nb, &dst[2], BlockQ8_0Bytes, &dst[0], BlockQ8_0Bytes, nil)
}

func quantSplitAsm(qs []byte, ds []float32, x []float32) {
	nb := len(x) / QK8_0
	if nb == 0 {
		return
	}
	_ = qs[nb*QK8_0-1]
	_ = ds[nb-1]
	quantQ8_0AVX2(&x[0], nb, &qs[0], QK8_0, nil, 0, &ds[0])
}

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

func f16x4x3Asm(w []byte, ldw int, x []float32, ldx, n int, c []float32, ldc int) {
	_ = c[2*ldc+3]
	n8 := n &^ 7
	if n8 > 0 {
		_ = w[3*ldw+2*n-1]
		_ = x[2*ldx+n-1]
		gemmF16x4x3AVX2(&w[0], ldw, &x[0], ldx, n8, &c[0], ldc)
	} else {
		for t := 0; t < 3; t++ {
			clear(c[t*ldc : t*ldc+4])
		}
	}
	for t := 0; t < 3; t++ {
		for i := n8; i < n; i++ {
			xv := x[t*ldx+i]
			for r := 0; r < 4; r++ {
				c[t*ldc+r] += f16At(w, r*ldw+2*i) * xv
			}
		}
	}
}

func f32x4x3Asm(w []byte, ldw int, x []float32, ldx, n int, c []float32, ldc int) {
	_ = c[2*ldc+3]
	n8 := n &^ 7
	if n8 > 0 {
		_ = w[3*ldw+4*n-1]
		_ = x[2*ldx+n-1]
		gemmF32x4x3AVX2(&w[0], ldw, &x[0], ldx, n8, &c[0], ldc)
	} else {
		for t := 0; t < 3; t++ {
			clear(c[t*ldc : t*ldc+4])
		}
	}
	for t := 0; t < 3; t++ {
		for i := n8; i < n; i++ {
			xv := x[t*ldx+i]
			for r := 0; r < 4; r++ {
				c[t*ldc+r] += f32At(w, r*ldw+4*i) * xv
			}
		}
	}
}

func sumBytesAsm(b []byte) uint64 {
	n := len(b) &^ 255
	var s uint64
	if n > 0 {
		s = sumBytesAVX2(&b[0], n)
	}
	i := n
	for ; i+8 <= len(b); i += 8 {
		s += binary.LittleEndian.Uint64(b[i:])
	}
	for ; i < len(b); i++ {
		s += uint64(b[i])
	}
	return s
}

//go:noescape
func dotRowsAVX2(out *float32, a *float32, b *float32, n int, stride int, rows int)

//go:noescape
func axpyRowsAVX2(dst *float32, w *float32, x *float32, n int, stride int, rows int)

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

//go:noescape
func expAVX2(dst, src *float32, n int) (done int)

//go:noescape
func siluMulAVX2(gate, up *float32, n int) (done int)

// expAsm runs the vector exp over groups of 8; a group holding a value
// outside the polynomial's range (rare: a huge or NaN score) and the tail
// go to the pure-Go twin. In-place use (dst == src) is fine.
func expAsm(dst, src []float32) {
	n := len(dst)
	src = src[:n]
	n8 := n &^ 7
	for o := 0; o < n8; {
		o += expAVX2(&dst[o], &src[o], n8-o)
		if o < n8 {
			expSliceGeneric(dst[o:o+8], src[o:o+8])
			o += 8
		}
	}
	expSliceGeneric(dst[n8:], src[n8:])
}

// siluMulAsm is siluMulGeneric with the vector kernel on groups of 8 whose
// exponents are in range.
func siluMulAsm(g, u []float32) {
	u = u[:len(g)]
	n8 := len(g) &^ 7
	for o := 0; o < n8; {
		o += siluMulAVX2(&g[o], &u[o], n8-o)
		if o < n8 {
			siluMulGeneric(g[o:o+8], u[o:o+8])
			o += 8
		}
	}
	siluMulGeneric(g[n8:], u[n8:])
}

//go:noescape
func axpyRowsF16AVX2(dst *float32, w *float32, x *byte, n int, stride int, rows int)

//go:noescape
func f32ToF16AVX2(dst *byte, src *float32, n int)

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

func toF16Asm(dst []byte, src []float32) {
	n := len(src)
	n8 := n &^ 7
	if n8 > 0 {
		_ = dst[2*n-1]
		f32ToF16AVX2(&dst[0], &src[0], n8)
	}
	for i := n8; i < n; i++ {
		binary.LittleEndian.PutUint16(dst[2*i:], F32ToF16(src[i]))
	}
}

//go:noescape
func scoresF16x3AVX2(k *byte, ldk int, q *float32, ldq int, d int, nk int, out *float32, ldo int)

func scoresF16x3Asm(out []float32, ldo int, q []float32, ldq int, k []byte, ldk, d, nk int) {
	if nk < 4 {
		return
	}
	if d <= 0 || d%8 != 0 {
		for j := 0; j+4 <= nk; j += 4 {
			f16x4x3Asm(k[2*j*ldk:], 2*ldk, q, ldq, d, out[j:], ldo)
		}
		return
	}
	nk &^= 3
	_ = k[2*((nk-1)*ldk+d)-1]
	_ = q[2*ldq+d-1]
	_ = out[2*ldo+nk-1]
	scoresF16x3AVX2(&k[0], 2*ldk, &q[0], ldq, d, nk, &out[0], ldo)
}

//go:noescape
func scaleMaxAVX2(x *float32, n int, scale float32) float32

//go:noescape
func expShiftSumAVX2(x *float32, n int, shift float32) float32

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
