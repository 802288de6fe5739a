package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Pool runs data-parallel work on a fixed number of threads. The Go kernel
// creates one per backend (sized to --threads) and splits every matrix
// multiply by output rows (and, for many tokens, by token tiles) across it.
//
// The workers are persistent goroutines; the calling goroutine takes part as
// worker 0. Handing out work allocates nothing and spawns nothing: the job
// is published through an atomic generation counter, every thread claims
// task indices from an atomic counter tagged with the generation, and the
// caller waits until all tasks are done. A worker that the OS has not
// scheduled yet is not waited for: the caller (or the other workers) take
// its tasks, which keeps the pool fast on a busy machine. Idle workers spin
// briefly (so back-to-back operations in a forward pass start without a
// wake-up) and then sleep on a channel.
//
// A Pool may be used from several goroutines; their operations run one at
// a time. The function given to For must not call back into the same Pool.
type Pool struct {
	threads int

	mu      sync.Mutex // serializes operations (one job at a time)
	gen     atomic.Uint64
	info    atomic.Uint64 // generation<<32 | number of tasks of the current job
	next    atomic.Uint64 // generation<<32 | next task index to claim
	done    atomic.Int64  // tasks of the current job finished
	closed  atomic.Bool
	once    sync.Once
	wg      sync.WaitGroup
	workers []poolWorker

	// The current job, written under mu before gen is bumped and stable
	// while any of its tasks is unfinished.
	kind  int
	forFn func(lo, hi int)
	forN  int
	forCh int
	mm    mmJob

	// Activation buffers reused across MatMul calls (guarded by mu).
	xq  []byte
	xd  []float32
	xa  []float32
	xc  []int32
	xdT []float32
	xb  []byte // bf16 tiles: the activations' A tiles (amxbf16.go)

	// scratch holds one conversion buffer per thread for the tasks of a
	// multiply (q8r16.go's tileConv, amxbf16.go's bf16 tasks): at most
	// threads tasks run at once, so a task always finds one, and a buffer
	// once grown is reused, allocation-free.
	scratch chan *[]byte
}

type poolWorker struct {
	sleeping atomic.Bool
	wake     chan struct{}
	_        [48]byte // keep workers' flags on separate cache lines
}

const (
	jobFor = iota
	jobMatMul
	jobQuant
)

// spinFor is how long an idle worker polls for the next job before it
// sleeps. A decode step issues a matrix multiply every few tens of
// microseconds, so this keeps workers hot within a forward pass while an
// idle pool costs no CPU.
const spinFor = 200 * time.Microsecond

// NewPool returns a pool of threads workers (at least 1); threads-1
// goroutines are started, the caller being the first worker.
func NewPool(threads int) *Pool {
	if threads < 1 {
		threads = 1
	}
	p := &Pool{threads: threads, workers: make([]poolWorker, threads), scratch: make(chan *[]byte, threads)}
	for range threads {
		p.scratch <- new([]byte)
	}
	for i := 1; i < threads; i++ {
		p.workers[i].wake = make(chan struct{}, 1)
		p.wg.Add(1)
		go p.worker(i, p.gen.Load())
	}
	return p
}

// Threads is the number of workers.
func (p *Pool) Threads() int { return p.threads }

// Close stops the workers and waits for them to exit. It is idempotent.
// Operations issued after Close still work, on the calling goroutine only.
func (p *Pool) Close() {
	p.once.Do(func() {
		p.mu.Lock()
		p.closed.Store(true)
		p.gen.Add(1)
		p.wakeAll()
		p.mu.Unlock()
		p.wg.Wait()
	})
}

func (p *Pool) wakeAll() {
	for i := 1; i < p.threads; i++ {
		w := &p.workers[i]
		if w.sleeping.CompareAndSwap(true, false) {
			w.wake <- struct{}{}
		}
	}
}

// worker runs jobs from generation seen+1 on; seen is read by NewPool, not
// here, so a job (or Close) issued before the goroutine first runs is not
// missed.
func (p *Pool) worker(id int, seen uint64) {
	defer p.wg.Done()
	w := &p.workers[id]
	for {
		seen = p.waitGen(w, seen)
		if p.closed.Load() {
			return
		}
		p.runTasks()
	}
}

// waitGen returns once the generation differs from seen: first spinning,
// then yielding, then asleep on the worker's channel.
func (p *Pool) waitGen(w *poolWorker, seen uint64) uint64 {
	var start time.Time
	for i := 0; ; i++ {
		if g := p.gen.Load(); g != seen {
			return g
		}
		if i&63 != 63 {
			continue
		}
		runtime.Gosched()
		if start.IsZero() {
			start = time.Now()
			continue
		}
		if time.Since(start) < spinFor {
			continue
		}
		w.sleeping.Store(true)
		if g := p.gen.Load(); g != seen {
			if !w.sleeping.CompareAndSwap(true, false) {
				<-w.wake // a waker claimed the flag and is sending
			}
			return g
		}
		<-w.wake
		start = time.Time{}
		i = 0
	}
}

// run executes tasks [0, ntasks) of the job described in p's fields on all
// workers and returns when every task is done. p.mu must be held.
func (p *Pool) run(ntasks int) {
	g := p.gen.Load() + 1
	p.done.Store(0)
	p.next.Store(g << 32)
	p.info.Store(g<<32 | uint64(ntasks))
	if p.threads > 1 && ntasks > 1 && !p.closed.Load() {
		p.gen.Store(g)
		p.wakeAll()
	} else {
		p.gen.Store(g)
	}
	p.runTasks()
	for i := 0; p.done.Load() != int64(ntasks); i++ {
		if i&63 == 63 {
			runtime.Gosched()
		}
	}
}

// runTasks claims and runs tasks of the current job until none is left. A
// claim is a compare-and-swap on next that also checks the generation, so
// a late worker can never take a task of a job other than the one whose
// task count it read; and a job's fields cannot change while a claimed task
// of it is unfinished, because the caller waits for all of them.
func (p *Pool) runTasks() {
	info := p.info.Load()
	g, n := info>>32, info&0xffffffff
	for {
		v := p.next.Load()
		if v>>32 != g || v&0xffffffff >= n {
			return
		}
		if !p.next.CompareAndSwap(v, v+1) {
			continue
		}
		i := int(v & 0xffffffff)
		switch p.kind {
		case jobFor:
			lo := i * p.forCh
			p.forFn(lo, min(lo+p.forCh, p.forN))
		case jobMatMul:
			p.mm.task(i)
		case jobQuant:
			p.mm.quantTask(i)
		}
		p.done.Add(1)
	}
}

// For splits [0, n) into at most Threads() contiguous chunks and runs
// fn(lo, hi) on each, returning when all are done.
func (p *Pool) For(n int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	t := min(p.threads, n)
	chunk := (n + t - 1) / t
	p.mu.Lock()
	defer p.mu.Unlock()
	p.kind = jobFor
	p.forFn, p.forN, p.forCh = fn, n, chunk
	p.run((n + chunk - 1) / chunk)
	p.forFn = nil
}
