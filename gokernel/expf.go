package gokernel

import "math"

// expF32 returns e^x in float32 within 2 ulp of the correctly rounded value
// (the softmax and SiLU need float32 accuracy, not float64's). It is the
// classic Cephes expf: x = n*ln2 + r with |r| <= ln2/2, a degree-6
// polynomial for e^r, and 2^n put into the exponent bits; about three
// times faster than math.Exp. Inputs below -87.3 (results that would be
// subnormal) go to math.Exp.
func expF32(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		c1    = 0.693359375    // ln2, high part (exact in a few bits)
		c2    = -2.12194440e-4 // ln2 - c1
		hi    = 88.72283905206835
		lo    = -87.33654475055310898657
	)
	switch {
	case x > hi:
		return float32(math.Inf(1))
	case x < lo:
		if x != x { // NaN
			return x
		}
		return float32(math.Exp(float64(x)))
	}
	// n = x*log2(e) rounded to nearest (half away from zero).
	t := x * log2e
	if t < 0 {
		t -= 0.5
	} else {
		t += 0.5
	}
	fn := float32(int32(t))
	r := x - fn*c1 - fn*c2
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	p = p*r*r + r + 1
	n := int32(fn)
	if n > 127 { // x just below the overflow threshold: 2^128 is not a float32
		p *= 2
		n--
	}
	return p * math.Float32frombits(uint32(n+127)<<23)
}
