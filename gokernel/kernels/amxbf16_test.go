package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The bf16 tile path's error bound (amxbf16.go): with u = 2^-8 (bf16's
// unit roundoff) and K the padded row length,
//
//	|result - w.x| <= (e + gamma_3K*(1+u)^3) * sum|w_k*x_k|,
//
// e = 2u^2(1+u)^2 for f16 weights (split exactly) and 3u^2(1+u)^2 for f32
// weights. Two computations of the same split products (kernel and twin)
// differ by at most 2*gamma_3K*(1+u)^3 * sum|w_k*x_k|.

const bf16U = 1.0 / 256

func gamma32(n int) float64 { return float64(n) * u32 / (1 - float64(n)*u32) }

// bf16Bound is the bound above for K values of weight type typ.
func bf16Bound(typ Type, k int, abs float64) float64 {
	e := 3 * bf16U * bf16U * (1 + bf16U) * (1 + bf16U)
	if typ == TypeF16 {
		e = 2 * bf16U * bf16U * (1 + bf16U) * (1 + bf16U)
	}
	return (e+gamma32(3*k)*math.Pow(1+bf16U, 3))*abs + 1e-30
}

// requireBF16 returns the amx set's bf16 kernels or skips.
func requireBF16(t *testing.T) *bf16Kernels {
	t.Helper()
	s := sets["amx"]
	if s == nil || s.bf16 == nil {
		t.Skipf("no bf16 tiles on this CPU (amx set: %v)", Check("amx"))
	}
	return s.bf16
}

// bf16Specials are values whose conversion has a rule of its own: signed
// zeros, subnormals (to zero), NaN (quieted), infinities, ties to even,
// values that round up into the next binade and to Inf.
var bf16Specials = []float32{
	0, float32(math.Copysign(0, -1)), math.Float32frombits(1), math.Float32frombits(0x807fffff),
	float32(math.NaN()), math.Float32frombits(0x7f800001), math.Float32frombits(0xffc00001),
	float32(math.Inf(1)), float32(math.Inf(-1)),
	math.Float32frombits(0x3f808000), math.Float32frombits(0x3f818000), math.Float32frombits(0x3f80c000),
	math.Float32frombits(0x3fffffff), math.Float32frombits(0x7f7fffff), math.Float32frombits(0x00800000),
	1, -1, 65504, 6.1e-5, 5.96e-8,
}

func TestBF16SplitParts(t *testing.T) {
	// Every finite f16 value splits exactly.
	for h := 0; h < 1<<16; h++ {
		v := F16ToF32(uint16(h))
		if math.IsInf(float64(v), 0) || math.IsNaN(float64(v)) {
			continue
		}
		hi, lo := splitBF16(v)
		require.Equal(t, v, BF16ToF32(hi)+BF16ToF32(lo), "f16 %#04x: hi %#04x lo %#04x", h, hi, lo)
	}
	// float32 values: within u^2 of their magnitude, hi correctly rounded.
	rng := rand.New(rand.NewPCG(101, 102))
	for i := 0; i < 100000; i++ {
		v := float32(rng.NormFloat64() * math.Pow(2, float64(rng.IntN(60)-30)))
		hi, lo := splitBF16(v)
		h := float64(BF16ToF32(hi))
		assert.LessOrEqual(t, math.Abs(float64(v)-h), bf16U*math.Abs(float64(v)), "hi of %g", v)
		rest := float64(v) - h - float64(BF16ToF32(lo))
		require.LessOrEqual(t, math.Abs(rest), bf16U*bf16U*math.Abs(float64(v)), "%g = %g + %g", v, h, BF16ToF32(lo))
	}
	// The conversion's rules.
	assert.Equal(t, uint16(0x3f80), bf16RNE(math.Float32frombits(0x3f808000)), "tie to even (down)")
	assert.Equal(t, uint16(0x3f82), bf16RNE(math.Float32frombits(0x3f818000)), "tie to even (up)")
	assert.Equal(t, uint16(0x8000), bf16RNE(math.Float32frombits(0x807fffff)), "subnormal to signed zero")
	assert.Equal(t, uint16(0x7fc0), bf16RNE(math.Float32frombits(0x7f800001)), "signalling NaN quieted")
	assert.Equal(t, uint16(0x7f80), bf16RNE(math.Float32frombits(0x7f7fffff)), "largest float32 rounds to Inf")
}

