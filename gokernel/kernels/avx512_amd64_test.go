//go:build amd64 && !noasm

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/cpu"
)

func requireAVX512(t *testing.T) {
	t.Helper()
	if !hasAVX512Set() {
		t.Skipf("needs AVX-512 F, BW, VL and VNNI for the avx512 set (cpu.X86.HasAVX512F=%v, BW=%v, VL=%v, VNNI=%v)",
			cpu.X86.HasAVX512F, cpu.X86.HasAVX512BW, cpu.X86.HasAVX512VL, cpu.X86.HasAVX512VNNI)
	}
}

func requireAMX(t *testing.T) {
	t.Helper()
	if err := amxStatus(); err != nil {
		t.Skipf("no amx set on this CPU: %v", err)
	}
}

// randQ8R16 builds ng random q8r16 groups of nb blocks: int8 values over
// the whole range (-128 included, which the VNNI kernel's offset must
// survive) and scales of mixed magnitude.
func randQ8R16(rng *rand.Rand, ng, nb int) []byte {
	p := make([]byte, ng*nb*q8r16BlockBytes)
	for blk := 0; blk < ng*nb; blk++ {
		b := p[blk*q8r16BlockBytes:]
		for i := 0; i < q8r16ValueBytes; i++ {
			b[i] = byte(rng.IntN(256))
		}
		for n := 0; n < q8r16Rows; n++ {
			putF32(b[q8r16ValueBytes+4*n:], float32(rng.NormFloat64())*float32(math.Pow(2, float64(rng.IntN(8)-6))))
		}
	}
	return p
}

// q8r16Ref is the float64 value of row 16g+n times a token (xq, xd), and
// the sum of its terms' magnitudes (the tolerance's scale).
func q8r16Ref(p []byte, g, n, nb int, xq []byte, xd func(b int) float32) (float64, float64) {
	var s, a float64
	for b := 0; b < nb; b++ {
		blk := p[(g*nb+b)*q8r16BlockBytes:]
		var dot int64
		for k := 0; k < QK8_0; k++ {
			dot += int64(int8(blk[64*(k/4)+4*n+k%4])) * int64(int8(xq[32*b+k]))
		}
		term := float64(dot) * float64(f32le(blk[q8r16ValueBytes+4*n:])) * float64(xd(b))
		s += term
		a += math.Abs(term)
	}
	return s, a
}

func randActs(rng *rand.Rand, n int) []byte {
	xq := make([]byte, n)
	for i := range xq {
		xq[i] = byte(int8(rng.IntN(255) - 127)) // [-127, 127], as quantSplit makes them
	}
	return xq
}

// requireTile checks the output of a tile kernel (got, from sentinels) and
// of its twin (want), 16 tokens ldc apart: for the first mrows tokens and
// 16*ng rows both within tol of the float64 value ref gives, everything
// else in got still the sentinel.
func requireTile(t *testing.T, got, want []float32, ng, mrows, ldc int, ref func(m, c int) (val, tol float64), name string) {
	t.Helper()
	for m := 0; m < 16; m++ {
		for c := 0; c < ldc; c++ {
			if m >= mrows || c >= 16*ng {
				require.Equal(t, float32(42), got[m*ldc+c], "%s: wrote outside the tile: token %d col %d", name, m, c)
				continue
			}
			v, tol := ref(m, c)
			require.InDelta(t, v, float64(got[m*ldc+c]), tol, "%s kernel: token %d row %d", name, m, c)
			require.InDelta(t, v, float64(want[m*ldc+c]), tol, "%s twin: token %d row %d", name, m, c)
		}
	}
}

func TestQ8R16VNNIMatchesGeneric(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewPCG(81, 82))
	for _, ng := range []int{1, 2, 5} {
		for _, nb := range []int{1, 2, 3, 18, 48} {
			p := randQ8R16(rng, ng, nb)
			xq := randActs(rng, 32*nb)
			xd := randF32(rng, nb)
			xc := make([]int32, nb)
			q8r16Correction(xc, xq)
			got := make([]float32, 16*ng+1)
			got[16*ng] = 42
			want := make([]float32, 16*ng)
			q8r16VNNI(p, ng, xq, xd, xc, nb, got)
			q8r16Generic(p, ng, xq, xd, nil, nb, want)
			assert.Equal(t, float32(42), got[16*ng], "wrote past the output")
			for r := 0; r < 16*ng; r++ {
				ref, abs := q8r16Ref(p, r/16, r%16, nb, xq, func(b int) float32 { return xd[b] })
				tol := 2*float64(nb+2)*u32*abs + 1e-30
				require.InDelta(t, ref, float64(got[r]), tol, "vnni ng=%d nb=%d row %d", ng, nb, r)
				require.InDelta(t, ref, float64(want[r]), tol, "generic ng=%d nb=%d row %d", ng, nb, r)
			}
		}
	}
}

