package host

import (
	"slices"
	"sync"
	"time"
)

// BandwidthPasses is how many single copy passes MeasureMemBandwidth
// times; BandwidthStatistic says how they become the figure.
const (
	BandwidthPasses    = 5
	BandwidthStatistic = "median of 5 single passes"
	// BandwidthMethod says what one pass measures.
	BandwidthMethod = "Go copy of a buffer far larger than the caches split across the threads, bytes read + written"
)

// BandwidthBytes is the buffer size MeasureMemBandwidth is given: 256 MiB,
// 64 MiB for a short run; both far larger than the caches.
func BandwidthBytes(short bool) int64 {
	if short {
		return 64 << 20
	}
	return 256 << 20
}

// Bandwidth is one measurement of the node's memory bandwidth.
type Bandwidth struct {
	// GBs is the figure (GB/s, 1e9 bytes per second): the median of
	// SamplesGBs (Statistic).
	GBs        float64
	SamplesGBs []float64
	Bytes      int64
	Threads    int
	Statistic  string
}

// MeasureMemBandwidth measures the node's memory bandwidth in GB/s:
// threads goroutines each copy their share of a buffer of size bytes (far
// larger than the caches), counting the bytes read and written, in
// BandwidthPasses timed passes; the figure is their median, and every pass
// is kept. A size too small to give each thread a byte gives the zero
// Bandwidth.
//
// This is the figure every report and the node manifest record, and the
// decode roofline divides by; `fakbench run`, `tune` and the node bench all
// take it from here. gokernel/kernels.MeasureBandwidth is a different
// quantity on purpose: the read-only streaming rate of the kernels' own
// SIMD loads, what a weight-streaming GEMV can reach, which the kernel
// benchmarks compare against.
func MeasureMemBandwidth(size int64, threads int) Bandwidth {
	threads = max(threads, 1)
	if size <= 0 {
		return Bandwidth{}
	}
	per := int(size / 2 / int64(threads))
	if per <= 0 {
		return Bandwidth{}
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
	b := Bandwidth{Bytes: size, Threads: threads, Statistic: BandwidthStatistic}
	for range BandwidthPasses {
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
		gbs := 0.0
		if el > 0 {
			gbs = float64(2*per*threads) / el / 1e9
		}
		b.SamplesGBs = append(b.SamplesGBs, gbs)
	}
	b.GBs = median(b.SamplesGBs)
	return b
}

// median is the middle of xs (the mean of the two middle values for an
// even count), 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
