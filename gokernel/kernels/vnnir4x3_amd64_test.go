//go:build amd64 && !noasm

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// r4x3Operands returns one r4 group of nb blocks and three tokens laid
// out with strides past the rows (ldx, lda), as MatMul hands them over.
func r4x3Operands(rng *rand.Rand, nb, ldx, lda int) (p, xq []byte, act []float32) {
	p = randPackedGroup(rng, r4BlockBytes, nb)
	xq = make([]byte, 2*ldx+32*nb)
	act = make([]float32, 2*lda+8*nb)
	for t := 0; t < 3; t++ {
		q, _, a := packedToken(rng, packR4, nb)
		copy(xq[t*ldx:], q)
		copy(act[t*lda:], a)
	}
	return p, xq, act
}

// TestR4x4x3VNNIMatchesTokenKernelAndFloat64: the three-token kernel
// gives, bit for bit, what vnniR4x4 gives token by token (same
// summation order), and both it and its twin are within vnniTol of the
// float64 product; it writes only its twelve results.
func TestR4x4x3VNNIMatchesTokenKernelAndFloat64(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewPCG(97, 98))
	for _, nb := range vnniNBs {
		for rep := 0; rep < 3; rep++ {
			ldx, lda, ldc := 32*nb+32*rep, 8*nb+8*rep+1, 4+3*rep
			p, xq, act := r4x3Operands(rng, nb, ldx, lda)
			if rep == 0 { // the largest sums: every code 15, every activation -127
				largestSums(packR4, p, r4BlockBytes, xq)
				for tk := 0; tk < 3; tk++ {
					packedAct(packR4, act[tk*lda:tk*lda+8*nb], xq[tk*ldx:tk*ldx+32*nb], make([]float32, nb))
					for b := 0; b < nb; b++ {
						for i := 0; i < 4; i++ {
							act[tk*lda+8*b+i] = 0.01
						}
					}
				}
			}
			got := make([]float32, 2*ldc+4+1)
			for i := range got {
				got[i] = 42
			}
			twin := make([]float32, len(got))
			r4x4x3VNNI(p, xq, ldx, act, lda, nb, got, ldc)
			r4x4x3Generic(p, xq, ldx, act, lda, nb, twin, ldc)
			for tk := 0; tk < 3; tk++ {
				one := make([]float32, 4)
				r4x4VNNI(p, xq[tk*ldx:], act[tk*lda:], nb, one)
				for r := 0; r < 4; r++ {
					g := got[tk*ldc+r]
					require.Equal(t, math.Float32bits(one[r]), math.Float32bits(g),
						"nb=%d rep=%d token %d row %d: %v against vnniR4x4's %v", nb, rep, tk, r, g, one[r])
					ref, abs := r4Ref(p, xq[tk*ldx:], act[tk*lda:], nb, r)
					tol := vnniTol(nb, abs)
					require.InDelta(t, ref, float64(g), tol, "vnni nb=%d rep=%d token %d row %d", nb, rep, tk, r)
					require.InDelta(t, ref, float64(twin[tk*ldc+r]), tol, "twin nb=%d rep=%d token %d row %d", nb, rep, tk, r)
				}
			}
			for i := range got {
				if i%ldc >= 4 || i >= 2*ldc+4 {
					assert.Equal(t, float32(42), got[i], "nb=%d ldc=%d: wrote c[%d]", nb, ldc, i)
				}
			}
		}
	}
}

