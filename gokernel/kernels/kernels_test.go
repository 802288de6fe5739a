package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// useSet switches the active kernel set for one test and restores it.
func useSet(t testing.TB, name string) {
	t.Helper()
	prev := Name()
	require.NoError(t, Use(name))
	t.Cleanup(func() { _ = Use(prev) })
}

// randMatrix builds a rows x cols matrix of type typ with random values.
func randMatrix(t testing.TB, rng *rand.Rand, typ Type, rows, cols int) *Matrix {
	t.Helper()
	rb, err := RowBytes(typ, cols)
	require.NoError(t, err)
	data := make([]byte, rows*rb)
	row := make([]float32, cols)
	for r := 0; r < rows; r++ {
		for i := range row {
			row[i] = float32(rng.NormFloat64())
		}
		out := data[r*rb : (r+1)*rb]
		switch typ {
		case TypeF32:
			copy(out, F32Bytes(row))
		case TypeF16:
			for i, v := range row {
				h := F32ToF16(v)
				out[2*i], out[2*i+1] = byte(h), byte(h>>8)
			}
		case TypeQ8_0:
			quantizeQ8_0Generic(out, row)
		}
	}
	m, err := NewMatrix(typ, rows, cols, data)
	require.NoError(t, err)
	return m
}

// refMatMul is MatMul's float64 reference: weights dequantized and, for
// the types whose kernels quantize the activations (q8_0 and the block
// types; not f32, f16, bf16), the activations quantized to q8_0 and back
// as the kernels do. abs bounds the magnitude of the float32 terms the
// kernel adds: |w*x|, for the block types with the scale*value and bias
// parts counted apart.
func refMatMul(m *Matrix, x []float32, nTok int) (out, abs []float64) {
	out = make([]float64, nTok*m.Rows)
	abs = make([]float64, nTok*m.Rows)
	qt := quantTypes[m.Type]
	w, xt := make([]float32, m.Cols), make([]float32, m.Cols)
	qb := make([]byte, m.Cols/QK8_0*BlockQ8_0Bytes)
	q := make([]int8, m.Cols)
	s, b := make([]float32, m.Cols/sub), make([]float32, m.Cols/sub)
	for tk := 0; tk < nTok; tk++ {
		copy(xt, x[tk*m.Cols:(tk+1)*m.Cols])
		if m.Type == TypeQ8_0 || qt != nil {
			quantizeQ8_0Generic(qb, xt)
			DequantizeQ8_0(xt, qb)
		}
		for r := 0; r < m.Rows; r++ {
			m.DequantRow(r, w)
			if qt != nil {
				for o := 0; o < m.Cols; o += qt.block {
					qt.unpack(m.Row(r)[o/qt.block*qt.size:], q[o:], s[o/sub:], b[o/sub:])
				}
			}
			var sum, a float64
			for i := range w {
				sum += float64(w[i]) * float64(xt[i])
				if qt != nil {
					a += math.Abs(float64(s[i/sub])*float64(q[i])*float64(xt[i])) + math.Abs(float64(b[i/sub])*float64(xt[i]))
				} else {
					a += math.Abs(float64(w[i]) * float64(xt[i]))
				}
			}
			out[tk*m.Rows+r], abs[tk*m.Rows+r] = sum, a
		}
	}
	return out, abs
}

func TestPoolMatMulMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, set := range Available() {
		useSet(t, set)
		for _, typ := range []Type{TypeF32, TypeF16, TypeQ8_0} {
			colsList := []int{32, 64, 576}
			if typ != TypeQ8_0 {
				colsList = append(colsList, 1, 7, 33)
			}
			for _, cols := range colsList {
				for _, rows := range []int{1, 3, 4, 5, 37, 200} {
					m := randMatrix(t, rng, typ, rows, cols)
					// f32 summation of cols rounded terms, plus the q8_0
					// scale-product rounding.
					tol := func(abs float64) float64 { return 2*float64(cols+2)*u32*abs + 1e-6 }
					requireMatMulTokens(t, rng, m, []int{0, 1, 2, 3, 4, 7, 70}, []int{1, 3}, tol, fmt.Sprintf("%s %v %dx%d", set, typ, rows, cols))
				}
			}
		}
	}
}