// TestBF16ConvertKernelsMatchTwins: the conversion kernels write the same
// bits as their twins (special values included), and nothing between the
// blocks of a padded step.
func TestBF16ConvertKernelsMatchTwins(t *testing.T) {
	k := requireBF16(t)
	rng := rand.New(rand.NewPCG(103, 104))
	for _, nkb := range []int{1, 2, 5, 18} {
		x := randF32(rng, 32*nkb)
		for i, v := range bf16Specials {
			x[(7*i)%len(x)] = v
		}
		step := 2048 + 192
		got := make([]byte, nkb*step)
		want := make([]byte, nkb*step)
		for i := range got {
			got[i], want[i] = 0xa5, 0xa5
		}
		// One row of the A tiles, at row 3.
		k.split(x, nkb, got[192:], step)
		bf16Twins.split(x, nkb, want[192:], step)
		require.Equal(t, want, got, "split nkb=%d", nkb)

		for _, typ := range []Type{TypeF16, TypeF32} {
			bpv := 2
			if typ == TypeF32 {
				bpv = 4
			}
			ldw := 32*nkb*bpv + 8*bpv // rows further apart than their values
			w := make([]byte, 16*ldw)
			for n := 0; n < 16; n++ {
				for c := 0; c < 32*nkb+8; c++ {
					v := float32(rng.NormFloat64() * math.Pow(2, float64(rng.IntN(12)-6)))
					if rng.IntN(40) == 0 {
						v = bf16Specials[rng.IntN(len(bf16Specials))]
					}
					if typ == TypeF16 {
						binary.LittleEndian.PutUint16(w[n*ldw+2*c:], F32ToF16(v))
					} else {
						putF32(w[n*ldw+4*c:], v)
					}
				}
			}
			step := 4096 + 64
			got := make([]byte, nkb*step)
			want := make([]byte, nkb*step)
			for i := range got {
				got[i], want[i] = 0x5a, 0x5a
			}
			kern, twin := k.packF16, bf16Twins.packF16
			if typ == TypeF32 {
				kern, twin = k.packF32, bf16Twins.packF32
			}
			kern(w, ldw, nkb, got, step)
			twin(w, ldw, nkb, want, step)
			require.Equal(t, want, got, "pack %v nkb=%d", typ, nkb)
			// The twin's layout, checked from its definition: row n's
			// column c sits at 64(c/2)+4n+2(c%2) of its block's tiles.
			n, c := rng.IntN(16), rng.IntN(32*nkb)
			var v float32
			if typ == TypeF16 {
				v = f16At(w, n*ldw+2*c)
			} else {
				v = f32le(w[n*ldw+4*c:])
			}
			hi, lo := splitBF16(v)
			o := c/32*step + 64*(c%32/2) + 4*n + 2*(c%2)
			assert.Equal(t, hi, binary.LittleEndian.Uint16(got[o:]), "hi of row %d col %d", n, c)
			assert.Equal(t, lo, binary.LittleEndian.Uint16(got[o+1024:]), "lo of row %d col %d", n, c)
		}
	}
}

// bf16Operands makes the tile kernel's operands from random values: nt
// token tiles and ng groups of 32 weight rows of K = 32*nkb columns, the
// weights of type typ (f16 values for f16), returned with the values.
func bf16Operands(rng *rand.Rand, typ Type, ng, nkb, nt, lda int) (b, a []byte, w, x []float32) {
	K := 32 * nkb
	w = make([]float32, 32*ng*K)
	for i := range w {
		w[i] = float32(rng.NormFloat64() * math.Pow(2, float64(rng.IntN(8)-4)))
		if typ == TypeF16 {
			w[i] = F16ToF32(F32ToF16(w[i]))
		}
	}
	x = make([]float32, 16*nt*K)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * math.Pow(2, float64(rng.IntN(8)-4)))
	}
	b = make([]byte, ng*nkb*bf16BlockB)
	for h := 0; h < 2*ng; h++ { // 16 rows at a time: B0 and B1 of each group
		bf16Twins.packF32(F32Bytes(w[16*h*K:]), 4*K, nkb, b[h/2*nkb*bf16BlockB+h%2*2*bf16TileBytes:], bf16BlockB)
	}
	a = make([]byte, (nt-1)*lda+nkb*bf16BlockA)
	for t := 0; t < 16*nt; t++ {
		bf16Twins.split(x[t*K:(t+1)*K], nkb, a[t/16*lda+64*(t%16):], bf16BlockA)
	}
	return b, a, w, x
}

