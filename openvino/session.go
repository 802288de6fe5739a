package openvino

import (
	"context"
	"fmt"
	"time"
	"unsafe"

	"github.com/fakbench/fakbench/transport"
)

// Session is one KV cache on a Backend: per layer a key and a value buffer
// of [context, kv_dim] f32 in C memory, bound as the model's past inputs.
type Session struct {
	b   *Backend
	req *ovRequest
	kv  []*cbuf // 2 per layer: key, value
	ids *cbuf   // [batch] i64
	pos *cbuf   // [batch] i64

	tokens     []transport.Token
	prefixLen  int
	pending    transport.Token
	hasPending bool
	logits     []float32
	logitsPos  int
	closed     bool
}

var (
	_ transport.Session      = (*Session)(nil)
	_ transport.LogitsReader = (*Session)(nil)
)

func (b *Backend) newSession() (*Session, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, transport.ErrClosed
	}
	s := &Session{b: b, logitsPos: -1, logits: make([]float32, b.spec.Vocab),
		tokens: make([]transport.Token, 0, b.ctxLen)}
	var err error
	if s.req, err = b.compiled.newRequest(); err != nil {
		return nil, err
	}
	rowBytes := b.spec.KVDim() * 4
	for i := 0; i < 2*b.spec.Layers; i++ {
		buf, err := newCBuf(b.ctxLen * rowBytes)
		if err != nil {
			s.release()
			return nil, err
		}
		s.kv = append(s.kv, buf)
	}
	if s.ids, err = newCBuf(b.batch * 8); err == nil {
		s.pos, err = newCBuf(b.batch * 8)
	}
	if err != nil {
		s.release()
		return nil, err
	}
	b.sessions++
	return s, nil
}

func (s *Session) release() {
	s.req.free()
	for _, k := range s.kv {
		k.free()
	}
	s.kv = nil
	s.ids.free()
	s.pos.free()
}

// truncate drops every resident position from n on (the KV rows past n are
// simply no longer bound as inputs).
func (s *Session) truncate(n int) {
	s.tokens = s.tokens[:n]
	s.prefixLen = min(s.prefixLen, n)
	if s.logitsPos >= n {
		s.logitsPos = -1
	}
	s.hasPending = false
}

// step computes toks (at most batch of them) at the positions after the
// resident ones, appends their keys and values to the cache and keeps the
// last position's logits.
func (s *Session) step(toks []transport.Token) error {
	P, T := len(s.tokens), len(toks)
	kvd := s.b.spec.KVDim()
	ids, pos := s.ids.i64(), s.pos.i64()
	for i, t := range toks {
		ids[i] = int64(t)
		pos[i] = int64(P + i)
	}
	r := s.req
	if err := r.setInput(inIDs, ovI64, []int64{int64(T)}, s.ids.p); err != nil {
		return err
	}
	if err := r.setInput(inPositions, ovI64, []int64{int64(T)}, s.pos.p); err != nil {
		return err
	}
	for i, buf := range s.kv {
		if err := r.setInput(inFirstKV+i, ovF32, []int64{int64(P), int64(kvd)}, buf.p); err != nil {
			return err
		}
	}
	if err := r.infer(); err != nil {
		return err
	}
	shape, lg, err := r.output(outLogits)
	if err != nil {
		return err
	}
	if len(lg) != s.b.spec.Vocab {
		return fmt.Errorf("openvino: logits output has shape %v, want [1, %d]", shape, s.b.spec.Vocab)
	}
	for i, buf := range s.kv {
		shape, kv, err := r.output(outFirstKV + i)
		if err != nil {
			return err
		}
		if len(kv) != T*kvd {
			return fmt.Errorf("openvino: KV output %d has shape %v, want [%d, %d]", i, shape, T, kvd)
		}
		dst := unsafe.Slice((*float32)(buf.at(P*kvd*4)), T*kvd)
		copy(dst, kv)
	}
	copy(s.logits, lg)
	s.tokens = append(s.tokens, toks...)
	s.logitsPos = len(s.tokens) - 1
	return nil
}

// prefill appends toks in batches, checking ctx between batches; it returns
// how many tokens were computed (the cache holds exactly those).
func (s *Session) prefill(ctx context.Context, op string, toks []transport.Token) (int, error) {
	for off := 0; off < len(toks); off += s.b.batch {
		if err := ctx.Err(); err != nil {
			return off, fmt.Errorf("openvino: %s: cancelled after %d of %d tokens: %w", op, off, len(toks), err)
		}
		if err := s.step(toks[off:min(off+s.b.batch, len(toks))]); err != nil {
			return off, fmt.Errorf("openvino: %s: %w", op, err)
		}
	}
	return len(toks), nil
}

func (s *Session) enter() error {
	if s.closed {
		return transport.ErrClosed
	}
	s.b.mu.Lock()
	closed := s.b.closed
	s.b.mu.Unlock()
	if closed {
		return transport.ErrClosed
	}
	return nil
}

