package gokernel

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// ulpDiff is the distance between a and b in units in the last place.
func ulpDiff(a, b float32) int64 {
	ia, ib := int64(math.Float32bits(a)), int64(math.Float32bits(b))
	if ia > ib {
		return ia - ib
	}
	return ib - ia
}

func TestExpF32(t *testing.T) {
	var worst int64
	var at float32
	// A dense sweep of the whole finite range (about 1.8 million points,
	// every power-of-two interval several thousand times).
	for x := float32(-87.3); x < 88.7; x += 1e-4 {
		want := float32(math.Exp(float64(x)))
		if d := ulpDiff(expF32(x), want); d > worst {
			worst, at = d, x
		}
	}
	t.Logf("worst error %d ulp at x = %g", worst, at)
	assert.LessOrEqual(t, worst, int64(2))

	for _, x := range []float32{0, -0.5, 1, -1e-8, 1e-8} {
		assert.LessOrEqual(t, ulpDiff(expF32(x), float32(math.Exp(float64(x)))), int64(1), "x=%g", x)
	}
	assert.Equal(t, float32(1), expF32(0))
	assert.True(t, math.IsInf(float64(expF32(89)), 1))
	assert.True(t, math.IsInf(float64(expF32(float32(math.Inf(1)))), 1))
	assert.Zero(t, expF32(float32(math.Inf(-1))))
	assert.Zero(t, expF32(-200))
	assert.Equal(t, float32(math.Exp(-100)), expF32(-100), "subnormal results via math.Exp")
	nan := float32(math.NaN())
	assert.True(t, expF32(nan) != expF32(nan))
}

var sinkF32 float32

func BenchmarkExpF32(b *testing.B) {
	var s float32
	for i := 0; i < b.N; i++ {
		s += expF32(-float32(i&1023) * 0.01)
	}
	sinkF32 = s
}

func BenchmarkMathExp(b *testing.B) {
	var s float32
	for i := 0; i < b.N; i++ {
		s += float32(math.Exp(float64(-float32(i&1023) * 0.01)))
	}
	sinkF32 = s
}
