//go:build amd64 && !noasm

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/cpu"
)

// These tests check every assembly kernel against its pure-Go twin on random
// inputs of many lengths (including lengths that are not a multiple of the
// vector width) and at unaligned addresses; helpers_test.go explains the
// tolerance.

func requireAVX2(t *testing.T) {
	t.Helper()
	if !hasAVX2Set() {
		t.Skipf("needs AVX2, FMA and F16C for the avx2 kernel set (cpu.X86.HasAVX2=%v, HasFMA=%v, HasF16C=%v)",
			cpu.X86.HasAVX2, cpu.X86.HasFMA, cpu.X86.HasF16C)
	}
}

func TestDotF32AsmMatchesGeneric(t *testing.T) {
	requireAVX2(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range testLens {
		for _, off := range []int{0, 1, 3} {
			a := randF32(rng, n+off)[off:]
			b := randF32(rng, n+off+5)[off:]
			closeTo(t, dotF32Generic(a, b), dotF32Asm(a, b), n, absDotF32(a, b[:n]), fmt.Sprintf("n=%d off=%d", n, off))
		}
	}
}

func TestDotF16AsmMatchesGeneric(t *testing.T) {
	requireAVX2(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range testLens {
		for _, off := range []int{0, 1, 2} {
			w := randF16Bytes(rng, n+off)[2*off:]
			wb := append([]byte{0xff}, w...)[1:] // odd address when off is 0
			x := randF32(rng, n+off)[off:]
			wf := make([]float32, n)
			for i := range wf {
				wf[i] = f16At(w, 2*i)
			}
			closeTo(t, dotF16Generic(w, x), dotF16Asm(wb, x), n, absDotF32(wf, x), fmt.Sprintf("n=%d off=%d", n, off))
		}
	}
}

func TestAxpyAsmMatchesGeneric(t *testing.T) {
	requireAVX2(t)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range testLens {
		x := randF32(rng, n+1)[1:]
		d0 := randF32(rng, n+1)[1:]
		d1 := append([]float32(nil), d0...)
		a := float32(rng.NormFloat64())
		axpyGeneric(d0, a, x)
		axpyAsm(d1, a, x)
		for i := range d0 {
			// one FMA vs a rounded multiply then add: two roundings apart at most
			tol := 2 * u32 * (math.Abs(float64(d0[i])) + math.Abs(float64(a*x[i])))
			require.LessOrEqual(t, math.Abs(float64(d0[i]-d1[i])), tol, "n=%d i=%d", n, i)
		}
	}
}

func q8AbsSum(w []byte, xq []byte, xd []float32, nb int) float64 {
	var s float64
	for b := 0; b < nb; b++ {
		o := b * BlockQ8_0Bytes
		var is float64
		for i := 0; i < QK8_0; i++ {
			is += math.Abs(float64(int8(w[o+2+i])) * float64(int8(xq[b*QK8_0+i])))
		}
		s += math.Abs(float64(f16At(w, o))*float64(xd[b])) * is
	}
	return s
}

func TestQuantizeAsmMatchesGenericExactly(t *testing.T) {
	requireAVX2(t)
	rng := rand.New(rand.NewPCG(7, 8))
	for _, nb := range []int{0, 1, 2, 3, 18, 48} {
		for trial := 0; trial < 20; trial++ {
			x := make([]float32, nb*QK8_0+1)[1:]
			for i := range x {
				switch trial % 5 {
				case 0: // ties: amax 127 gives d = 1, so halves stay halves
					x[i] = float32(rng.IntN(254)-127) + 0.5*float32(rng.IntN(2))
				case 1: // tiny values: f16 scale underflows to subnormal or zero
					x[i] = float32(rng.NormFloat64() * 1e-7)
				case 2:
					x[i] = 0
				default:
					x[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(6)-3)))
				}
			}
			if trial%5 == 0 && nb > 0 {
				for b := 0; b < nb; b++ {
					x[b*QK8_0+rng.IntN(QK8_0)] = 127 * float32(1-2*rng.IntN(2))
				}
			}
			g := make([]byte, nb*BlockQ8_0Bytes)
			a := make([]byte, nb*BlockQ8_0Bytes)
			quantizeQ8_0Generic(g, x)
			quantQ8_0Asm(a, x)
			require.Equal(t, g, a, "standard layout nb=%d trial=%d", nb, trial)

			gq, gd := make([]byte, nb*QK8_0), make([]float32, nb)
			aq, ad := make([]byte, nb*QK8_0), make([]float32, nb)
			quantSplitGeneric(gq, gd, x)
			quantSplitAsm(aq, ad, x)
			require.Equal(t, gq, aq, "split values nb=%d trial=%d", nb, trial)
			require.Equal(t, gd, ad, "split scales nb=%d trial=%d", nb, trial)
			for b := 0; b < nb; b++ {
				assert.Equal(t, f16At(g, b*BlockQ8_0Bytes), gd[b], "split scale is the f16 scale")
			}
		}
	}
}

