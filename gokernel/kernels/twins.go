package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Pure-Go twins of the multi-row kernels and of the split-layout quantizer.
// They define the contract the SIMD versions are tested against and are the
// "generic" set's implementations.

// quantBlockQ8_0 quantizes one block of 32 values into q (32 bytes) as ggml's
// reference quantizer does (d = max|x|/127, q = round half away from zero
// of x/d) and returns d as f16.
func quantBlockQ8_0(q []byte, blk []float32) uint16 {
	var amax float32
	for _, v := range blk {
		amax = max(amax, float32(math.Abs(float64(v))))
	}
	d := amax / 127
	var id float32
	if d != 0 {
		id = 1 / d
	}
	q = q[:QK8_0]
	for i, v := range blk[:QK8_0] {
		q[i] = byte(int8(math.Round(float64(v * id))))
	}
	return F32ToF16(d)
}

// quantSplitGeneric writes the split q8_0 layout: int8 values in qs and the
// f16-rounded scales as float32 in ds.
func quantSplitGeneric(qs []byte, ds []float32, x []float32) {
	for b := 0; b*QK8_0 < len(x); b++ {
		h := quantBlockQ8_0(qs[b*QK8_0:(b+1)*QK8_0], x[b*QK8_0:(b+1)*QK8_0])
		ds[b] = F16ToF32(h)
	}
}

func f16At(b []byte, o int) float32 { return F16ToF32(binary.LittleEndian.Uint16(b[o:])) }

// q8x1Generic dots one q8_0 row (nb standard blocks) with one split-layout
// activation row: sum over blocks of (d_w*d_x) * sum(q_w*q_x).
func q8x1Generic(w []byte, xq []byte, xd []float32, nb int) float32 {
	var s float32
	w = w[:nb*BlockQ8_0Bytes]
	xq = xq[:nb*QK8_0]
	for b := 0; b < nb; b++ {
		o := b * BlockQ8_0Bytes
		qw := w[o+2 : o+BlockQ8_0Bytes]
		qx := xq[b*QK8_0 : (b+1)*QK8_0]
		var sum int32
		for i := range qw {
			sum += int32(int8(qw[i])) * int32(int8(qx[i]))
		}
		sc := f16At(w, o) * xd[b]
		s += sc * float32(sum)
	}
	return s
}

func q8x4Generic(w []byte, ldw int, xq []byte, xd []float32, nb int, out []float32) {
	for r := 0; r < 4; r++ {
		out[r] = q8x1Generic(w[r*ldw:], xq, xd, nb)
	}
}

func q8x4x3Generic(w []byte, ldw int, xq []byte, ldx int, xd []float32, ldd int, nb int, c []float32, ldc int) {
	for t := 0; t < 3; t++ {
		for r := 0; r < 4; r++ {
			c[t*ldc+r] = q8x1Generic(w[r*ldw:], xq[t*ldx:], xd[t*ldd:], nb)
		}
	}
}

func f16x4Generic(w []byte, ldw int, x []float32, n int, out []float32) {
	for r := 0; r < 4; r++ {
		out[r] = dotF16Generic(w[r*ldw:r*ldw+2*n], x[:n])
	}
}

func f16x4x3Generic(w []byte, ldw int, x []float32, ldx, n int, c []float32, ldc int) {
	for t := 0; t < 3; t++ {
		for r := 0; r < 4; r++ {
			c[t*ldc+r] = dotF16Generic(w[r*ldw:r*ldw+2*n], x[t*ldx:t*ldx+n])
		}
	}
}

func f32x4Generic(w []byte, ldw int, x []float32, n int, out []float32) {
	for r := 0; r < 4; r++ {
		out[r] = dotF32Generic(bytesAsF32(w[r*ldw:r*ldw+4*n]), x[:n])
	}
}

func f32x4x3Generic(w []byte, ldw int, x []float32, ldx, n int, c []float32, ldc int) {
	for t := 0; t < 3; t++ {
		for r := 0; r < 4; r++ {
			c[t*ldc+r] = dotF32Generic(bytesAsF32(w[r*ldw:r*ldw+4*n]), x[t*ldx:t*ldx+n])
		}
	}
}

// sumBytesGeneric adds b as little-endian uint64 words, then any trailing
// bytes one by one.
func sumBytesGeneric(b []byte) uint64 {
	var s0, s1, s2, s3 uint64
	i := 0
	for ; i+32 <= len(b); i += 32 {
		s0 += binary.LittleEndian.Uint64(b[i:])
		s1 += binary.LittleEndian.Uint64(b[i+8:])
		s2 += binary.LittleEndian.Uint64(b[i+16:])
		s3 += binary.LittleEndian.Uint64(b[i+24:])
	}
	for ; i+8 <= len(b); i += 8 {
		s0 += binary.LittleEndian.Uint64(b[i:])
	}
	for ; i < len(b); i++ {
		s0 += uint64(b[i])
	}
	return s0 + s1 + s2 + s3
}

// checkRows panics with the sizes when a strided block of rows rows of n
// values does not fit in a slice of length have.
func checkRows(fn string, have, rows, n, stride int) {
	if rows > 1 && stride < n {
		panic(fmt.Sprintf("kernels: %s: stride %d is shorter than a row of %d values", fn, stride, n))
	}
	if have < (rows-1)*stride+n {
		panic(fmt.Sprintf("kernels: %s: %d rows of %d values at stride %d need %d values, have %d",
			fn, rows, n, stride, (rows-1)*stride+n, have))
	}
}

func dotRowsGeneric(out, a, b []float32, stride int) {
	if len(out) == 0 {
		return
	}
	checkRows("DotRowsF32", len(b), len(out), len(a), stride)
	for j := range out {
		out[j] = dotF32Generic(a, b[j*stride:j*stride+len(a)])
	}
}

func axpyRowsGeneric(dst, w, x []float32, stride int) {
	if len(w) == 0 || len(dst) == 0 {
		return
	}
	checkRows("AxpyRowsF32", len(x), len(w), len(dst), stride)
	for j, wj := range w {
		axpyGeneric(dst, wj, x[j*stride:j*stride+len(dst)])
	}
}

func axpyRowsF16Generic(dst, w []float32, x []byte, stride int) {
	if len(w) == 0 || len(dst) == 0 {
		return
	}
	checkRows("AxpyRowsF16", len(x)/2, len(w), len(dst), stride)
	for j, wj := range w {
		row := x[2*j*stride:]
		for i := range dst {
			dst[i] += wj * f16At(row, 2*i)
		}
	}
}

func toF16Generic(dst []byte, src []float32) {
	for i, v := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], F32ToF16(v))
	}
}
