package host

import (
	"sync"
	"time"
)

// MeasureMemBandwidth estimates the node's memory bandwidth in GB/s (1e9
// bytes per second): threads goroutines each copy their share of a buffer
// of size bytes (far larger than the caches), counting the bytes read and
// written, and the best of rounds passes is kept. It returns 0 when size or
// rounds is not positive.
//
// This is the figure every report and the node manifest record, and the
// decode roofline divides by. gokernel/kernels.MeasureBandwidth is a
// different quantity on purpose: the read-only streaming rate of the
// kernels' own SIMD loads, what a weight-streaming GEMV can reach, which
// the kernel benchmarks compare against.
func MeasureMemBandwidth(size int64, threads, rounds int) float64 {
	if size <= 0 || rounds <= 0 {
		return 0
	}
	threads = max(threads, 1)
	per := int(size / 2 / int64(threads))
	if per <= 0 {
		return 0
	}
	type pair struct{ src, dst []byte }
	bufs := make([]pair, threads)
	for i := range bufs {
		bufs[i] = pair{make([]byte, per), make([]byte, per)}
		for j := 0; j < per; j += 4096 {
			bufs[i].src[j] = byte(j) // touch every page before timing
			bufs[i].dst[j] = 0
		}
	}
	best := 0.0
	for round := 0; round < rounds; round++ {
		var wg sync.WaitGroup
		start := time.Now()
		for i := range bufs {
			wg.Add(1)
			go func(p pair) {
				defer wg.Done()
				copy(p.dst, p.src)
			}(bufs[i])
		}
		wg.Wait()
		el := time.Since(start).Seconds()
		if el > 0 {
			best = max(best, float64(2*per*threads)/el/1e9)
		}
	}
	return best
}