// TestBF16TileMatchesTwinAndFloat64: the tile kernel against its twin and
// both against the float64 products of the unsplit values, within the
// stated bounds, for one to five token tiles (pairs and an odd one), one
// and three row groups and one to 18 blocks; nothing is written outside
// the result columns.
func TestBF16TileMatchesTwinAndFloat64(t *testing.T) {
	k := requireBF16(t)
	rng := rand.New(rand.NewPCG(105, 106))
	for _, typ := range []Type{TypeF16, TypeF32} {
		for _, ng := range []int{1, 3} {
			for _, nkb := range []int{1, 2, 7, 18} {
				for _, nt := range []int{1, 2, 3, 5} {
					checkBF16Tile(t, k, rng, typ, ng, nkb, nt)
				}
			}
		}
	}
}

func checkBF16Tile(t *testing.T, k *bf16Kernels, rng *rand.Rand, typ Type, ng, nkb, nt int) {
	K := 32 * nkb
	lda := nkb*bf16BlockA + 1024
	b, a, w, x := bf16Operands(rng, typ, ng, nkb, nt, lda)
	ldc := 32*ng + 3
	got, want := sentinels(16*nt*ldc), make([]float32, 16*nt*ldc)
	k.tile(b, ng, nkb, a, lda, nt, got, ldc)
	bf16Twins.tile(b, ng, nkb, a, lda, nt, want, ldc)
	worst := 0.0
	for tok := 0; tok < 16*nt; tok++ {
		for c := 0; c < ldc; c++ {
			v := got[tok*ldc+c]
			if c >= 32*ng {
				require.Equal(t, float32(42), v, "wrote past the %d rows: token %d col %d", 32*ng, tok, c)
				continue
			}
			var ref, abs float64
			for i := 0; i < K; i++ { // weight row c
				p := float64(w[c*K+i]) * float64(x[tok*K+i])
				ref += p
				abs += math.Abs(p)
			}
			tol := bf16Bound(typ, K, abs)
			require.InDelta(t, ref, float64(v), tol, "amx %v ng=%d nkb=%d nt=%d token %d row %d", typ, ng, nkb, nt, tok, c)
			require.InDelta(t, ref, float64(want[tok*ldc+c]), tol, "twin %v ng=%d nkb=%d nt=%d token %d row %d", typ, ng, nkb, nt, tok, c)
			pair := 2*gamma32(3*K)*math.Pow(1+bf16U, 3)*abs + 1e-30
			require.InDelta(t, float64(want[tok*ldc+c]), float64(v), pair, "amx vs twin %v ng=%d nkb=%d nt=%d token %d row %d", typ, ng, nkb, nt, tok, c)
			worst = max(worst, math.Abs(ref-float64(v))/tol)
		}
	}
	if nkb == 18 && nt == 5 && ng == 3 {
		t.Logf("%v K=%d: worst error %.3f of the bound", typ, K, worst)
	}
}

// TestBF16KernelsBoundsChecked: the wrappers refuse operands the kernels
// would overrun, with a panic naming the operand, before any tile or
// vector instruction runs.
func TestBF16KernelsBoundsChecked(t *testing.T) {
	k := requireBF16(t)
	b := make([]byte, 2*bf16BlockB)
	a := make([]byte, 3*2*bf16BlockA)
	c := make([]float32, 64*64)
	assert.PanicsWithValue(t, "kernels: tileBF16: b has 8192 elements, want 12288", func() { k.tile(b, 1, 3, a, 3*bf16BlockA, 1, c, 32) })
	assert.PanicsWithValue(t, "kernels: tileBF16: b has 8192 elements, want 16384", func() { k.tile(b, 2, 2, a, 2*bf16BlockA, 1, c, 64) })
	assert.PanicsWithValue(t, "kernels: tileBF16: a has 12288 elements, want 16384", func() { k.tile(b, 1, 2, a, 2*bf16BlockA, 4, c, 32) })
	assert.PanicsWithValue(t, "kernels: tileBF16: c has 1536 elements, want 1583", func() { k.tile(b, 1, 2, a, 2*bf16BlockA, 3, c[:1536], 33) })
	assert.PanicsWithValue(t, "kernels: tileBF16: ldc 31, want at least 32", func() { k.tile(b, 1, 2, a, 2*bf16BlockA, 1, c, 31) })
	assert.PanicsWithValue(t, "kernels: tileBF16: ldc 40, want at least 64", func() { k.tile(b, 2, 1, a, 2*bf16BlockA, 1, c, 40) })
	assert.PanicsWithValue(t, "kernels: tileBF16: lda 2048, want at least 4096", func() { k.tile(b, 1, 2, a, bf16BlockA, 2, c, 32) })
	x := make([]float32, 63)
	assert.PanicsWithValue(t, "kernels: splitBF16: x has 63 elements, want 64", func() { k.split(x, 2, a, 2048) })
	assert.PanicsWithValue(t, "kernels: splitBF16: dst has 2000 elements, want 3136", func() { k.split(make([]float32, 64), 2, a[:2000], 2048) })
	w := make([]byte, 15*128+127)
	assert.PanicsWithValue(t, "kernels: packF32BF16: w has 2047 elements, want 2048", func() { k.packF32(w, 128, 1, b, 4096) })
	assert.PanicsWithValue(t, "kernels: packF16BF16: ldw -64, want at least 0", func() { k.packF16(w, -64, 1, b, 4096) })
	assert.PanicsWithValue(t, "kernels: packF16BF16: dst has 8192 elements, want 10240", func() { k.packF16(w, 64, 3, b, 4096) })
}