// EnsurePrefix makes in.Tokens the resident prefix, keeping the longest
// common token prefix with what is resident and computing the rest.
func (s *Session) EnsurePrefix(ctx context.Context, in transport.PrefixInput) (transport.PrefixResult, error) {
	start := time.Now()
	if err := s.enter(); err != nil {
		return transport.PrefixResult{}, err
	}
	if err := transport.ValidateTokens("EnsurePrefix", in.Tokens, s.b.spec.Vocab); err != nil {
		return transport.PrefixResult{}, err
	}
	common := transport.CommonPrefix(s.tokens, in.Tokens)
	if err := transport.CheckContext("EnsurePrefix", common, len(in.Tokens)-common, s.b.ctxLen); err != nil {
		return transport.PrefixResult{}, err
	}
	s.truncate(common)
	computed, err := s.prefill(ctx, "EnsurePrefix", in.Tokens[common:])
	s.prefixLen = len(s.tokens)
	return transport.PrefixResult{ReusedTokens: common, ComputedTokens: computed, Elapsed: time.Since(start)}, err
}

// PrefillSuffix drops whatever follows the prefix, prefills in.Tokens and
// returns the greedy next token, which becomes pending.
func (s *Session) PrefillSuffix(ctx context.Context, in transport.SuffixInput) (transport.SuffixResult, error) {
	start := time.Now()
	if err := s.enter(); err != nil {
		return transport.SuffixResult{}, err
	}
	if len(in.Tokens) == 0 {
		return transport.SuffixResult{}, transport.ErrEmptySuffix
	}
	if err := transport.ValidateTokens("PrefillSuffix", in.Tokens, s.b.spec.Vocab); err != nil {
		return transport.SuffixResult{}, err
	}
	if err := transport.CheckContext("PrefillSuffix", s.prefixLen, len(in.Tokens), s.b.ctxLen); err != nil {
		return transport.SuffixResult{}, err
	}
	s.truncate(s.prefixLen)
	n, err := s.prefill(ctx, "PrefillSuffix", in.Tokens)
	if err != nil {
		return transport.SuffixResult{SuffixTokens: n, TTFT: time.Since(start)}, err
	}
	tok := argmax(s.logits)
	s.pending, s.hasPending = tok, true
	return transport.SuffixResult{FirstToken: tok, SuffixTokens: n, TTFT: time.Since(start)}, nil
}

// Decode feeds the pending token and generates up to n tokens greedily,
// checking ctx before each one. On cancellation it returns the tokens made
// so far with an error wrapping ctx.Err(); the cache holds exactly the
// tokens fed and the last generated token stays pending.
func (s *Session) Decode(ctx context.Context, n int) (transport.DecodeResult, error) {
	start := time.Now()
	if err := s.enter(); err != nil {
		return transport.DecodeResult{}, err
	}
	if n < 0 {
		return transport.DecodeResult{}, fmt.Errorf("openvino: Decode: negative token count %d", n)
	}
	if n == 0 {
		return transport.DecodeResult{Tokens: []transport.Token{}, Elapsed: time.Since(start)}, nil
	}
	if !s.hasPending {
		return transport.DecodeResult{}, fmt.Errorf("openvino: %w", transport.ErrNoPending)
	}
	if err := transport.CheckContext("Decode", len(s.tokens), n, s.b.ctxLen); err != nil {
		return transport.DecodeResult{}, err
	}
	out := make([]transport.Token, 0, n)
	one := make([]transport.Token, 1)
	for i := 0; i < n; i++ {
		if err := ctx.Err(); err != nil {
			return transport.DecodeResult{Tokens: out, Elapsed: time.Since(start)},
				fmt.Errorf("openvino: Decode: cancelled after %d of %d tokens: %w", i, n, err)
		}
		one[0] = s.pending
		if err := s.step(one); err != nil {
			s.hasPending = false
			return transport.DecodeResult{Tokens: out, Elapsed: time.Since(start)}, fmt.Errorf("openvino: Decode: %w", err)
		}
		s.pending = argmax(s.logits)
		out = append(out, s.pending)
	}
	return transport.DecodeResult{Tokens: out, Elapsed: time.Since(start)}, nil
}

// LastLogits returns a copy of the logits of the last resident position.
func (s *Session) LastLogits() ([]float32, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	if s.logitsPos < 0 || s.logitsPos != len(s.tokens)-1 {
		return nil, fmt.Errorf("openvino: %w", transport.ErrNoLogits)
	}
	return append([]float32(nil), s.logits...), nil
}

// Resident returns how many positions the cache holds.
func (s *Session) Resident() int { return len(s.tokens) }

// Close frees the infer request and the KV buffers. It is idempotent; any
// other call after Close returns transport.ErrClosed.
func (s *Session) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.release()
	s.tokens = nil
	s.b.mu.Lock()
	s.b.sessions--
	s.b.mu.Unlock()
	return nil
}

// argmax returns the index of the largest logit; ties go to the lowest id.
func argmax(x []float32) transport.Token {
	best := 0
	for i := 1; i < len(x); i++ {
		if x[i] > x[best] {
			best = i
		}
	}
	return transport.Token(best)
}