func TestPoolMatMulLargeTokenCountTiles(t *testing.T) {
	// Enough tokens that the token dimension is split into several chunks.
	rng := rand.New(rand.NewPCG(23, 24))
	m := randMatrix(t, rng, TypeQ8_0, 8, 1536)
	nTok := 3*tileActBytes/1536 + 5
	requireMatMulTokens(t, rng, m, []int{nTok}, []int{2}, func(abs float64) float64 { return 2*1538*u32*abs + 1e-6 }, "q8_0 8x1536")
}

func TestMatMulGenericEntryPoints(t *testing.T) {
	// kernels.MatMul and MatMulRows (single-threaded, standard layout).
	rng := rand.New(rand.NewPCG(25, 26))
	for _, typ := range []Type{TypeF32, TypeF16, TypeQ8_0} {
		m := randMatrix(t, rng, typ, 9, 64)
		x := randF32(rng, 2*64)
		want, abs := refMatMul(m, x, 2)
		dst := make([]float32, 2*9)
		MatMul(dst, m, x, 2, make([]byte, 2*m.RowBytes))
		for i := range want {
			assert.InDelta(t, want[i], float64(dst[i]), 2*66*u32*abs[i]+1e-6, "%v i=%d", typ, i)
		}
	}
	bad := &Matrix{Type: Type(23), Rows: 1, Cols: 256, RowBytes: 136, Data: make([]byte, 136)}
	assert.PanicsWithValue(t, "kernels: MatMul on unsupported type type(23)", func() {
		MatMul(make([]float32, 1), bad, make([]float32, 256), 1, nil)
	})
}

func TestPoolMatMulBadInput(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	rng := rand.New(rand.NewPCG(27, 28))
	m := randMatrix(t, rng, TypeQ8_0, 4, 64)
	assert.PanicsWithError(t, "kernels: MatMul: x has 64 values, want 128 (2 tokens x 64 cols)", func() {
		p.MatMul(make([]float32, 8), m, make([]float32, 64), 2, nil)
	})
	assert.PanicsWithError(t, "kernels: MatMul: dst has 7 values, want 8 (2 tokens x 4 rows)", func() {
		p.MatMul(make([]float32, 7), m, make([]float32, 128), 2, nil)
	})
	assert.PanicsWithError(t, "kernels: MatMul: negative token count -1", func() {
		p.MatMul(nil, m, nil, -1, nil)
	})
	assert.PanicsWithError(t, "kernels: MatMul: nil matrix", func() {
		p.MatMul(nil, nil, nil, 1, nil)
	})
	short := &Matrix{Type: TypeF32, Rows: 2, Cols: 4, RowBytes: 16, Data: make([]byte, 16)}
	assert.PanicsWithError(t, "kernels: MatMul: 2x4 f32 matrix has 16 bytes, want 32", func() {
		p.MatMul(make([]float32, 2), short, make([]float32, 4), 1, nil)
	})
	bad := &Matrix{Type: Type(9), Rows: 1, Cols: 32, RowBytes: 36, Data: make([]byte, 36)}
	assert.PanicsWithError(t, "kernels: MatMul on unsupported type type(9)", func() {
		p.MatMul(make([]float32, 1), bad, make([]float32, 32), 1, nil)
	})
	skewed := &Matrix{Type: TypeQ8_0, Rows: 4, Cols: 64, RowBytes: 34, Data: make([]byte, 4*68)}
	assert.PanicsWithError(t, "kernels: MatMul: 4x64 q8_0 matrix has RowBytes 34, want 68", func() {
		p.MatMul(make([]float32, 4), skewed, make([]float32, 64), 1, nil)
	})
	oddCols := &Matrix{Type: TypeQ8_0, Rows: 1, Cols: 40, RowBytes: 34, Data: make([]byte, 34)}
	assert.PanicsWithError(t, "kernels: MatMul: 1x40 matrix: q8_0 row of 40 elements is not a multiple of 32", func() {
		p.MatMul(make([]float32, 1), oddCols, make([]float32, 40), 1, nil)
	})
	empty := &Matrix{Type: TypeF32, Rows: 0, Cols: 4, RowBytes: 16}
	assert.PanicsWithError(t, "kernels: MatMul: 0x4 matrix: dimensions must be positive", func() {
		p.MatMul(nil, empty, make([]float32, 4), 1, nil)
	})
	// The pool still works after the rejected calls.
	dst := make([]float32, 4)
	p.MatMul(dst, m, randF32(rng, 64), 1, nil)
}

