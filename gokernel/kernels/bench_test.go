package kernels

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// Kernel benchmarks. Run them with, for example,
//
//	go test ./gokernel/kernels -run '^$' -bench . -benchtime 200ms
//
// Every benchmark runs once per kernel set this CPU has (generic and the
// SIMD set), so one run gives the SIMD speedup. Vector kernels report GB/s
// of the bytes they read; Pool.MatMul reports GFLOP/s (2 flops per
// multiply-add) and, for nTok=1, the weight bytes streamed (GB/s).

func benchSets(b *testing.B, fn func(b *testing.B)) {
	for _, set := range Available() {
		b.Run(set, func(b *testing.B) {
			useSet(b, set)
			fn(b)
		})
	}
}

// benchRowLens benchmarks every kernel set at the two row lengths of
// SmolLM2-135M's matrices, n = 576 and 1536 values: setup makes the
// operands of n values once and returns the benchmark body.
func benchRowLens(b *testing.B, setup func(n int) func(b *testing.B)) {
	for _, n := range []int{576, 1536} {
		fn := setup(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchSets(b, fn) })
	}
}

var benchSink float32

func BenchmarkDotF32(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	benchRowLens(b, func(n int) func(b *testing.B) {
		x, y := randF32(rng, n), randF32(rng, n)
		return func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				benchSink += DotF32(x, y)
			}
		}
	})
}

func BenchmarkDotF16(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	benchRowLens(b, func(n int) func(b *testing.B) {
		w, x := randF16Bytes(rng, n), randF32(rng, n)
		return func(b *testing.B) {
			b.SetBytes(int64(6 * n))
			for b.Loop() {
				benchSink += DotF16(w, x)
			}
		}
	})
}

func BenchmarkDotQ8_0(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	benchRowLens(b, func(n int) func(b *testing.B) {
		w := randQ8Row(rng, n/QK8_0)
		x := make([]byte, len(w))
		QuantizeQ8_0(x, randF32(rng, n))
		return func(b *testing.B) {
			b.SetBytes(int64(2 * len(w)))
			for b.Loop() {
				benchSink += DotQ8_0(w, x)
			}
		}
	})
}

func BenchmarkQuantizeQ8_0(b *testing.B) {
	rng := rand.New(rand.NewPCG(4, 4))
	x := randF32(rng, 1536)
	dst := make([]byte, 1536/QK8_0*BlockQ8_0Bytes)
	benchSets(b, func(b *testing.B) {
		b.SetBytes(4 * 1536)
		for b.Loop() {
			QuantizeQ8_0(dst, x)
		}
	})
}

func BenchmarkAxpy(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 5))
	x, y := randF32(rng, 1536), randF32(rng, 1536)
	benchSets(b, func(b *testing.B) {
		b.SetBytes(12 * 1536)
		for b.Loop() {
			Axpy(y, 1e-9, x)
		}
	})
}

// BenchmarkPoolMatMul runs Pool.MatMul at the SmolLM2-135M shapes (rows x
// cols): attention q/o 576x576, FFN gate/up 1536x576, FFN down 576x1536, the
// output head 49152x576; nTok=1 is a decode step, nTok=64 a prefill batch.
// The K-quants (q5_K, q6_K: 256-value blocks) run the shapes with 1536
// columns only.
func BenchmarkPoolMatMul(b *testing.B) {
	shapes := []struct{ rows, cols int }{{576, 576}, {1536, 576}, {576, 1536}, {49152, 576}}
	threads := min(2, runtime.GOMAXPROCS(0))
	rng := rand.New(rand.NewPCG(6, 6))
	for _, typ := range []Type{TypeQ8_0, TypeQ4_0, TypeQ5_K, TypeQ6_K, TypeF16, TypeF32} {
		for _, sh := range shapes {
			var m *Matrix
			if qt := quantTypes[typ]; qt != nil {
				if sh.cols%qt.block != 0 {
					continue
				}
				var err error
				m, err = NewMatrix(typ, sh.rows, sh.cols, randBlocks(b, rng, typ, sh.rows*sh.cols))
				require.NoError(b, err)
			} else {
				m = randMatrix(b, rng, typ, sh.rows, sh.cols)
			}
			for _, nTok := range []int{1, 64, 512} {
				x := randF32(rng, nTok*sh.cols)
				dst := make([]float32, nTok*sh.rows)
				name := fmt.Sprintf("%v/%dx%d/nTok=%d", typ, sh.rows, sh.cols, nTok)
				b.Run(name, func(b *testing.B) {
					benchSets(b, func(b *testing.B) {
						if Name() == "generic" && (sh.rows == 49152 && nTok > 1 || nTok > 64) {
							b.Skip("generic at this size takes seconds per op; the smaller shapes show the ratio")
						}
						// A fresh matrix per set: Prepare lays it out
						// for the set active at its first use.
						m, err := NewMatrix(m.Type, m.Rows, m.Cols, m.Data)
						require.NoError(b, err)
						p := NewPool(threads)
						defer p.Close()
						p.MatMul(dst, m, x, nTok, nil)
						b.ReportAllocs()
						if nTok == 1 {
							b.SetBytes(int64(len(m.Data)))
						}
						b.ResetTimer()
						for b.Loop() {
							p.MatMul(dst, m, x, nTok, nil)
						}
						flops := 2 * float64(sh.rows) * float64(sh.cols) * float64(nTok)
						b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					})
				})
			}
		}
	}
}

