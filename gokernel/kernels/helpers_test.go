package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tolerance: both versions form the same products (the q8_0 block sums are
// exact integers) and add them in a different order. For a sum of n
// rounded terms the float32 error of either order is at most
// gamma_n * sum|terms| with gamma_n ~= n*u, u = 2^-24 (Higham, Accuracy and
// Stability, 2nd ed., eq. 3.5), so the two results differ by at most
// 2*(n+2)*u*sum|terms|; the +2 covers the rounding of the product and of
// a q8_0 scale product.

const u32 = 1.0 / (1 << 24)

func closeTo(t *testing.T, want, got float32, n int, absSum float64, msg string) {
	t.Helper()
	tol := 2*float64(n+2)*u32*absSum + 1e-30
	assert.LessOrEqual(t, math.Abs(float64(want)-float64(got)), tol, "%s: want %g got %g (tol %g)", msg, want, got, tol)
}

var testLens = []int{0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 100, 127, 576, 1000, 1536}

func randF32(rng *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(rng.NormFloat64())
	}
	return out
}

func randF16Bytes(rng *rand.Rand, n int) []byte {
	out := make([]byte, 2*n)
	for i := 0; i < n; i++ {
		h := F32ToF16(float32(rng.NormFloat64()))
		out[2*i], out[2*i+1] = byte(h), byte(h>>8)
	}
	return out
}

// randQ8Row returns nb q8_0 blocks with random scales and the full int8
// range, -128 included.
func randQ8Row(rng *rand.Rand, nb int) []byte {
	out := make([]byte, nb*BlockQ8_0Bytes)
	for b := 0; b < nb; b++ {
		h := F32ToF16(float32(rng.Float64()*0.02 + 1e-4))
		o := b * BlockQ8_0Bytes
		out[o], out[o+1] = byte(h), byte(h>>8)
		for i := 0; i < QK8_0; i++ {
			out[o+2+i] = byte(rng.IntN(256))
		}
	}
	return out
}

func absDotF32(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += math.Abs(float64(a[i]) * float64(b[i]))
	}
	return s
}

// requireMatMul runs p.MatMul of m and nTok tokens of x and requires every
// result within tol(i) of want[i] (refMatMul's) and nothing written past
// the output; name says which case failed.
func requireMatMul(t *testing.T, p *Pool, m *Matrix, x []float32, nTok int, want []float64, tol func(i int) float64, name string) {
	t.Helper()
	dst := make([]float32, nTok*m.Rows+1)
	dst[nTok*m.Rows] = 42 // sentinel past the output
	p.MatMul(dst, m, x, nTok, nil)
	for i := range want {
		if math.Abs(want[i]-float64(dst[i])) > tol(i) {
			require.Failf(t, "mismatch", "%s i=%d: want %g got %g (tol %g)", name, i, want[i], dst[i], tol(i))
		}
	}
	require.Equal(t, float32(42), dst[nTok*m.Rows], "%s wrote past the output", name)
}

// requireMatMulTokens multiplies m by random activations of each token
// count in nToks with a pool of each thread count in threads and requires
// the results within tol(abs) of refMatMul's, abs being the magnitude of
// the result's terms.
func requireMatMulTokens(t *testing.T, rng *rand.Rand, m *Matrix, nToks, threads []int, tol func(abs float64) float64, name string) {
	t.Helper()
	for _, nTok := range nToks {
		x := randF32(rng, nTok*m.Cols)
		want, abs := refMatMul(m, x, nTok)
		for _, th := range threads {
			p := NewPool(th)
			requireMatMul(t, p, m, x, nTok, want, func(i int) float64 { return tol(abs[i]) }, fmt.Sprintf("%s nTok=%d threads=%d", name, nTok, th))
			p.Close()
		}
	}
}

// sentinels returns n values of 42, which a kernel must leave alone
// outside its output.
func sentinels(n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = 42
	}
	return out
}
