package kernels

import "sync"

// Pool runs data-parallel work on a fixed number of threads. The Go kernel
// creates one per backend (sized to --threads) and splits every matrix
// multiply by output rows across it.
//
// This is the simple version: goroutines per call. It is replaced by a
// persistent worker pool without per-call allocation in the SIMD work.
type Pool struct {
	threads int
}

// NewPool returns a pool of threads workers (at least 1).
func NewPool(threads int) *Pool {
	if threads < 1 {
		threads = 1
	}
	return &Pool{threads: threads}
}

// Threads is the number of workers.
func (p *Pool) Threads() int { return p.threads }

// Close stops the workers. It is idempotent.
func (p *Pool) Close() {}

// For splits [0, n) into at most Threads() contiguous chunks and runs
// fn(lo, hi) on each, returning when all are done.
func (p *Pool) For(n int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	t := min(p.threads, n)
	if t == 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + t - 1) / t
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

// MatMul is kernels.MatMul split by output rows across the pool.
func (p *Pool) MatMul(dst []float32, w *Matrix, x []float32, nTok int, scratch []byte) {
	if w.Type == TypeQ8_0 {
		qb := w.RowBytes
		for t := 0; t < nTok; t++ {
			quantQ8_0(scratch[t*qb:(t+1)*qb], x[t*w.Cols:(t+1)*w.Cols])
		}
	}
	p.For(w.Rows, func(lo, hi int) {
		MatMulRows(dst, w, x, nTok, scratch, lo, hi, false)
	})
}
