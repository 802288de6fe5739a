//go:build amd64 && !noasm

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// r8x3Operands returns one r8 group of nb blocks (stride bytes each) and
// three tokens laid out with strides past the rows (ldx, ldd, lda), as
// MatMul hands them over.
func r8x3Operands(rng *rand.Rand, stride, nb, ldx, ldd, lda int) (p, xq []byte, xd, act []float32) {
	p = randPackedGroup(rng, stride, nb)
	xq = make([]byte, 2*ldx+32*nb)
	xd = make([]float32, 2*ldd+nb)
	act = make([]float32, 2*lda+8*nb)
	for t := 0; t < 3; t++ {
		q, d, a := packedToken(rng, packR8, nb)
		copy(xq[t*ldx:], q)
		copy(xd[t*ldd:], d)
		copy(act[t*lda:], a)
	}
	return p, xq, xd, act
}

// TestR8x4x3VNNIMatchesTokenKernelAndFloat64: for both r8 layouts the
// three-token kernel gives, bit for bit, what vnniR8x4 (vnniR8Bx4) gives
// token by token (same summation order), and both it and its twin are
// within vnniTol of the float64 product; it writes only its twelve
// results.
func TestR8x4x3VNNIMatchesTokenKernelAndFloat64(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewPCG(103, 104))
	for _, stride := range []int{r8BlockBytes, r8BiasBlockBytes} {
		for _, nb := range vnniNBs {
			for rep := 0; rep < 3; rep++ {
				ldx, ldd, lda, ldc := 32*nb+32*rep, nb+rep, 8*nb+8*rep+1, 4+3*rep
				p, xq, xd, act := r8x3Operands(rng, stride, nb, ldx, ldd, lda)
				if rep == 0 { // the largest sums: every weight -128, every activation -127
					largestSums(packR8, p, stride, xq)
					for tk := 0; tk < 3; tk++ {
						packedAct(packR8, act[tk*lda:tk*lda+8*nb], xq[tk*ldx:tk*ldx+32*nb], xd[tk*ldd:tk*ldd+nb])
					}
				}
				got := make([]float32, 2*ldc+4+1)
				for i := range got {
					got[i] = 42
				}
				twin := make([]float32, len(got))
				r8x4x3VNNI(p, stride, xq, ldx, xd, ldd, act, lda, nb, got, ldc)
				r8x4x3Generic(p, stride, xq, ldx, xd, ldd, act, lda, nb, twin, ldc)
				for tk := 0; tk < 3; tk++ {
					one := make([]float32, 4)
					r8x4VNNI(p, stride, xq[tk*ldx:], xd[tk*ldd:], act[tk*lda:], nb, one)
					for r := 0; r < 4; r++ {
						g := got[tk*ldc+r]
						require.Equal(t, math.Float32bits(one[r]), math.Float32bits(g),
							"stride=%d nb=%d rep=%d token %d row %d: %v against vnniR8x4's %v", stride, nb, rep, tk, r, g, one[r])
						ref, abs := r8Ref(p, stride, xq[tk*ldx:], xd[tk*ldd:], act[tk*lda:], nb, r)
						tol := vnniTol(nb, abs)
						require.InDelta(t, ref, float64(g), tol, "vnni stride=%d nb=%d rep=%d token %d row %d", stride, nb, rep, tk, r)
						require.InDelta(t, ref, float64(twin[tk*ldc+r]), tol, "twin stride=%d nb=%d rep=%d token %d row %d", stride, nb, rep, tk, r)
					}
				}
				for i := range got {
					if i%ldc >= 4 || i >= 2*ldc+4 {
						assert.Equal(t, float32(42), got[i], "stride=%d nb=%d ldc=%d: wrote c[%d]", stride, nb, ldc, i)
					}
				}
			}
		}
	}
}