func TestPoolForCoversRangeOnce(t *testing.T) {
	for _, threads := range []int{1, 2, 4} {
		p := NewPool(threads)
		for _, n := range []int{0, 1, 2, 3, 5, 100, 1001} {
			hits := make([]int32, n)
			var calls atomic.Int32
			p.For(n, func(lo, hi int) {
				calls.Add(1)
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&hits[i], 1)
				}
			})
			for i, h := range hits {
				require.Equal(t, int32(1), h, "threads=%d n=%d i=%d", threads, n, i)
			}
			assert.LessOrEqual(t, int(calls.Load()), threads)
		}
		p.Close()
	}
	assert.Equal(t, 1, NewPool(0).Threads(), "thread count is at least 1")
}

func TestPoolCloseIdempotentAndUsableAfter(t *testing.T) {
	p := NewPool(3)
	p.Close()
	p.Close()
	var n atomic.Int32
	p.For(10, func(lo, hi int) { n.Add(int32(hi - lo)) })
	assert.Equal(t, int32(10), n.Load())
	rng := rand.New(rand.NewPCG(29, 30))
	m := randMatrix(t, rng, TypeF32, 8, 16)
	x := randF32(rng, 16)
	dst := make([]float32, 8)
	p.MatMul(dst, m, x, 1, nil)
	want, abs := refMatMul(m, x, 1)
	for i := range want {
		assert.InDelta(t, want[i], float64(dst[i]), 2*18*u32*abs[i]+1e-6)
	}
}

func TestPoolWakesSleepingWorkers(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	for i := 0; i < 3; i++ {
		time.Sleep(3 * spinFor) // let the worker go to sleep
		var seen [2]atomic.Bool
		p.For(2, func(lo, hi int) { seen[lo].Store(true) })
		assert.True(t, seen[0].Load() && seen[1].Load())
	}
}

