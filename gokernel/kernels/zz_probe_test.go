package kernels

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

func threadCPU() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return ts.Nano()
}

func TestZZProbe(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rng := rand.New(rand.NewPCG(6, 6))
	p := NewPool(1)
	defer p.Close()
	for _, typ := range []Type{TypeQ8_0, TypeF16, TypeF32} {
		for _, sh := range []struct{ rows, cols int }{{576, 576}, {1536, 576}, {576, 1536}, {49152, 576}} {
			m := randMatrix(t, rng, typ, sh.rows, sh.cols)
			for _, nTok := range []int{1, 64} {
				x := randF32(rng, nTok*sh.cols)
				dst := make([]float32, nTok*sh.rows)
				p.MatMul(dst, m, x, nTok, nil)
				iters := max(1, 2e7/(sh.rows*sh.cols*nTok))
				best := int64(1 << 62)
				for rep := 0; rep < 25; rep++ {
					c0 := threadCPU()
					for i := 0; i < iters; i++ {
						p.MatMul(dst, m, x, nTok, nil)
					}
					best = min(best, (threadCPU()-c0)/int64(iters))
				}
				fl := 2 * float64(sh.rows*sh.cols*nTok)
				fmt.Printf("%v %dx%d nTok=%d: %d ns cpu/op  %.1f GFLOP/s  %.1f GB/s weights\n", typ, sh.rows, sh.cols, nTok, best, fl/float64(best), float64(len(m.Data))/float64(best))
			}
		}
	}
}
