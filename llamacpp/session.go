package llamacpp

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/fakbench/fakbench/transport"
)

// seq is the sequence id a session uses in its own context.
const seq = 0

// Session is one llama_context (one KV cache) on a Backend. It implements
// transport.Session and transport.LogitsReader. The tokens resident in the
// cache are tracked in Go; llama.cpp's memory is trimmed to match with
// llama_memory_seq_rm.
type Session struct {
	mu     sync.Mutex
	b      *Backend
	nc     *nativeCtx
	cancel *canceller
	limit  int
	vocab  int
	// resident are the tokens whose K/V the cache holds, at positions
	// 0..len-1; resident[:prefix] is the current prefix.
	resident []transport.Token
	prefix   int
	// pending is the token returned last (by PrefillSuffix or Decode),
	// known but not yet in the cache.
	pending    transport.Token
	hasPending bool
	// haveLogits: the last llama_decode produced logits for the position
	// before pending.
	haveLogits bool
	closed     bool
}

var (
	_ transport.Session      = (*Session)(nil)
	_ transport.LogitsReader = (*Session)(nil)
)

func newSession(b *Backend, nc *nativeCtx) *Session {
	return &Session{
		b:      b,
		nc:     nc,
		cancel: &canceller{nc: nc},
		limit:  b.limit,
		vocab:  b.meta.nVocab,
	}
}

// EnsurePrefix implements transport.Session.
func (s *Session) EnsurePrefix(ctx context.Context, in transport.PrefixInput) (transport.PrefixResult, error) {
	start := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return transport.PrefixResult{}, transport.ErrClosed
	}
	if err := transport.ValidateTokens("EnsurePrefix", in.Tokens, s.vocab); err != nil {
		return transport.PrefixResult{}, err
	}
	keep := transport.CommonPrefix(s.resident, in.Tokens)
	if err := transport.CheckContext("EnsurePrefix", keep, len(in.Tokens)-keep, s.limit); err != nil {
		return transport.PrefixResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return transport.PrefixResult{}, fmt.Errorf("llamacpp: EnsurePrefix: %w", err)
	}
	s.truncate(keep)
	s.hasPending, s.haveLogits = false, false
	s.prefix = keep
	disarm := s.cancel.arm(ctx)
	fed, err := s.feed(ctx, in.Tokens[keep:], false)
	disarm()
	s.prefix = len(s.resident)
	res := transport.PrefixResult{ReusedTokens: keep, ComputedTokens: fed, Elapsed: time.Since(start)}
	if err != nil {
		return res, fmt.Errorf("llamacpp: EnsurePrefix: %d of %d tokens computed: %w", fed, len(in.Tokens)-keep, err)
	}
	return res, nil
}

// PrefillSuffix implements transport.Session.
func (s *Session) PrefillSuffix(ctx context.Context, in transport.SuffixInput) (transport.SuffixResult, error) {
	start := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return transport.SuffixResult{}, transport.ErrClosed
	}
	if len(in.Tokens) == 0 {
		return transport.SuffixResult{}, transport.ErrEmptySuffix
	}
	if err := transport.ValidateTokens("PrefillSuffix", in.Tokens, s.vocab); err != nil {
		return transport.SuffixResult{}, err
	}
	if err := transport.CheckContext("PrefillSuffix", s.prefix, len(in.Tokens), s.limit); err != nil {
		return transport.SuffixResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return transport.SuffixResult{}, fmt.Errorf("llamacpp: PrefillSuffix: %w", err)
	}
	s.truncate(s.prefix)
	s.hasPending, s.haveLogits = false, false
	disarm := s.cancel.arm(ctx)
	fed, err := s.feed(ctx, in.Tokens, true)
	disarm()
	if err != nil {
		return transport.SuffixResult{SuffixTokens: fed}, fmt.Errorf("llamacpp: PrefillSuffix: %d of %d tokens computed: %w", fed, len(in.Tokens), err)
	}
	t := s.nc.argmax(-1)
	if t < 0 {
		return transport.SuffixResult{SuffixTokens: fed}, errors.New("llamacpp: PrefillSuffix: llama.cpp returned no logits for the last suffix token")
	}
	s.pending, s.hasPending, s.haveLogits = t, true, true
	return transport.SuffixResult{FirstToken: t, SuffixTokens: fed, TTFT: time.Since(start)}, nil
}

