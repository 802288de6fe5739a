package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPutKeyTLaysKeysOutTransposed(t *testing.T) {
	kt := make([]byte, 2*3*KeyBlock)
	PutKeyT(kt, 5, []float32{1, -2, 0.5})
	assert.Equal(t, float32(1), f16At(kt, 2*5))
	assert.Equal(t, float32(-2), f16At(kt, 2*(KeyBlock+5)))
	assert.Equal(t, float32(0.5), f16At(kt, 2*(2*KeyBlock+5)))
	assert.Equal(t, float32(0), f16At(kt, 2*4), "other keys untouched")
	assert.PanicsWithValue(t, "kernels: PutKeyT: key 64 of a block of 64", func() { PutKeyT(kt, 64, []float32{1}) })
	assert.Panics(t, func() { PutKeyT(kt, 0, make([]float32, 4)) }, "a fourth dimension does not fit")
}

// TestScoresF16T checks every set against float64 products, for query
// counts that take the three-query and the one-query kernels, and that a
// query's scores are the same bits whatever queries are computed with it.
func TestScoresF16T(t *testing.T) {
	rng := rand.New(rand.NewPCG(91, 92))
	for _, set := range Available() {
		useSet(t, set)
		for _, d := range []int{1, 7, 16, 64, 80} {
			kt := randF16Bytes(rng, d*KeyBlock)
			for _, nq := range []int{1, 2, 3, 4, 7} {
				ldq := d + rng.IntN(5)
				q := randF32(rng, (nq-1)*ldq+d)
				out := make([]float32, nq*KeyBlock+1)
				out[nq*KeyBlock] = 42
				ScoresF16T(out, q, ldq, nq, kt, d)
				require.Equal(t, float32(42), out[nq*KeyBlock], "%s: wrote past out", set)
				for i := 0; i < nq; i++ {
					for j := 0; j < KeyBlock; j++ {
						var want, abs float64
						for x := 0; x < d; x++ {
							p := float64(q[i*ldq+x]) * float64(f16At(kt, 2*(x*KeyBlock+j)))
							want += p
							abs += math.Abs(p)
						}
						closeTo(t, float32(want), out[i*KeyBlock+j], d, abs, fmt.Sprintf("%s d=%d nq=%d q%d key %d", set, d, nq, i, j))
					}
					alone := make([]float32, KeyBlock)
					ScoresF16T(alone, q[i*ldq:], ldq, 1, kt, d)
					require.Equal(t, alone, out[i*KeyBlock:(i+1)*KeyBlock], "%s d=%d: query %d of %d alone", set, d, i, nq)
				}
			}
		}
		assert.PanicsWithValue(t, "kernels: ScoresF16T: a key block of 64 dimensions needs 8192 bytes, have 8190", func() {
			ScoresF16T(make([]float32, KeyBlock), make([]float32, 64), 64, 1, make([]byte, 8190), 64)
		})
		assert.PanicsWithValue(t, "kernels: ScoresF16T: 2 queries need 128 scores, have 127", func() {
			ScoresF16T(make([]float32, 127), make([]float32, 128), 64, 2, make([]byte, 8192), 64)
		})
	}
}

// TestAxpyRowsF16Heads checks every set against float64 sums, for head
// sizes that take the three-head kernel (64) and those that do not, and
// that each head's result is AxpyRowsF16's bit for bit.
func TestAxpyRowsF16Heads(t *testing.T) {
	rng := rand.New(rand.NewPCG(93, 94))
	for _, set := range Available() {
		useSet(t, set)
		for _, n := range []int{64, 32, 72} {
			for _, nq := range []int{1, 3, 4, 6} {
				for _, rows := range []int{1, 5, 64} {
					stride := n + rng.IntN(10)
					x := randF16Bytes(rng, (rows-1)*stride+n)
					ldw, ldd := rows+rng.IntN(4), n+2
					w := randF32(rng, (nq-1)*ldw+rows)
					dst := randF32(rng, (nq-1)*ldd+n+1)
					dst[len(dst)-1] = 42
					orig := slices.Clone(dst)
					AxpyRowsF16Heads(dst, ldd, n, w, ldw, nq, x, stride, rows)
					require.Equal(t, float32(42), dst[len(dst)-1], "%s: wrote past dst", set)
					for h := 0; h < nq; h++ {
						one := slices.Clone(orig[h*ldd : h*ldd+n])
						AxpyRowsF16(one, w[h*ldw:h*ldw+rows], x, stride)
						require.Equal(t, one, dst[h*ldd:h*ldd+n], "%s n=%d nq=%d rows=%d head %d: same bits as AxpyRowsF16", set, n, nq, rows, h)
						for i := 0; i < n; i++ {
							want, abs := float64(orig[h*ldd+i]), math.Abs(float64(orig[h*ldd+i]))
							for j := 0; j < rows; j++ {
								p := float64(w[h*ldw+j]) * float64(f16At(x, 2*(j*stride+i)))
								want += p
								abs += math.Abs(p)
							}
							closeTo(t, float32(want), dst[h*ldd+i], 2*rows, abs, fmt.Sprintf("%s n=%d nq=%d rows=%d head %d col %d", set, n, nq, rows, h, i))
						}
						if h < nq-1 {
							require.Equal(t, orig[h*ldd+n:(h+1)*ldd], dst[h*ldd+n:(h+1)*ldd], "%s: the gap between heads is untouched", set)
						}
					}
				}
			}
		}
	}
}