func TestDotQ8_0AsmMatchesGeneric(t *testing.T) {
	requireAVX2(t)
	rng := rand.New(rand.NewPCG(9, 10))
	for _, nb := range []int{0, 1, 2, 3, 17, 18, 48} {
		w := randQ8Row(rng, nb)
		x := make([]byte, nb*BlockQ8_0Bytes)
		quantizeQ8_0Generic(x, randF32(rng, nb*QK8_0))
		xq, xd := make([]byte, nb*QK8_0), make([]float32, nb)
		for b := 0; b < nb; b++ {
			copy(xq[b*QK8_0:], x[b*BlockQ8_0Bytes+2:(b+1)*BlockQ8_0Bytes])
			xd[b] = f16At(x, b*BlockQ8_0Bytes)
		}
		closeTo(t, dotQ8_0Generic(w, x), dotQ8_0Asm(w, x), nb, q8AbsSum(w, xq, xd, nb), fmt.Sprintf("nb=%d", nb))
	}
}

// q8Fixture is a block of weight rows with padding between rows (ldw >
// RowBytes) and three split-layout activation rows with padding.
type q8Fixture struct {
	nb, ldw, ldx, ldd int
	w, xq             []byte
	xd                []float32
}

func newQ8Fixture(rng *rand.Rand, nb, pad int) q8Fixture {
	f := q8Fixture{nb: nb, ldw: nb*BlockQ8_0Bytes + pad, ldx: nb*QK8_0 + pad, ldd: nb + pad}
	f.w = make([]byte, 4*f.ldw+1)[1:] // odd address
	for r := 0; r < 4; r++ {
		copy(f.w[r*f.ldw:], randQ8Row(rng, nb))
	}
	f.xq = make([]byte, 3*f.ldx)
	f.xd = make([]float32, 3*f.ldd)
	for tok := 0; tok < 3; tok++ {
		quantSplitGeneric(f.xq[tok*f.ldx:tok*f.ldx+nb*QK8_0], f.xd[tok*f.ldd:tok*f.ldd+nb], randF32(rng, nb*QK8_0))
	}
	return f
}

func TestQ8MultiRowAsmMatchesGeneric(t *testing.T) {
	requireAVX2(t)
	rng := rand.New(rand.NewPCG(11, 12))
	for _, nb := range []int{0, 1, 2, 5, 18, 48} {
		for _, pad := range []int{0, 3} {
			f := newQ8Fixture(rng, nb, pad)
			want, got := make([]float32, 4), make([]float32, 4)
			q8x4Generic(f.w, f.ldw, f.xq, f.xd, nb, want)
			q8x4Asm(f.w, f.ldw, f.xq, f.xd, nb, got)
			for r := 0; r < 4; r++ {
				closeTo(t, want[r], got[r], nb, q8AbsSum(f.w[r*f.ldw:], f.xq, f.xd, nb), fmt.Sprintf("x4 nb=%d r=%d", nb, r))
			}
			const ldc = 7
			wantC, gotC := make([]float32, 3*ldc), make([]float32, 3*ldc)
			for i := range gotC {
				gotC[i], wantC[i] = -1, -1 // untouched cells must stay -1
			}
			q8x4x3Generic(f.w, f.ldw, f.xq, f.ldx, f.xd, f.ldd, nb, wantC, ldc)
			q8x4x3Asm(f.w, f.ldw, f.xq, f.ldx, f.xd, f.ldd, nb, gotC, ldc)
			for tok := 0; tok < 3; tok++ {
				for r := 0; r < ldc; r++ {
					if r >= 4 {
						assert.Equal(t, float32(-1), gotC[tok*ldc+r], "cell outside the tile written")
						continue
					}
					abs := q8AbsSum(f.w[r*f.ldw:], f.xq[tok*f.ldx:], f.xd[tok*f.ldd:], nb)
					closeTo(t, wantC[tok*ldc+r], gotC[tok*ldc+r], nb, abs, fmt.Sprintf("x4x3 nb=%d t=%d r=%d", nb, tok, r))
				}
			}
		}
	}
}