// BenchmarkMeasureBandwidth reports MeasureBandwidth on a 256 MiB buffer
// (several times the last-level cache) with 1 and 2 threads.
func BenchmarkMeasureBandwidth(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			var best float64
			for b.Loop() {
				best = max(best, MeasureBandwidth(256<<20, threads))
			}
			b.ReportMetric(best, "GB/s")
		})
	}
}

// BenchmarkAttentionRows scores one 64-wide query head against a block of 64
// keys (stride 192, the smol135m-untied KV width) and accumulates 64 value rows:
// the inner loop of attention, one call each instead of 64.
func BenchmarkAttentionRows(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 7))
	const hd, stride, rows = 64, 192, 64
	q := randF32(rng, hd)
	kv := randF32(rng, (rows-1)*stride+hd)
	scores := make([]float32, rows)
	out := make([]float32, hd)
	b.Run("DotRowsF32", func(b *testing.B) {
		benchSets(b, func(b *testing.B) {
			b.SetBytes(4 * hd * rows)
			for b.Loop() {
				DotRowsF32(scores, q, kv, stride)
			}
		})
	})
	b.Run("DotF32-loop", func(b *testing.B) {
		benchSets(b, func(b *testing.B) {
			b.SetBytes(4 * hd * rows)
			for b.Loop() {
				for j := range scores {
					scores[j] = DotF32(q, kv[j*stride:j*stride+hd])
				}
			}
		})
	})
	b.Run("AxpyRowsF32", func(b *testing.B) {
		benchSets(b, func(b *testing.B) {
			b.SetBytes(4 * hd * rows)
			for b.Loop() {
				AxpyRowsF32(out, scores, kv, stride)
			}
		})
	})
	kv16 := make([]byte, 2*len(kv))
	F32ToF16s(kv16, kv)
	b.Run("AxpyRowsF16", func(b *testing.B) {
		benchSets(b, func(b *testing.B) {
			b.SetBytes(2 * hd * rows)
			for b.Loop() {
				AxpyRowsF16(out, scores, kv16, stride)
			}
		})
	})
	kt := make([]byte, 2*hd*KeyBlock)
	for j := 0; j < KeyBlock; j++ {
		PutKeyT(kt, j, kv[j*stride:j*stride+hd])
	}
	sc3 := make([]float32, 3*KeyBlock)
	q3 := randF32(rng, 3*hd)
	b.Run("ScoresF16T-3q", func(b *testing.B) {
		benchSets(b, func(b *testing.B) {
			b.SetBytes(2 * hd * KeyBlock)
			for b.Loop() {
				ScoresF16T(sc3, q3, hd, 3, kt, hd)
			}
		})
	})
	acc3 := make([]float32, 3*(hd+2))
	b.Run("AxpyRowsF16Heads-3h", func(b *testing.B) {
		benchSets(b, func(b *testing.B) {
			b.SetBytes(2 * hd * rows)
			for b.Loop() {
				AxpyRowsF16Heads(acc3, hd+2, hd, sc3, KeyBlock, 3, kv16, stride, rows)
			}
		})
	})
	b.Run("Axpy-loop", func(b *testing.B) {
		benchSets(b, func(b *testing.B) {
			b.SetBytes(4 * hd * rows)
			for b.Loop() {
				for j, w := range scores {
					Axpy(out, w, kv[j*stride:j*stride+hd])
				}
			}
		})
	})
}

// BenchmarkPoolDispatch is the fixed cost of one Pool operation with
// trivial work: publish, wake (workers spinning), join.
func BenchmarkPoolDispatch(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			p := NewPool(threads)
			defer p.Close()
			var sink [2]int
			fn := func(lo, hi int) { sink[lo]++ }
			b.ReportAllocs()
			for b.Loop() {
				p.For(threads, fn)
			}
		})
	}
}

// BenchmarkExpF32s is the exp of 1536 values (one token's SwiGLU gate).
func BenchmarkExpF32s(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 9))
	x := randF32(rng, 1536)
	dst := make([]float32, 1536)
	benchSets(b, func(b *testing.B) {
		b.SetBytes(8 * 1536)
		for b.Loop() {
			ExpF32s(dst, x)
		}
	})
}

// BenchmarkSiLUMulF32 is one token's SwiGLU gate (1536 values).
func BenchmarkSiLUMulF32(b *testing.B) {
	rng := rand.New(rand.NewPCG(10, 10))
	g0, u := randF32(rng, 1536), randF32(rng, 1536)
	g := make([]float32, 1536)
	benchSets(b, func(b *testing.B) {
		b.SetBytes(8 * 1536)
		for b.Loop() {
			copy(g, g0)
			SiLUMulF32(g, u)
		}
	})
}