// TestR8x4x3VNNIBoundsChecked: the wrapper refuses operands the kernel
// would read or write past, and a stride of neither r8 layout, in Go,
// before the assembly runs; nb = 0 gives zeros.
func TestR8x4x3VNNIBoundsChecked(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewPCG(105, 106))
	const nb, ldx, ldd, lda, ldc = 3, 100, 5, 30, 6
	for _, stride := range []int{r8BlockBytes, r8BiasBlockBytes} {
		p, xq, xd, act := r8x3Operands(rng, stride, nb, ldx, ldd, lda)
		c := make([]float32, 2*ldc+4)
		cases := []struct {
			name string
			fn   func()
		}{
			{"weights one byte short", func() { r8x4x3VNNI(p[:len(p)-1], stride, xq, ldx, xd, ldd, act, lda, nb, c, ldc) }},
			{"stride of neither layout", func() { r8x4x3VNNI(p, r4BlockBytes, xq, ldx, xd, ldd, act, lda, nb, c, ldc) }},
			{"activations one byte short", func() { r8x4x3VNNI(p, stride, xq[:len(xq)-1], ldx, xd, ldd, act, lda, nb, c, ldc) }},
			{"activation stride under a row", func() { r8x4x3VNNI(p, stride, xq, 32*nb-1, xd, ldd, act, lda, nb, c, ldc) }},
			{"scales one short", func() { r8x4x3VNNI(p, stride, xq, ldx, xd[:len(xd)-1], ldd, act, lda, nb, c, ldc) }},
			{"scale stride under a row", func() { r8x4x3VNNI(p, stride, xq, ldx, xd, nb-1, act, lda, nb, c, ldc) }},
			{"terms one short", func() { r8x4x3VNNI(p, stride, xq, ldx, xd, ldd, act[:len(act)-1], lda, nb, c, ldc) }},
			{"term stride under a row", func() { r8x4x3VNNI(p, stride, xq, ldx, xd, ldd, act, 8*nb-1, nb, c, ldc) }},
			{"output one short", func() { r8x4x3VNNI(p, stride, xq, ldx, xd, ldd, act, lda, nb, c[:len(c)-1], ldc) }},
			{"output stride under four", func() { r8x4x3VNNI(p, stride, xq, ldx, xd, ldd, act, lda, nb, c, 3) }},
			{"negative blocks", func() { r8x4x3VNNI(p, stride, xq, ldx, xd, ldd, act, lda, -1, c, ldc) }},
		}
		for _, tc := range cases {
			assert.Panics(t, tc.fn, "stride=%d %s", stride, tc.name)
		}
		for i := range c {
			c[i] = 7
		}
		r8x4x3VNNI(nil, stride, nil, 0, nil, 0, nil, 0, 0, c, ldc)
		for tk := 0; tk < 3; tk++ {
			assert.Equal(t, []float32{0, 0, 0, 0}, c[tk*ldc:tk*ldc+4], "stride=%d nb=0 token %d", stride, tk)
		}
		assert.Equal(t, []float32{7, 7}, c[4:6], "stride=%d nb=0 wrote between the tokens' rows", stride)
	}
}

// TestMatMulR8PrefillMatchesTokenByToken: in the avx512 set, prefill of
// the r8 types, with and without biases (three tokens per kernel call,
// the rest one by one), gives bit for bit what MatMul gives one token at
// a time, for row counts not a multiple of 4, one block per row, and
// token counts not a multiple of 3.
func TestMatMulR8PrefillMatchesTokenByToken(t *testing.T) {
	requireAVX512(t)
	useSet(t, "avx512")
	require.NotNil(t, cur().r8x4x3, "the avx512 set prefills r8 three tokens at a time")
	rng := rand.New(rand.NewPCG(107, 108))
	requirePrefillMatchesTokenByToken(t, rng, false, []prefillCase{{TypeQ5_0, 13, 32}, {TypeQ5_1, 9, 96}, {TypeIQ4_NL, 16, 160}, {TypeQ5_K, 7, 512}, {TypeQ6_K, 12, 256}, {TypeQ2_K, 5, 256}, {TypeQ3_K, 8, 256}})
}