// TestFloatMultiRowAsmMatchesGeneric: the avx2 set's four-row float kernels
// and, where the CPU has them, the avx512 set's, against their pure-Go
// twins, with tails of every length below the vector width.
func TestFloatMultiRowAsmMatchesGeneric(t *testing.T) {
	requireAVX2(t)
	rng := rand.New(rand.NewPCG(13, 14))
	type kern struct {
		name  string
		esz   int
		x4    func(w []byte, ldw int, x []float32, n int, out []float32)
		x4g   func(w []byte, ldw int, x []float32, n int, out []float32)
		x4x3  func(w []byte, ldw int, x []float32, ldx, n int, c []float32, ldc int)
		x4x3g func(w []byte, ldw int, x []float32, ldx, n int, c []float32, ldc int)
		elem  func(w []byte, o int) float32
	}
	var kerns []kern
	for _, set := range []string{"avx2", "avx512"} {
		ks := sets[set]
		if ks == nil {
			continue
		}
		kerns = append(kerns,
			kern{set + " f16", 2, ks.f16x4, f16x4Generic, ks.f16x4x3, f16x4x3Generic, f16At},
			kern{set + " f32", 4, ks.f32x4, f32x4Generic, ks.f32x4x3, f32x4x3Generic, f32At})
	}
	for _, k := range kerns {
		for _, n := range testLens {
			ldw := n*k.esz + 12
			w := make([]byte, 4*ldw+1)[1:]
			for i := 0; i+k.esz <= len(w); i += k.esz {
				if k.esz == 2 {
					h := F32ToF16(float32(rng.NormFloat64()))
					w[i], w[i+1] = byte(h), byte(h>>8)
				} else {
					b := math.Float32bits(float32(rng.NormFloat64()))
					w[i], w[i+1], w[i+2], w[i+3] = byte(b), byte(b>>8), byte(b>>16), byte(b>>24)
				}
			}
			ldx := n + 5
			x := randF32(rng, 3*ldx+1)[1:]
			abs := func(r, tok int) float64 {
				var s float64
				for i := 0; i < n; i++ {
					s += math.Abs(float64(k.elem(w, r*ldw+i*k.esz)) * float64(x[tok*ldx+i]))
				}
				return s
			}
			want, got := make([]float32, 4), make([]float32, 4)
			k.x4g(w, ldw, x, n, want)
			k.x4(w, ldw, x, n, got)
			for r := 0; r < 4; r++ {
				closeTo(t, want[r], got[r], n, abs(r, 0), fmt.Sprintf("%s x4 n=%d r=%d", k.name, n, r))
			}
			const ldc = 5
			wantC, gotC := make([]float32, 3*ldc), make([]float32, 3*ldc)
			k.x4x3g(w, ldw, x, ldx, n, wantC, ldc)
			k.x4x3(w, ldw, x, ldx, n, gotC, ldc)
			for tok := 0; tok < 3; tok++ {
				for r := 0; r < 4; r++ {
					closeTo(t, wantC[tok*ldc+r], gotC[tok*ldc+r], n, abs(r, tok), fmt.Sprintf("%s x4x3 n=%d t=%d r=%d", k.name, n, tok, r))
				}
				assert.Zero(t, gotC[tok*ldc+4], "cell outside the tile written")
			}
		}
	}
}

func TestSumBytesAsmMatchesGeneric(t *testing.T) {
	requireAVX2(t)
	rng := rand.New(rand.NewPCG(15, 16))
	for _, n := range []int{0, 3, 8, 13, 256, 512, 4096, 4096 + 8, 4096 + 11} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		assert.Equal(t, sumBytesGeneric(b), sumBytesAsm(b), "n=%d", n)
	}
}

// TestWidestSetSelectedAtStartup: the default set is the widest one the
// CPU, the OS and (for AMX) the kernel's permission allow.
func TestWidestSetSelectedAtStartup(t *testing.T) {
	requireAVX2(t)
	want := "avx2"
	if hasAVX512Set() {
		want = "avx512"
		if amxStatus() == nil {
			want = "amx"
		}
	}
	assert.Equal(t, want, Best(), "amx: %v", amxErr)
	assert.Contains(t, Available(), "avx2")
	assert.Equal(t, hasAVX512Set(), slices.Contains(Available(), "avx512"))
	assert.Equal(t, want == "amx", slices.Contains(Available(), "amx"))
}

