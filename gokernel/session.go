package gokernel

import (
	"context"
	"fmt"
	"time"

	"github.com/fakbench/fakbench/transport"
)

// Session is one KV cache on a Model. It implements transport.Session and
// transport.LogitsReader and is driven by one goroutine at a time.
type Session struct {
	m  *Model
	st *state

	tokens     []transport.Token // resident tokens, one per cache position
	prefixLen  int               // resident tokens that form the prefix
	pending    transport.Token   // the next token to feed (when hasPending)
	hasPending bool
	logitsPos  int // the position whose logits st.logits holds, -1 none
	one        [1]transport.Token
	closed     bool
}

var (
	_ transport.Session      = (*Session)(nil)
	_ transport.LogitsReader = (*Session)(nil)
)

// NewSession opens a session with an empty cache. Its KV cache and scratch
// buffers are allocated here, once.
func (m *Model) NewSession() (*Session, error) {
	m.life.RLock()
	defer m.life.RUnlock()
	if m.closed {
		return nil, transport.ErrClosed
	}
	return &Session{
		m:         m,
		st:        newState(m),
		tokens:    make([]transport.Token, 0, m.ctxLen),
		logitsPos: -1,
	}, nil
}

// enter starts a call: it fails on a closed session or model and otherwise
// holds the model open until leave.
func (s *Session) enter() error {
	if s.closed {
		return transport.ErrClosed
	}
	s.m.life.RLock()
	if s.m.closed {
		s.m.life.RUnlock()
		return transport.ErrClosed
	}
	return nil
}

func (s *Session) leave() { s.m.life.RUnlock() }

// truncate drops every resident position from n on.
func (s *Session) truncate(n int) {
	s.tokens = s.tokens[:n]
	s.prefixLen = min(s.prefixLen, n)
	if s.logitsPos >= n {
		s.logitsPos = -1
	}
	s.hasPending = false
}

// prefill appends toks to the cache in chunks, checking ctx between chunks,
// and leaves the last token's logits in st.logits. It returns how many
// tokens it computed; on cancellation the cache holds exactly those.
func (s *Session) prefill(ctx context.Context, op string, toks []transport.Token) (int, error) {
	chunk := s.m.chunk
	for off := 0; off < len(toks); off += chunk {
		if err := ctx.Err(); err != nil {
			return off, fmt.Errorf("gokernel: %s: cancelled after %d of %d tokens: %w", op, off, len(toks), err)
		}
		part := toks[off:min(off+chunk, len(toks))]
		mode := headNone
		if off+len(part) == len(toks) {
			mode = headLast
		}
		s.m.compute.Lock()
		s.st.forward(part, len(s.tokens), mode, nil)
		s.m.compute.Unlock()
		s.tokens = append(s.tokens, part...)
		if mode == headLast {
			s.logitsPos = len(s.tokens) - 1
		}
	}
	return len(toks), nil
}

// EnsurePrefix makes in.Tokens the resident prefix, keeping the longest
// common token prefix with what is resident and computing the rest.
func (s *Session) EnsurePrefix(ctx context.Context, in transport.PrefixInput) (transport.PrefixResult, error) {
	start := time.Now()
	if err := s.enter(); err != nil {
		return transport.PrefixResult{}, err
	}
	defer s.leave()
	if err := transport.ValidateTokens("EnsurePrefix", in.Tokens, s.m.HP.Vocab); err != nil {
		return transport.PrefixResult{}, err
	}
	common := transport.CommonPrefix(s.tokens, in.Tokens)
	if err := transport.CheckContext("EnsurePrefix", common, len(in.Tokens)-common, s.m.ctxLen); err != nil {
		return transport.PrefixResult{}, err
	}
	s.truncate(common)
	computed, err := s.prefill(ctx, "EnsurePrefix", in.Tokens[common:])
	s.prefixLen = len(s.tokens)
	res := transport.PrefixResult{ReusedTokens: common, ComputedTokens: computed, Elapsed: time.Since(start)}
	return res, err
}

