package kernels

import "math"

// Limits of the polynomial exp: above expHi the result overflows to +Inf,
// below expLo it is subnormal (computed in float64 instead).
const (
	expHi = 88.72283905206835
	expLo = -87.33654475055310898657
)

// expF32Generic is exp(x) in float32 by the Cephes expf algorithm (as
// ggml's scalar path): x = n*ln2 + r with n rounded half away from zero,
// a degree-5 polynomial for exp(r), then scaling by 2^n. Every product is
// rounded before the following add (explicit conversions forbid fused
// multiply-adds), so the SIMD version, which performs the same operations,
// gives bit-identical results.
func expF32Generic(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		c1    = 0.693359375
		c2    = -2.12194440e-4
	)
	switch {
	case x > expHi:
		return float32(math.Inf(1))
	case !(x >= expLo): // below the range, or NaN
		return float32(math.Exp(float64(x)))
	}
	t := float32(x * log2e)
	if t < 0 {
		t -= 0.5
	} else {
		t += 0.5
	}
	fn := float32(int32(t))
	r := float32(x-float32(fn*c1)) - float32(fn*c2)
	p := float32(1.9875691500e-4)
	p = float32(p*r) + 1.3981999507e-3
	p = float32(p*r) + 8.3334519073e-3
	p = float32(p*r) + 4.1665795894e-2
	p = float32(p*r) + 1.6666665459e-1
	p = float32(p*r) + 5.0000001201e-1
	p = float32(float32(float32(p*r)*r)+r) + 1
	n := int32(fn)
	if n > 127 { // just below the overflow threshold: 2^128 is not a float32
		p *= 2
		n--
	}
	return p * math.Float32frombits(uint32(n+127)<<23)
}

func expSliceGeneric(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = expF32Generic(x)
	}
}

// siluMulGeneric computes g[i] = g[i] / (1 + exp(-g[i])) * u[i].
func siluMulGeneric(g, u []float32) {
	u = u[:len(g)]
	for i, v := range g {
		g[i] = float32(v/(1+expF32Generic(-v))) * u[i]
	}
}

// ExpF32s computes dst[i] = exp(src[i]) for i < len(dst) in float32 by the
// Cephes expf algorithm (relative error within a few float32 ulps; +Inf
// above 88.72, subnormal results computed in float64). The SIMD and the
// pure-Go versions give bit-identical results.
func ExpF32s(dst, src []float32) { cur().exp(dst, src) }

// SiLUMulF32 computes g[i] = silu(g[i]) * u[i] = g[i] / (1 + exp(-g[i])) *
// u[i] for i < len(g) (the SwiGLU gate), with ExpF32s's exp; bit-identical
// across kernel sets.
func SiLUMulF32(g, u []float32) { cur().siluMul(g, u) }

func scaleMaxGeneric(x []float32, scale float32) float32 {
	m := float32(math.Inf(-1))
	for i, v := range x {
		v *= scale
		x[i] = v
		if v > m {
			m = v
		}
	}
	return m
}

// expShifted is exp(v) for a softmax argument v <= 0: ExpF32s's value, 0
// below its polynomial's range.
func expShifted(v float32) float32 {
	if v < expLo {
		return 0
	}
	return expF32Generic(v)
}

func expShiftSumGeneric(x []float32, shift float32) float32 {
	var s float32
	for i, v := range x {
		e := expShifted(v - shift)
		x[i] = e
		s += e
	}
	return s
}
