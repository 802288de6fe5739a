package kernels

import (
	"sync/atomic"
	"time"
)

// bandwidthSink keeps the checksums of MeasureBandwidth observable.
var bandwidthSink atomic.Uint64

// MeasureBandwidth estimates the node's memory read bandwidth in GB/s
// (1e9 bytes per second): threads goroutines each stream their share of a
// buffer of about bytes bytes (rounded up to whole 256-byte lines per
// thread, at least 1 MiB; use several times the last-level cache to measure
// memory rather than cache), and the best of several passes is reported.
// It allocates and fills the buffer on each call.
//
// It is not the reports' figure: the decode roofline of every report and
// the node manifest divide by internal/host.MeasureMemBandwidth, a parallel
// copy (bytes read + written) that any backend is measured against. This
// one stays with the kernels because it measures what they can reach:
// the read-only stream of the kernels' own SIMD loads (sumBytes, assembly
// on amd64), the ceiling of a weight-streaming GEMV, which the kernel
// benchmarks and docs/kernels.md compare the decode kernels with.
func MeasureBandwidth(bytes int, threads int) (gbs float64) {
	const passes = 5
	threads = max(1, threads)
	per := max(bytes, 1<<20)/threads + 255
	per &^= 255
	buf := make([]byte, per*threads)
	for i := range buf { // touch every page so reads hit real memory
		buf[i] = byte(i*7 + 1)
	}
	ks := cur()
	p := NewPool(threads)
	defer p.Close()
	sums := make([]uint64, threads)
	best := time.Duration(1<<63 - 1)
	for pass := 0; pass < passes; pass++ {
		start := time.Now()
		p.For(threads, func(lo, hi int) {
			for t := lo; t < hi; t++ {
				sums[t] += ks.sumBytes(buf[t*per : (t+1)*per])
			}
		})
		best = min(best, time.Since(start))
	}
	var s uint64
	for _, v := range sums {
		s += v
	}
	bandwidthSink.Add(s)
	return float64(len(buf)) / best.Seconds() / 1e9
}