// PrefillSuffix drops whatever follows the prefix, prefills in.Tokens and
// returns the greedy next token, which becomes pending.
func (s *Session) PrefillSuffix(ctx context.Context, in transport.SuffixInput) (transport.SuffixResult, error) {
	start := time.Now()
	if err := s.enter(); err != nil {
		return transport.SuffixResult{}, err
	}
	defer s.leave()
	if len(in.Tokens) == 0 {
		return transport.SuffixResult{}, transport.ErrEmptySuffix
	}
	if err := transport.ValidateTokens("PrefillSuffix", in.Tokens, s.m.HP.Vocab); err != nil {
		return transport.SuffixResult{}, err
	}
	if err := transport.CheckContext("PrefillSuffix", s.prefixLen, len(in.Tokens), s.m.ctxLen); err != nil {
		return transport.SuffixResult{}, err
	}
	s.truncate(s.prefixLen)
	n, err := s.prefill(ctx, "PrefillSuffix", in.Tokens)
	if err != nil {
		return transport.SuffixResult{SuffixTokens: n, TTFT: time.Since(start)}, err
	}
	tok := transport.Token(argmax(s.st.logits))
	s.pending, s.hasPending = tok, true
	return transport.SuffixResult{FirstToken: tok, SuffixTokens: n, TTFT: time.Since(start)}, nil
}

// Decode feeds the pending token and generates up to n tokens greedily,
// checking ctx before each one. On cancellation it returns the tokens made
// so far with an error wrapping ctx.Err(); the cache then holds exactly the
// tokens fed and the last generated token is pending.
func (s *Session) Decode(ctx context.Context, n int) (transport.DecodeResult, error) {
	start := time.Now()
	if err := s.enter(); err != nil {
		return transport.DecodeResult{}, err
	}
	defer s.leave()
	if n < 0 {
		return transport.DecodeResult{}, fmt.Errorf("gokernel: Decode: negative token count %d", n)
	}
	if n == 0 {
		return transport.DecodeResult{Tokens: []transport.Token{}, Elapsed: time.Since(start)}, nil
	}
	if !s.hasPending {
		return transport.DecodeResult{}, fmt.Errorf("gokernel: %w", transport.ErrNoPending)
	}
	if err := transport.CheckContext("Decode", len(s.tokens), n, s.m.ctxLen); err != nil {
		return transport.DecodeResult{}, err
	}
	out := make([]transport.Token, 0, n)
	for i := 0; i < n; i++ {
		if err := ctx.Err(); err != nil {
			return transport.DecodeResult{Tokens: out, Elapsed: time.Since(start)},
				fmt.Errorf("gokernel: Decode: cancelled after %d of %d tokens: %w", i, n, err)
		}
		s.one[0] = s.pending
		s.m.compute.Lock()
		s.st.forward(s.one[:], len(s.tokens), headLast, nil)
		s.m.compute.Unlock()
		s.tokens = append(s.tokens, s.pending)
		s.logitsPos = len(s.tokens) - 1
		s.pending = transport.Token(argmax(s.st.logits))
		out = append(out, s.pending)
	}
	return transport.DecodeResult{Tokens: out, Elapsed: time.Since(start)}, nil
}

// LastLogits returns a copy of the logits of the last resident position.
func (s *Session) LastLogits() ([]float32, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	if s.logitsPos < 0 || s.logitsPos != len(s.tokens)-1 {
		return nil, fmt.Errorf("gokernel: %w", transport.ErrNoLogits)
	}
	return append([]float32(nil), s.st.logits...), nil
}

// Resident returns how many positions the cache holds.
func (s *Session) Resident() int { return len(s.tokens) }

// Close frees the session's cache. It is idempotent; any other call after
// Close returns transport.ErrClosed.
func (s *Session) Close() error {
	s.closed = true
	s.st = nil
	s.tokens = nil
	return nil
}