// TestR4x4x3VNNIBoundsChecked: the wrapper refuses operands the kernel
// would read or write past, in Go, before the assembly runs; nb = 0 gives
// zeros.
func TestR4x4x3VNNIBoundsChecked(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewPCG(99, 100))
	const nb, ldx, lda, ldc = 3, 100, 30, 6
	p, xq, act := r4x3Operands(rng, nb, ldx, lda)
	c := make([]float32, 2*ldc+4)
	cases := []struct {
		name string
		fn   func()
	}{
		{"weights one byte short", func() { r4x4x3VNNI(p[:len(p)-1], xq, ldx, act, lda, nb, c, ldc) }},
		{"activations one byte short", func() { r4x4x3VNNI(p, xq[:len(xq)-1], ldx, act, lda, nb, c, ldc) }},
		{"activation stride under a row", func() { r4x4x3VNNI(p, xq, 32*nb-1, act, lda, nb, c, ldc) }},
		{"terms one short", func() { r4x4x3VNNI(p, xq, ldx, act[:len(act)-1], lda, nb, c, ldc) }},
		{"term stride under a row", func() { r4x4x3VNNI(p, xq, ldx, act, 8*nb-1, nb, c, ldc) }},
		{"output one short", func() { r4x4x3VNNI(p, xq, ldx, act, lda, nb, c[:len(c)-1], ldc) }},
		{"output stride under four", func() { r4x4x3VNNI(p, xq, ldx, act, lda, nb, c, 3) }},
		{"negative blocks", func() { r4x4x3VNNI(p, xq, ldx, act, lda, -1, c, ldc) }},
	}
	for _, tc := range cases {
		assert.Panics(t, tc.fn, tc.name)
	}
	for i := range c {
		c[i] = 7
	}
	r4x4x3VNNI(nil, nil, 0, nil, 0, 0, c, ldc)
	for tk := 0; tk < 3; tk++ {
		assert.Equal(t, []float32{0, 0, 0, 0}, c[tk*ldc:tk*ldc+4], "nb=0 token %d", tk)
	}
	assert.Equal(t, []float32{7, 7}, c[4:6], "nb=0 wrote between the tokens' rows")
}

// TestMatMulR4PrefillMatchesTokenByToken: in the avx512 set, prefill of
// the r4 types (three tokens per kernel call, the rest one by one) gives
// bit for bit what MatMul gives one token at a time, for row counts not a
// multiple of 4, one block per row, and token counts not a multiple of 3.
func TestMatMulR4PrefillMatchesTokenByToken(t *testing.T) {
	requireAVX512(t)
	useSet(t, "avx512")
	require.NotNil(t, cur().r4x4x3, "the avx512 set prefills r4 three tokens at a time")
	rng := rand.New(rand.NewPCG(101, 102))
	requirePrefillMatchesTokenByToken(t, rng, true, []prefillCase{{TypeQ4_0, 13, 32}, {TypeQ4_0, 9, 96}, {TypeQ4_1, 16, 160}, {TypeQ4_K, 7, 512}})
}

// prefillCase is a matrix shape of one packed type.
type prefillCase struct {
	typ        Type
	rows, cols int
}

// requirePrefillMatchesTokenByToken checks that, for every case and for
// 2, 3, 4, 5, 7, 8 and 64 tokens, MatMul of all tokens at once gives bit
// for bit what MatMul gives one token at a time, with the matrix packed in
// the r4 layout when r4 is true and in an r8 one otherwise.
func requirePrefillMatchesTokenByToken(t *testing.T, rng *rand.Rand, r4 bool, cases []prefillCase) {
	t.Helper()
	pool := NewPool(2)
	defer pool.Close()
	for _, tc := range cases {
		m, err := NewMatrix(tc.typ, tc.rows, tc.cols, randBlocks(t, rng, tc.typ, tc.rows*tc.cols))
		require.NoError(t, err)
		for _, nTok := range []int{2, 3, 4, 5, 7, 8, 64} {
			x := randF32(rng, nTok*tc.cols)
			got := make([]float32, nTok*tc.rows)
			pool.MatMul(got, m, x, nTok, nil)
			name := fmt.Sprintf("%v %dx%d nTok=%d", tc.typ, tc.rows, tc.cols, nTok)
			require.NotNil(t, m.pk, name)
			require.Equal(t, r4, m.pk.kind == packR4, "%s: packed as r4", name)
			one := make([]float32, tc.rows)
			for tk := 0; tk < nTok; tk++ {
				pool.MatMul(one, m, x[tk*tc.cols:(tk+1)*tc.cols], 1, nil)
				for r := range one {
					require.Equal(t, math.Float32bits(one[r]), math.Float32bits(got[tk*tc.rows+r]),
						"%s token %d row %d: %v against %v", name, tk, r, got[tk*tc.rows+r], one[r])
				}
			}
		}
	}
}