// Decode implements transport.Session: each step feeds the pending token
// with one llama_decode and takes the arg-max of its logits (ties: lowest
// id). Cancellation is checked between tokens and, inside llama_decode,
// through the abort callback.
func (s *Session) Decode(ctx context.Context, n int) (transport.DecodeResult, error) {
	start := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return transport.DecodeResult{}, transport.ErrClosed
	}
	if n < 0 {
		return transport.DecodeResult{}, fmt.Errorf("llamacpp: Decode: negative token count %d", n)
	}
	if n == 0 {
		return transport.DecodeResult{}, nil
	}
	if !s.hasPending {
		return transport.DecodeResult{}, fmt.Errorf("llamacpp: %w", transport.ErrNoPending)
	}
	if err := transport.CheckContext("Decode", len(s.resident), n, s.limit); err != nil {
		return transport.DecodeResult{}, err
	}
	out := make([]transport.Token, 0, n)
	disarm := s.cancel.arm(ctx)
	defer disarm()
	for i := 0; i < n; i++ {
		if err := ctx.Err(); err != nil {
			return transport.DecodeResult{Tokens: out, Elapsed: time.Since(start)},
				fmt.Errorf("llamacpp: Decode: cancelled after %d of %d tokens: %w", len(out), n, err)
		}
		if _, err := s.feed(ctx, []transport.Token{s.pending}, true); err != nil {
			s.haveLogits = false
			return transport.DecodeResult{Tokens: out, Elapsed: time.Since(start)},
				fmt.Errorf("llamacpp: Decode: stopped after %d of %d tokens: %w", len(out), n, err)
		}
		t := s.nc.argmax(-1)
		if t < 0 {
			s.haveLogits = false
			return transport.DecodeResult{Tokens: out, Elapsed: time.Since(start)},
				errors.New("llamacpp: Decode: llama.cpp returned no logits")
		}
		s.pending = t
		s.haveLogits = true
		out = append(out, t)
	}
	return transport.DecodeResult{Tokens: out, Elapsed: time.Since(start)}, nil
}

// LastLogits implements transport.LogitsReader: the logits that produced
// the pending token.
func (s *Session) LastLogits() ([]float32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, transport.ErrClosed
	}
	if !s.haveLogits {
		return nil, fmt.Errorf("llamacpp: %w (call PrefillSuffix or Decode first)", transport.ErrNoLogits)
	}
	out := make([]float32, s.vocab)
	if !s.nc.copyLogits(-1, out) {
		return nil, errors.New("llamacpp: LastLogits: llama.cpp returned no logits")
	}
	return out, nil
}

// Resident returns a copy of the tokens whose K/V the cache holds.
func (s *Session) Resident() []transport.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]transport.Token(nil), s.resident...)
}

// CachePositions is the number of positions llama.cpp's memory holds for
// the session's sequence (its pos_max+1), the native side of Resident.
func (s *Session) CachePositions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0
	}
	return s.nc.seqPosMax(seq) + 1
}

// quiesce parks the session's thread pool between calls.
func (s *Session) quiesce() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.nc.pause()
	}
}

// Close frees the session's llama_context. It is idempotent.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.cancel.release()
	s.nc.free()
	s.resident = nil
	s.b.forget(s)
	return nil
}

// truncate drops every resident token from position keep on, in Go and in
// llama.cpp's memory. A partial removal that llama.cpp refuses falls back to
// clearing the whole cache (then nothing is kept).
func (s *Session) truncate(keep int) {
	if keep >= len(s.resident) {
		return
	}
	if !s.nc.seqRm(seq, keep, -1) {
		s.nc.clearMemory()
		keep = 0
	}
	s.resident = s.resident[:keep]
	s.prefix = min(s.prefix, keep)
}

// feed computes toks at the next positions in chunks of n_batch tokens
// (llama.cpp splits each chunk further into n_ubatch graph evaluations).
// With logits set, the last token's logits are produced. It returns how many
// tokens are now resident; on failure the Go bookkeeping is resynchronised
// with what llama.cpp's memory really holds.
func (s *Session) feed(ctx context.Context, toks []transport.Token, logits bool) (int, error) {
	fed := 0
	for fed < len(toks) {
		if err := ctx.Err(); err != nil {
			return fed, err
		}
		end := min(fed+s.nc.nBatch, len(toks))
		chunk := toks[fed:end]
		rc := s.nc.decodeSeq(chunk, len(s.resident), seq, logits && end == len(toks))
		if rc != 0 {
			landed := s.resync(chunk)
			return fed + landed, decodeError(ctx, rc)
		}
		s.resident = append(s.resident, chunk...)
		fed = end
	}
	return fed, nil
}

// resync makes the resident tokens match llama.cpp's memory after a failed
// llama_decode of chunk: llama.cpp keeps the micro-batches it finished and
// removes the one that failed, so the first pos_max+1-len(resident) tokens
// of chunk are in the cache. Anything past them is removed to be sure.
func (s *Session) resync(chunk []transport.Token) int {
	landed := s.nc.seqPosMax(seq) + 1 - len(s.resident)
	landed = max(0, min(landed, len(chunk)))
	s.resident = append(s.resident, chunk[:landed]...)
	if !s.nc.seqRm(seq, len(s.resident), -1) {
		s.nc.clearMemory()
		s.resident = s.resident[:0]
		s.prefix = 0
	}
	return landed
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
