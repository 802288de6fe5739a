//go:build linux

package kernels

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

func threadCPUNanos() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return ts.Nano()
}

// BenchmarkMatMulThreadCPU measures single-threaded Pool.MatMul by the
// thread's CPU time instead of the wall clock, so figures taken on a busy
// shared machine still say what the kernels cost: cpu-ns/op, GFLOP/s per
// core and, for nTok=1, weight GB/s per core. Each op is timed on its own
// and the fastest is kept (interference only ever adds time).
func BenchmarkMatMulThreadCPU(b *testing.B) {
	shapes := []struct{ rows, cols int }{{576, 576}, {1536, 576}, {576, 1536}, {49152, 576}}
	rng := rand.New(rand.NewPCG(8, 8))
	for _, typ := range []Type{TypeQ8_0, TypeQ4_0, TypeQ5_K, TypeQ6_K, TypeF16, TypeF32} {
		for _, sh := range shapes {
			var m *Matrix
			if qt := quantTypes[typ]; qt != nil { // packed types: cols a multiple of the block
				if sh.cols%qt.block != 0 {
					continue
				}
				var err error
				m, err = NewMatrix(typ, sh.rows, sh.cols, randBlocks(b, rng, typ, sh.rows*sh.cols))
				if err != nil {
					b.Fatal(err)
				}
			} else {
				m = randMatrix(b, rng, typ, sh.rows, sh.cols)
			}
			for _, nTok := range []int{1, 64} {
				x := randF32(rng, nTok*sh.cols)
				dst := make([]float32, nTok*sh.rows)
				b.Run(fmt.Sprintf("%v/%dx%d/nTok=%d", typ, sh.rows, sh.cols, nTok), func(b *testing.B) {
					benchSets(b, func(b *testing.B) {
						if Name() == "generic" && sh.rows == 49152 && nTok == 64 {
							b.Skip("generic at this size takes seconds per op; the smaller shapes show the ratio")
						}
						runtime.LockOSThread()
						defer runtime.UnlockOSThread()
						p := NewPool(1)
						defer p.Close()
						p.MatMul(dst, m, x, nTok, nil)
						best := int64(1 << 62)
						for b.Loop() {
							c0 := threadCPUNanos()
							p.MatMul(dst, m, x, nTok, nil)
							best = min(best, threadCPUNanos()-c0)
						}
						flops := 2 * float64(sh.rows) * float64(sh.cols) * float64(nTok)
						b.ReportMetric(float64(best), "cpu-ns/op")
						b.ReportMetric(flops/float64(best), "GFLOP/s/core")
						if nTok == 1 {
							b.ReportMetric(float64(len(m.Data))/float64(best), "GB/s/core")
						}
					})
				})
			}
		}
	}
}