func TestQ8R16AMXMatchesGeneric(t *testing.T) {
	requireAMX(t)
	rng := rand.New(rand.NewPCG(83, 84))
	for _, ng := range []int{1, 3} {
		for _, nb := range []int{1, 2, 3, 4, 5, 7, 18} {
			p := randQ8R16(rng, ng, nb)
			ldx := 32*nb + 32 // rows further apart than one row's bytes
			xq := randActs(rng, 16*ldx)
			xdT := randF32(rng, 16*nb)
			for _, mrows := range []int{1, 2, 7, 15, 16} {
				ldc := 16*ng + 5
				got, want := sentinels(16*ldc), make([]float32, 16*ldc)
				q8r16AMX(p, ng, xq, ldx, xdT, nb, mrows, got, ldc)
				q8r16TileGeneric(p, ng, xq, ldx, xdT, nb, mrows, want, ldc)
				requireTile(t, got, want, ng, mrows, ldc, func(m, c int) (float64, float64) {
					ref, abs := q8r16Ref(p, c/16, c%16, nb, xq[m*ldx:], func(b int) float32 { return xdT[16*b+m] })
					return ref, 2*float64(nb+2)*u32*abs + 1e-30
				}, fmt.Sprintf("ng=%d nb=%d mrows=%d", ng, nb, mrows))
			}
		}
	}
}

// TestQ8R16AMXBoundsChecked: the wrapper refuses operands the tile loads
// would overrun (16 activation rows are read whatever mrows is) with a
// panic naming no memory it touched, before any tile instruction runs.
func TestQ8R16AMXBoundsChecked(t *testing.T) {
	requireAMX(t)
	rng := rand.New(rand.NewPCG(85, 86))
	p := randQ8R16(rng, 1, 2)
	xdT := randF32(rng, 32)
	c := make([]float32, 16*16)
	assert.Panics(t, func() { q8r16AMX(p, 1, randActs(rng, 15*64+63), 64, xdT, 2, 1, c, 16) }, "15 rows and a bit of activations")
	assert.Panics(t, func() { q8r16AMX(p, 2, randActs(rng, 16*64), 64, xdT, 2, 1, c, 16) }, "two groups asked, one given")
	assert.Panics(t, func() { q8r16AMX(p, 1, randActs(rng, 16*64), 64, xdT, 2, 17, c, 16) }, "17 tokens in a tile")
}

// TestMatMulQ8R16Paths runs a q8_0 matrix through every path of the
// avx512 and amx sets (one token, several without tiles, whole and
// partial tiles, a partial last row group) against the float64 product.
func TestMatMulQ8R16Paths(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewPCG(87, 88))
	for _, set := range []string{"avx512", "amx"} {
		if set == "amx" && amxStatus() != nil {
			continue
		}
		useSet(t, set)
		for _, rows := range []int{16, 40, 576} {
			m := randMatrix(t, rng, TypeQ8_0, rows, 576)
			require.NoError(t, m.Prepare())
			require.Equal(t, packQ8R16, m.pk.kind, "%s repacks q8_0", set)
			tol := func(abs float64) float64 { return 2*float64(576+2)*u32*abs + 1e-6 }
			requireMatMulTokens(t, rng, m, []int{1, 3, 4, 16, 17, 50}, []int{1, 2}, tol, fmt.Sprintf("%s rows=%d", set, rows))
		}
	}
}

// TestQ8x4VNNIMatchesAVX2: the VNNI kernel on the file's layout gives the
// AVX2 kernel's bits (same lane sums, same scaling), -128 weights included.
func TestQ8x4VNNIMatchesAVX2(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewPCG(97, 98))
	for _, nb := range []int{0, 1, 2, 7, 18} {
		ldw := nb*BlockQ8_0Bytes + 6
		w := make([]byte, 3*ldw+nb*BlockQ8_0Bytes)
		for r := 0; r < 4; r++ {
			copy(w[r*ldw:], randQ8Row(rng, nb))
		}
		xq := randActs(rng, 32*nb+1)
		xd := randF32(rng, nb+1)
		got, want := make([]float32, 4), make([]float32, 4)
		q8x4VNNI(w, ldw, xq, xd, nb, got)
		q8x4Asm(w, ldw, xq, xd, nb, want)
		require.Equal(t, want, got, "nb=%d", nb)
	}
}

// TestQ8FileLayoutAblation: with UseQ8FileLayout the avx512 and amx sets
// keep q8_0 as stored and still multiply right, one token and many.
func TestQ8FileLayoutAblation(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewPCG(99, 100))
	prev := UseQ8FileLayout(true)
	t.Cleanup(func() { UseQ8FileLayout(prev) })
	for _, set := range Available() {
		if set != "avx512" && set != "amx" {
			continue
		}
		useSet(t, set)
		m := randMatrix(t, rng, TypeQ8_0, 40, 576)
		require.NoError(t, m.Prepare())
		assert.Nil(t, m.pk, "%s: the file's layout", set)
		assert.Equal(t, len(m.Data), m.PackedBytes())
		assert.Equal(t, 40*18*BlockQ8_0Bytes, Q8_0MatrixBytes(40, 576))
		requireMatMulTokens(t, rng, m, []int{1, 17}, []int{2}, func(abs float64) float64 { return 2*578*u32*abs + 1e-6 }, set)
	}
}