func TestPoolConcurrentCallers(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	rng := rand.New(rand.NewPCG(31, 32))
	m := randMatrix(t, rng, TypeQ8_0, 36, 64)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		x := randF32(rng, 5*64)
		want, abs := refMatMul(m, x, 5)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := 0; it < 20; it++ {
				dst := make([]float32, 5*36)
				p.MatMul(dst, m, x, 5, nil)
				for i := range want {
					if math.Abs(want[i]-float64(dst[i])) > 2*66*u32*abs[i]+1e-6 {
						t.Errorf("goroutine result %d: want %g got %g", i, want[i], dst[i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestPoolMatMulDoesNotAllocate(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	p := NewPool(2)
	defer p.Close()
	for _, typ := range []Type{TypeQ8_0, TypeF16, TypeF32} {
		m := randMatrix(t, rng, typ, 64, 576)
		for _, nTok := range []int{1, 64} {
			x := randF32(rng, nTok*576)
			dst := make([]float32, nTok*64)
			p.MatMul(dst, m, x, nTok, nil) // grow the buffers
			allocs := testing.AllocsPerRun(20, func() { p.MatMul(dst, m, x, nTok, nil) })
			assert.Zero(t, allocs, "%v nTok=%d", typ, nTok)
		}
	}
}

func TestUseAndName(t *testing.T) {
	prev := Name()
	defer func() { require.NoError(t, Use(prev)) }()
	require.NoError(t, Use("generic"))
	assert.Equal(t, "generic", Name())
	err := Use("avx9000")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"avx9000"`)
	assert.Equal(t, "generic", Name(), "a failed Use keeps the active set")
	assert.Contains(t, Available(), "generic")
	assert.Contains(t, Available(), Best())
	assert.NoError(t, EnvError(), "FAK_KERNEL is unset or valid in tests")
}

// TestISA checks that each set names the CPU features its code executes:
// none for the pure-Go set, what hasAVX2Set requires for the avx2 set,
// and the 512-bit and tile features on top for avx512 and amx.
func TestISA(t *testing.T) {
	want := map[string]string{
		"generic": "",
		"avx2":    "avx2,fma,f16c",
		"avx512":  "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512_vnni",
		"amx":     "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512_vnni,amx_tile,amx_int8",
	}
	if s := sets["amx"]; s != nil && s.bf16 != nil { // f16 and f32 prefill on bf16 tiles
		want["amx"] += ",amx_bf16,avx512_bf16"
	}
	for _, set := range Available() {
		useSet(t, set)
		w, known := want[set]
		require.True(t, known, "set %q has no expected ISA list in this test", set)
		assert.Equal(t, w, ISA(), set)
	}
}

func TestQuantizeRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	for _, set := range Available() {
		useSet(t, set)
		x := randF32(rng, 4*QK8_0)
		q := make([]byte, 4*BlockQ8_0Bytes)
		QuantizeQ8_0(q, x)
		back := make([]float32, len(x))
		DequantizeQ8_0(back, q)
		for b := 0; b < 4; b++ {
			var amax float64
			for _, v := range x[b*QK8_0 : (b+1)*QK8_0] {
				amax = max(amax, math.Abs(float64(v)))
			}
			for i := b * QK8_0; i < (b+1)*QK8_0; i++ {
				// half a step of amax/127, plus the f16 rounding of the scale
				assert.InDelta(t, x[i], back[i], amax/127*0.5+amax*1e-3, "%s i=%d", set, i)
			}
		}
	}
}

func TestExportedKernelsUseActiveSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(37, 38))
	a, b := randF32(rng, 100), randF32(rng, 100)
	w16 := randF16Bytes(rng, 100)
	for _, set := range Available() {
		useSet(t, set)
		closeTo(t, dotF32Generic(a, b), DotF32(a, b), 100, absDotF32(a, b), set+" DotF32")
		closeTo(t, dotF16Generic(w16, a), DotF16(w16, a), 100, 1000, set+" DotF16")
		d0 := append([]float32(nil), b...)
		Axpy(d0, 0.5, a)
		for i := range d0 {
			assert.InDelta(t, b[i]+0.5*a[i], d0[i], 1e-5)
		}
		wq := randQ8Row(rng, 3)
		xq := make([]byte, 3*BlockQ8_0Bytes)
		QuantizeQ8_0(xq, randF32(rng, 96))
		assert.InDelta(t, dotQ8_0Generic(wq, xq), DotQ8_0(wq, xq), 1e-3)
	}
}

func TestMeasureBandwidth(t *testing.T) {
	gbs := MeasureBandwidth(4<<20, 2)
	assert.Greater(t, gbs, 0.0)
	assert.False(t, math.IsInf(gbs, 0) || math.IsNaN(gbs))
	assert.Greater(t, MeasureBandwidth(0, 0), 0.0, "tiny sizes are raised to 1 MiB, threads to 1")
}

func ExampleUse() {
	if err := Use("generic"); err != nil {
		fmt.Println(err)
	}
	fmt.Println(Name())
	_ = Use(Best())
	// Output: generic
}

func TestPoolCloseRightAfterNew(t *testing.T) {
	// Close (or a job) issued before the worker goroutines first run must
	// not be missed by them.
	for i := 0; i < 50; i++ {
		NewPool(3).Close()
		p := NewPool(2)
		var n atomic.Int32
		p.For(2, func(lo, hi int) { n.Add(1) })
		p.Close()
		require.Equal(t, int32(2), n.Load())
	}
}

func TestAttentionRowKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(39, 40))
	for _, set := range Available() {
		useSet(t, set)
		const hd, stride, rows = 64, 192, 10
		q := randF32(rng, hd)
		kv := randF32(rng, (rows-1)*stride+hd)
		scores := make([]float32, rows)
		DotRowsF32(scores, q, kv, stride)
		for j := range scores {
			assert.InDelta(t, dotF32Generic(q, kv[j*stride:j*stride+hd]), scores[j], 1e-4, "%s score %d", set, j)
		}
		out := make([]float32, hd)
		AxpyRowsF32(out, scores, kv, stride)
		for i := range out {
			var want float64
			for j := range scores {
				want += float64(scores[j]) * float64(kv[j*stride+i])
			}
			assert.InDelta(t, want, out[i], 1e-3, "%s out %d", set, i)
		}
		assert.PanicsWithValue(t, "kernels: DotRowsF32: 10 rows of 64 values at stride 192 need 1792 values, have 1791", func() {
			DotRowsF32(scores, q, kv[:len(kv)-1], stride)
		})
		assert.PanicsWithValue(t, "kernels: AxpyRowsF32: stride 32 is shorter than a row of 64 values", func() {
			AxpyRowsF32(out, scores, kv, 32)
		})
		DotRowsF32(nil, q, nil, stride) // no rows: nothing to do
		AxpyRowsF32(out, nil, nil, stride)
	}
}

func TestPoolRapidJobsRunEachTaskOnce(t *testing.T) {
	// Back-to-back jobs of different sizes: a worker that wakes late must
	// not run a task of the wrong job or run a task twice.
	p := NewPool(3)
	defer p.Close()
	for it := 0; it < 2000; it++ {
		n := 1 + it%5
		hits := make([]int32, n)
		p.For(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				atomic.AddInt32(&hits[i], 1)
			}
		})
		for i, h := range hits {
			require.Equal(t, int32(1), h, "job %d index %d", it, i)
		}
	}
}

func TestExpF32sAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, set := range Available() {
		useSet(t, set)
		xs := make([]float32, 3000)
		for i := range xs {
			xs[i] = float32(rng.Float64()*170 - 85)
		}
		xs = append(xs, 88.72, -87.3, -95, 90, float32(math.Inf(-1)))
		got := make([]float32, len(xs))
		ExpF32s(got, xs)
		for i, x := range xs {
			want := math.Exp(float64(x))
			switch {
			case x > expHi:
				assert.True(t, math.IsInf(float64(got[i]), 1), "%s exp(%g) overflows", set, x)
			case want < 0x1p-126: // subnormal: float64 path, rounded once
				assert.InDelta(t, want, float64(got[i]), 0x1p-149, "%s exp(%g)", set, x)
			default:
				assert.InEpsilon(t, want, float64(got[i]), 4e-7, "%s exp(%g)", set, x)
			}
		}
		g := []float32{-3, 0, 2, 20}
		u := []float32{1, 2, 0.5, -1}
		SiLUMulF32(g, u)
		for i, v := range []float64{-3, 0, 2, 20} {
			want := v / (1 + math.Exp(-v)) * float64(u[i])
			assert.InDelta(t, want, float64(g[i]), 1e-6*math.Max(1, math.Abs(want)), "%s silu(%g)", set, v)
		}
	}
}

func TestAxpyRowsF16(t *testing.T) {
	rng := rand.New(rand.NewPCG(47, 48))
	for _, set := range Available() {
		useSet(t, set)
		for _, n := range []int{1, 7, 8, 9, 16, 32, 63, 64, 65, 72, 80, 127, 130} {
			for _, rows := range []int{0, 1, 2, 5, 64} {
				stride := n + rng.IntN(20)
				x := randF16Bytes(rng, max(0, (rows-1)*stride+n))
				w := randF32(rng, rows)
				dst := randF32(rng, n+1)
				dst[n] = 42 // sentinel
				orig := slices.Clone(dst)
				AxpyRowsF16(dst[:n], w, x, stride)
				require.Equal(t, float32(42), dst[n], "%s: wrote past dst", set)
				for i := 0; i < n; i++ {
					want, abs := float64(orig[i]), math.Abs(float64(orig[i]))
					for j := 0; j < rows; j++ {
						p := float64(w[j]) * float64(f16At(x, 2*(j*stride+i)))
						want += p
						abs += math.Abs(p)
					}
					closeTo(t, float32(want), dst[i], 2*rows, abs, fmt.Sprintf("%s n=%d rows=%d out %d", set, n, rows, i))
				}
			}
		}
		assert.PanicsWithValue(t, "kernels: AxpyRowsF16: 3 rows of 64 values at stride 64 need 192 values, have 191", func() {
			AxpyRowsF16(make([]float32, 64), make([]float32, 3), make([]byte, 2*191), 64)
		})
	}
}

func TestF32ToF16s(t *testing.T) {
	rng := rand.New(rand.NewPCG(49, 50))
	vals := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 65504, 65520, 65519.99, 1e6, -1e6,
		float32(math.Inf(1)), float32(math.Inf(-1)), 6.1e-5, 5.96e-8, 2.98e-8, 2.99e-8, 1e-9, 0.1, 1.0009765625,
		1.00048828125, 1.00146484375, float32(math.NaN())}
	for i := 0; i < 3000; i++ {
		// Random exponents across the whole f16 range and beyond, and raw
		// bit patterns for ties and subnormals.
		vals = append(vals, float32(rng.NormFloat64()*math.Pow(2, float64(rng.IntN(50)-30))),
			math.Float32frombits(rng.Uint32()))
	}
	for _, set := range Available() {
		useSet(t, set)
		for _, n := range []int{0, 1, 7, 8, 9, 17, len(vals)} {
			src := vals[:n]
			dst := make([]byte, 2*n+2)
			dst[2*n], dst[2*n+1] = 0xAB, 0xCD
			F32ToF16s(dst[:2*n], src)
			require.Equal(t, []byte{0xAB, 0xCD}, dst[2*n:], "%s: wrote past dst", set)
			for i, v := range src {
				got := binary.LittleEndian.Uint16(dst[2*i:])
				want := F32ToF16(v)
				if v != v {
					assert.True(t, got&0x7c00 == 0x7c00 && got&0x3ff != 0, "%s: NaN at %d gave %#04x", set, i, got)
					continue
				}
				require.Equal(t, want, got, "%s: F32ToF16s(%g) (bits %#08x) at %d", set, v, math.Float32bits(v), i)
			}
		}
		assert.PanicsWithValue(t, "kernels: F32ToF16s: 3 values need 6 bytes, have 5", func() {
			F32ToF16s(make([]byte, 5), make([]float32, 3))
		})
	}
}

func TestScaleMaxAndExpShiftSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	for _, n := range []int{0, 1, 7, 8, 9, 16, 63, 64, 65, 200} {
		x := make([]float32, n)
		for i := range x {
			// Scores spread wide enough that some numerators underflow.
			x[i] = float32(rng.NormFloat64() * 80)
		}
		const scale = 0.5
		var wantX []float32
		var wantMax float32
		for si, set := range Available() {
			useSet(t, set)
			got := slices.Clone(x)
			m := ScaleMaxF32s(got, scale)
			if n == 0 {
				assert.True(t, math.IsInf(float64(m), -1), "%s: empty max", set)
			}
			want := float32(math.Inf(-1))
			for i, v := range x {
				require.Equal(t, v*scale, got[i], "%s n=%d: scaled %d", set, n, i)
				want = max(want, v*scale)
			}
			require.Equal(t, want, m, "%s n=%d: max", set, n)

			sum := ExpShiftSumF32s(got, m)
			var wantSum, absSum float64
			for i, v := range x {
				arg := v*scale - m
				e := float32(0)
				if arg >= expLo {
					e = expF32Generic(arg)
				}
				// The exponentials are ExpF32s's bit for bit; underflow is 0.
				require.Equal(t, e, got[i], "%s n=%d: exp(%g) at %d", set, n, arg, i)
				wantSum += float64(e)
				absSum += math.Abs(float64(e))
			}
			closeTo(t, float32(wantSum), sum, n, absSum, fmt.Sprintf("%s n=%d sum", set, n))
			// Every set gives the same numerators.
			if si == 0 {
				wantX, wantMax = got, m
			} else {
				assert.Equal(t, wantX, got, "%s n=%d: numerators differ between sets", set, n)
				assert.Equal(t, wantMax, m)
			}
		}
	}
}
