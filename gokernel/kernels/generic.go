package kernels

// The pure-Go kernels. They are the reference every SIMD kernel is tested
// against and the fallback on CPUs without the needed features.

// dotF32Generic returns sum a[i]*b[i] over len(a) (len(b) >= len(a)).
func dotF32Generic(a, b []float32) float32 {
	var s0, s1, s2, s3 float32
	n := len(a)
	b = b[:n]
	i := 0
	for ; i+4 <= n; i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < n; i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// dotF16Generic returns sum f16(w[i])*x[i] for a little-endian f16 row w.
func dotF16Generic(w []byte, x []float32) float32 {
	var s0, s1 float32
	n := len(w) / 2
	i := 0
	for ; i+2 <= n; i += 2 {
		s0 += F16ToF32(uint16(w[2*i])|uint16(w[2*i+1])<<8) * x[i]
		s1 += F16ToF32(uint16(w[2*i+2])|uint16(w[2*i+3])<<8) * x[i+1]
	}
	for ; i < n; i++ {
		s0 += F16ToF32(uint16(w[2*i])|uint16(w[2*i+1])<<8) * x[i]
	}
	return s0 + s1
}

// quantizeQ8_0Generic quantizes x (a multiple of 32 long) into standard
// q8_0 blocks in dst, as ggml's reference quantizer does: d = max|x|/127,
// q = round(x/d), d stored as f16 before the 32 values.
func quantizeQ8_0Generic(dst []byte, x []float32) {
	for b := 0; b*QK8_0 < len(x); b++ {
		out := dst[b*BlockQ8_0Bytes : (b+1)*BlockQ8_0Bytes]
		h := quantBlockQ8_0(out[2:], x[b*QK8_0:(b+1)*QK8_0])
		out[0], out[1] = byte(h), byte(h>>8)
	}
}

// dotQ8_0Generic returns the dot product of two q8_0 rows of equal length:
// sum over blocks of d_w*d_x*sum(q_w*q_x), accumulated in float32 as ggml does.
func dotQ8_0Generic(w, x []byte) float32 {
	var s float32
	for o := 0; o+BlockQ8_0Bytes <= len(w); o += BlockQ8_0Bytes {
		dw := F16ToF32(uint16(w[o]) | uint16(w[o+1])<<8)
		dx := F16ToF32(uint16(x[o]) | uint16(x[o+1])<<8)
		var sum int32
		qw := w[o+2 : o+BlockQ8_0Bytes]
		qx := x[o+2 : o+BlockQ8_0Bytes]
		for i := range qw {
			sum += int32(int8(qw[i])) * int32(int8(qx[i]))
		}
		s += dw * dx * float32(sum)
	}
	return s
}

// DequantizeQ8_0 expands q8_0 blocks src into dst (len(dst) elements).
func DequantizeQ8_0(dst []float32, src []byte) {
	for b := 0; b*QK8_0 < len(dst); b++ {
		o := b * BlockQ8_0Bytes
		d := F16ToF32(uint16(src[o]) | uint16(src[o+1])<<8)
		for i := 0; i < QK8_0; i++ {
			dst[b*QK8_0+i] = d * float32(int8(src[o+2+i]))
		}
	}
}

// axpyGeneric computes dst[i] += a*x[i].
func axpyGeneric(dst []float32, a float32, x []float32) {
	x = x[:len(dst)]
	for i := range dst {
		dst[i] += a * x[i]
	}
}