// withBF16Twins makes the active set the named one with the pure-Go bf16
// twins in place of its tile kernels (the MatMul path on any CPU).
func withBF16Twins(t *testing.T, name string) {
	t.Helper()
	s := *sets[name]
	s.name += "+bf16twins"
	s.bf16 = bf16Twins
	prev := active.Load()
	active.Store(&s)
	t.Cleanup(func() { active.Store(prev) })
}

// TestMatMulBF16Paths runs f16 and f32 matrices through Pool.MatMul's bf16
// tile path (the amx set, and the twins on any CPU) against the float64
// product within the stated bound: rows, columns and tokens that are not
// multiples of the tiles (partial row groups, a partial last block, a
// partial token tile, several token chunks), one and two threads.
func TestMatMulBF16Paths(t *testing.T) {
	rng := rand.New(rand.NewPCG(107, 108))
	type shape struct{ rows, cols int }
	cases := []struct {
		set    string
		shapes []shape
		toks   []int
	}{
		{"generic", []shape{{37, 300}, {64, 256}}, []int{16, 33}},
		{"amx", []shape{{1, 256}, {37, 300}, {64, 576}, {200, 1000}, {1800, 576}}, []int{16, 17, 50, 100, 333}},
	}
	for _, tc := range cases {
		if tc.set == "amx" {
			if s := sets["amx"]; s == nil || s.bf16 == nil {
				t.Logf("no bf16 tiles on this CPU: the twins only (%v)", Check("amx"))
				continue
			}
			useSet(t, "amx")
		} else {
			withBF16Twins(t, tc.set)
		}
		for _, typ := range []Type{TypeF16, TypeF32} {
			for _, sh := range tc.shapes {
				m := randMatrix(t, rng, typ, sh.rows, sh.cols)
				for _, nTok := range tc.toks {
					if sh.rows*sh.cols*nTok > 30e6 {
						continue
					}
					x := randF32(rng, nTok*sh.cols)
					want, abs := refMatMul(m, x, nTok)
					nkb := (sh.cols + 31) / 32
					tol := func(i int) float64 { return bf16Bound(typ, 32*nkb, abs[i]) }
					for _, threads := range []int{1, 2} {
						p := NewPool(threads)
						requireMatMul(t, p, m, x, nTok, want, tol, fmt.Sprintf("%s %v %dx%d nTok=%d threads=%d", Name(), typ, sh.rows, sh.cols, nTok, threads))
						assert.Equal(t, (nTok+15)/16*nkb*bf16BlockA, cap(p.xb), "the A tiles were made (%s)", Name())
						p.Close()
					}
				}
			}
		}
	}
}

// TestMatMulBF16Eligibility: the tiles take f16 and f32 from 16 tokens and
// 256 columns; fewer tokens, shorter rows and other types stay on the
// exact float32 kernels.
func TestMatMulBF16Eligibility(t *testing.T) {
	rng := rand.New(rand.NewPCG(109, 110))
	assert.True(t, bf16Eligible(randMatrix(t, rng, TypeF16, 4, 256), 16))
	assert.True(t, bf16Eligible(randMatrix(t, rng, TypeF32, 4, 256), 16))
	assert.False(t, bf16Eligible(randMatrix(t, rng, TypeF16, 4, 256), 15))
	assert.False(t, bf16Eligible(randMatrix(t, rng, TypeF16, 4, 255), 64))
	assert.False(t, bf16Eligible(randMatrix(t, rng, TypeQ8_0, 4, 256), 64))
	// A set without bf16 tiles never makes the A tiles.
	useSet(t, "generic")
	p := NewPool(1)
	defer p.Close()
	m := randMatrix(t, rng, TypeF16, 32, 256)
	p.MatMul(make([]float32, 32*32), m, randF32(rng, 32*256), 32, nil)
	assert.Zero(t, cap(p.xb))
}
