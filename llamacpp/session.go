package llamacpp

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/fakbench/fakbench/transport"
	"github.com/fakbench/fakbench/transport/session"
)

// seq is the sequence id a session uses in its own context.
const seq = 0

// Session is one llama_context (one KV cache) on a Backend. It implements
// transport.Session and transport.LogitsReader through the shared session
// core, which tracks the resident tokens in Go; llama.cpp's memory is
// trimmed to match with llama_memory_seq_rm.
type Session struct {
	*session.Core
	b      *Backend
	nc     *nativeCtx
	cancel *canceller
}

var (
	_ transport.Session        = (*Session)(nil)
	_ transport.LogitsReader   = (*Session)(nil)
	_ transport.CacheInspector = (*Session)(nil)
	_ session.Inspector        = (*engine)(nil)
)

func newSession(b *Backend, nc *nativeCtx) *Session {
	s := &Session{b: b, nc: nc, cancel: &canceller{nc: nc}}
	cfg := session.Config{Name: "llamacpp", Limit: b.limit, Vocab: b.meta.nVocab}
	s.Core = session.New(cfg, &engine{s: s})
	return s
}

// CachePositions is the number of positions llama.cpp's memory holds for
// the session's sequence (its pos_max+1), the native side of Resident.
func (s *Session) CachePositions() int {
	n := 0
	s.Locked(func(open bool) {
		if open {
			n = s.nc.seqPosMax(seq) + 1
		}
	})
	return n
}

// memorySource says what the session's native cache state is.
const memorySource = "llamacpp: llama.cpp's memory for the session's sequence, llama_memory_seq_pos_min and llama_memory_seq_pos_max (llama.h: every position between them is present)"

// Cache implements session.Inspector from llama.cpp's memory: the positions
// it holds for the session's sequence are pos_min..pos_max.
func (e *engine) Cache() (transport.CacheState, error) {
	lo, hi := e.s.nc.seqPosMin(seq), e.s.nc.seqPosMax(seq)
	st := transport.CacheState{First: -1, Source: memorySource}
	switch {
	case lo < 0 && hi < 0:
		return st, nil
	case lo < 0 || hi < lo:
		return st, fmt.Errorf("llama.cpp's memory reports sequence %d from position %d to %d", seq, lo, hi)
	}
	st.First, st.Positions = lo, hi-lo+1
	return st, nil
}

// quiesce parks the session's thread pool between calls.
func (s *Session) quiesce() {
	s.Locked(func(open bool) {
		if open {
			s.nc.pause()
		}
	})
}

// engine is the session's llama_context as the session core drives it.
type engine struct{ s *Session }

// Begin arms the abort flag for the call: llama_decode polls it, so a
// cancellation stops a long decode inside llama.cpp.
func (e *engine) Begin(ctx context.Context) (func(), error) {
	return e.s.cancel.arm(ctx), nil
}

// Keep removes positions from n on from llama.cpp's memory. A partial
// removal that llama.cpp refuses falls back to clearing the whole cache
// (then nothing is kept).
func (e *engine) Keep(n int) int {
	if !e.s.nc.seqRm(seq, n, -1) {
		e.s.nc.clearMemory()
		return 0
	}
	return n
}

// Feed computes toks at positions pos.. in chunks of n_batch tokens
// (llama.cpp splits each chunk further into n_ubatch graph evaluations),
// checking ctx between chunks. With wantLogits the last token's logits are
// produced. On failure it returns what llama.cpp's memory really holds.
func (e *engine) Feed(ctx context.Context, pos int, toks []transport.Token, wantLogits bool) (int, error) {
	nc := e.s.nc
	for off := 0; off < len(toks); off += nc.nBatch {
		if off > 0 {
			if err := ctx.Err(); err != nil {
				return pos + off, err
			}
		}
		end := min(off+nc.nBatch, len(toks))
		if rc := nc.decodeSeq(toks[off:end], pos+off, seq, wantLogits && end == len(toks)); rc != 0 {
			return e.resync(pos+off, end-off), decodeError(ctx, rc)
		}
	}
	return pos + len(toks), nil
}

// resync returns how many positions llama.cpp's memory holds after a failed
// llama_decode of n tokens at pos: llama.cpp keeps the micro-batches it
// finished and removes the one that failed, so the first pos_max+1-pos
// tokens of the chunk are in the cache. Anything past them is removed to be
// sure (failing that, the whole cache is cleared).
func (e *engine) resync(pos, n int) int {
	held := pos + max(0, min(e.s.nc.seqPosMax(seq)+1-pos, n))
	if !e.s.nc.seqRm(seq, held, -1) {
		e.s.nc.clearMemory()
		return 0
	}
	return held
}

// Logits is a view of the last output's logits in llama.cpp's memory.
func (e *engine) Logits() []float32 { return e.s.nc.logits(-1) }

// Close frees the llama_context and takes the session off the backend's
// open set.
func (e *engine) Close() error {
	e.s.cancel.release()
	e.s.nc.free()
	e.s.b.forget(e.s)
	return nil
}

// decodeError turns a llama_decode status into an error (llama.h).
func decodeError(ctx context.Context, rc int) error {
	switch {
	case rc == 2 && ctx.Err() != nil:
		return fmt.Errorf("llama_decode aborted: %w", ctx.Err())
	case rc == 2:
		return errors.New("llama_decode aborted")
	case rc == 1:
		return errors.New("llama_decode: no KV cache slot for the batch")
	case rc == -1:
		return errors.New("llama_decode: invalid input batch")
	default:
		return fmt.Errorf("llama_decode failed with status %d", rc)
	}
}

// canceller raises a context's abort flag when ctx is done, while the call
// that armed it runs. The flag lives in C memory polled by llama_decode's
// abort callback.
type canceller struct {
	mu  sync.Mutex
	nc  *nativeCtx // nil once released
	gen uint64     // arming generation; 0 = disarmed
	seq uint64     // last generation handed out
}

// arm lowers the flag and watches ctx until the returned disarm is called;
// disarm lowers the flag again so the next call starts clean. The watcher
// is tied to its own arming: context.AfterFunc runs it in a goroutine that
// may be scheduled after disarm (even after a later arm), and then it must
// not touch the flag.
func (c *canceller) arm(ctx context.Context) (disarm func()) {
	c.mu.Lock()
	c.seq++
	gen := c.seq
	c.gen = gen
	if c.nc != nil {
		c.nc.setAbort(false)
	}
	c.mu.Unlock()
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		if c.gen == gen && c.nc != nil {
			c.nc.setAbort(true)
		}
		c.mu.Unlock()
	})
	return func() {
		stop()
		c.mu.Lock()
		if c.gen == gen {
			c.gen = 0
			if c.nc != nil {
				c.nc.setAbort(false)
			}
		}
		c.mu.Unlock()
	}
}

// release forgets the context before it is freed.
func (c *canceller) release() {
	c.mu.Lock()
	c.nc = nil
	c.gen = 0
	c.mu.Unlock()
}