func TestAttentionRowsAsmMatchesGeneric(t *testing.T) {
	requireAVX2(t)
	rng := rand.New(rand.NewPCG(17, 18))
	for _, n := range []int{1, 7, 8, 16, 63, 64, 65, 72, 128, 136} {
		for _, rows := range []int{0, 1, 2, 5, 64} {
			stride := n + 3
			a := randF32(rng, n+1)[1:]
			b := randF32(rng, max(0, (rows-1)*stride+n)+1)[1:]
			want, got := make([]float32, rows), make([]float32, rows)
			dotRowsGeneric(want, a, b, stride)
			dotRowsAsm(got, a, b, stride)
			for j := range want {
				closeTo(t, want[j], got[j], n, absDotF32(a, b[j*stride:j*stride+n]), fmt.Sprintf("dotRows n=%d rows=%d j=%d", n, rows, j))
			}
			w := randF32(rng, rows)
			d0 := randF32(rng, n+1)[1:]
			d1 := append([]float32(nil), d0...)
			axpyRowsGeneric(d0, w, b, stride)
			axpyRowsAsm(d1, w, b, stride)
			for i := range d0 {
				abs := math.Abs(float64(d0[i]))
				for j := range w {
					abs += math.Abs(float64(w[j] * b[j*stride+i]))
				}
				closeTo(t, d0[i], d1[i], rows, abs, fmt.Sprintf("axpyRows n=%d rows=%d i=%d", n, rows, i))
			}
		}
	}
}

func expTestInputs(rng *rand.Rand) []float32 {
	xs := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0.5, -0.5, 88, 88.5, 88.7, 88.72, 88.7228, 88.73, 89, 100,
		-87, -87.3, -87.33, -87.34, -88, -100, -103, -104, -120,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-30, -1e-30}
	for i := 0; i < 4000; i++ {
		xs = append(xs, float32(rng.Float64()*180-90))
	}
	for i := 0; i < 1000; i++ {
		xs = append(xs, float32(rng.NormFloat64()))
	}
	// the half-way points of the range reduction
	for k := -125; k <= 127; k++ {
		xs = append(xs, float32((float64(k)+0.5)*math.Ln2))
	}
	return xs
}

func TestExpAsmBitIdenticalToGeneric(t *testing.T) {
	requireAVX2(t)
	rng := rand.New(rand.NewPCG(19, 20))
	xs := expTestInputs(rng)
	for _, n := range []int{len(xs), len(xs) - 3, 7, 8, 9, 0} {
		src := xs[len(xs)-n:]
		want, got := make([]float32, n), make([]float32, n)
		expSliceGeneric(want, src)
		expAsm(got, src)
		for i := range want {
			if math.IsNaN(float64(want[i])) {
				require.True(t, math.IsNaN(float64(got[i])), "exp(%g)", src[i])
				continue
			}
			require.Equal(t, math.Float32bits(want[i]), math.Float32bits(got[i]), "exp(%g): want %g got %g", src[i], want[i], got[i])
		}
	}
	g0 := append([]float32(nil), xs...)
	for i := range g0 {
		if math.IsNaN(float64(g0[i])) || math.IsInf(float64(g0[i]), 0) {
			g0[i] = 0
		}
	}
	u := randF32(rng, len(g0))
	g1 := append([]float32(nil), g0...)
	siluMulGeneric(g0, u)
	siluMulAsm(g1, u)
	for i := range g0 {
		require.Equal(t, math.Float32bits(g0[i]), math.Float32bits(g1[i]), "silu i=%d", i)
	}
}

func TestExpAsmInPlace(t *testing.T) {
	requireAVX2(t)
	rng := rand.New(rand.NewPCG(21, 22))
	xs := expTestInputs(rng)
	want := make([]float32, len(xs))
	expSliceGeneric(want, xs)
	got := append([]float32(nil), xs...)
	expAsm(got, got)
	for i := range want {
		if math.IsNaN(float64(want[i])) {
			assert.True(t, math.IsNaN(float64(got[i])))
			continue
		}
		require.Equal(t, math.Float32bits(want[i]), math.Float32bits(got[i]), "exp(%g) in place", xs[i])
	}
}
