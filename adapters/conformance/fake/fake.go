// Package fake is a pure-Go reference implementation of the transport
// session contract with a fake KV cache and a deterministic next-token
// function. It exists to test the harness and the conformance kit: each field
// of Bugs switches on one realistic contract violation, so tests can check
// that the report flags and the kit's checks catch it.
//
// The "model" is a running hash: every cached position stores a state mixed
// from the previous state, its token and its index, and the greedy next token
// is derived from the last state. A warm result therefore equals a cold one
// exactly when the cache holds the right states, as with a real KV cache.
//
// The fake has a native view (transport.CacheInspector): the rows its
// "engine" stores, apart from the tokens its bookkeeping reports. They
// agree unless a bug (StaleKV, HiddenRecompute) makes them part.
package fake

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fakbench/fakbench/internal/splitmix"
	"github.com/fakbench/fakbench/transport"
)

// Bugs are contract violations the fake can commit on purpose.
type Bugs struct {
	// NoReuse: EnsurePrefix recomputes every token (and reports it honestly).
	NoReuse bool
	// FalseHit: a prefix of the resident prefix's length is "reused" whole,
	// whatever its tokens, keeping stale states (a cache keyed on length).
	FalseHit bool
	// WarmDiverges: tokens computed on top of a reused prefix get a wrong
	// state, so warm outputs differ from cold ones.
	WarmDiverges bool
	// IgnoreCancel: Decode never looks at its context.
	IgnoreCancel bool
	// UntypedOverContext: over-context requests fail with a plain error.
	UntypedOverContext bool
	// OverContextClears: an over-context request empties the cache before it
	// is refused, so the session no longer answers as before.
	OverContextClears bool
	// CancelLosesToken: a cancelled Decode corrupts the pending token.
	CancelLosesToken bool
	// CloseNotIdempotent: a second Close fails, and calls after Close fail
	// with an error that is not transport.ErrClosed.
	CloseNotIdempotent bool
	// AcceptEmptySuffix: an empty suffix is accepted instead of ErrEmptySuffix.
	AcceptEmptySuffix bool
	// NoVocabCheck: out-of-vocabulary token IDs are accepted.
	NoVocabCheck bool
	// SharedCache: every session of the backend uses one cache.
	SharedCache bool
	// HiddenRecompute: EnsurePrefix recomputes the reused tokens in place
	// (each at TokenCost) while reporting them reused; the native view
	// agrees with the books, only the time gives it away.
	HiddenRecompute bool
	// StaleKV: positions the session drops stay in the native store until
	// a new token overwrites them, so after an edit the stale positions
	// past it are still held when the recompute begins, and after a
	// shorter prefix they are held past it.
	StaleKV bool
}

// Config sets up a fake backend.
type Config struct {
	// Vocab is the vocabulary size (default 512).
	Vocab int
	// Context is the context length (default 256).
	Context int
	// TokenCost is the time spent (spinning) per computed position (default
	// none), so that timings and cancellation behave like a real engine's.
	TokenCost time.Duration
	// Bugs switches on contract violations.
	Bugs Bugs
}

// Backend is a fake loaded model.
type Backend struct {
	cfg    Config
	mu     sync.Mutex
	closed bool
	shared *cache
}

// New returns a fake backend.
func New(cfg Config) *Backend {
	if cfg.Vocab <= 0 {
		cfg.Vocab = 512
	}
	if cfg.Context <= 0 {
		cfg.Context = 256
	}
	return &Backend{cfg: cfg, shared: &cache{kept: -1}}
}

// Name is the registry name of the fake.
func (b *Backend) Name() string { return "fake" }

// Version names the fake's build.
func (b *Backend) Version() string { return "fake-1" }

// Settings lists the fake's configuration, including the bugs switched on.
func (b *Backend) Settings() map[string]string {
	return map[string]string{
		"threads":    "1",
		"token_cost": b.cfg.TokenCost.String(),
		"bugs":       bugList(b.cfg.Bugs),
	}
}

func bugList(bg Bugs) string {
	var on []string
	add := func(flag bool, name string) {
		if flag {
			on = append(on, name)
		}
	}
	add(bg.NoReuse, "no_reuse")
	add(bg.FalseHit, "false_hit")
	add(bg.WarmDiverges, "warm_diverges")
	add(bg.IgnoreCancel, "ignore_cancel")
	add(bg.UntypedOverContext, "untyped_over_context")
	add(bg.OverContextClears, "over_context_clears")
	add(bg.CancelLosesToken, "cancel_loses_token")
	add(bg.CloseNotIdempotent, "close_not_idempotent")
	add(bg.AcceptEmptySuffix, "accept_empty_suffix")
	add(bg.NoVocabCheck, "no_vocab_check")
	add(bg.SharedCache, "shared_cache")
	add(bg.HiddenRecompute, "hidden_recompute")
	add(bg.StaleKV, "stale_kv")
	sort.Strings(on)
	if len(on) == 0 {
		return "none"
	}
	return strings.Join(on, ",")
}

// Info describes the fake model.
func (b *Backend) Info() transport.ModelInfo {
	return transport.ModelInfo{
		Path:          "fake://" + strconv.Itoa(b.cfg.Vocab),
		Name:          "fake-model",
		Architecture:  "fake",
		ContextLength: b.cfg.Context,
		VocabSize:     b.cfg.Vocab,
		Parameters:    int64(b.cfg.Vocab),
		WeightBytes:   int64(b.cfg.Vocab) * 4,
		WeightType:    "none",
	}
}

// NewSession opens a session with an empty cache (or, with the SharedCache
// bug, the backend's one cache).
func (b *Backend) NewSession(ctx context.Context) (transport.Session, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, transport.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fake: new session: %w", err)
	}
	c := &cache{kept: -1}
	if b.cfg.Bugs.SharedCache {
		c = b.shared
	}
	return &Session{b: b, c: c}, nil
}

// Close frees the fake model; it is idempotent.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}

type entry struct {
	tok   transport.Token
	state uint64
}

// cache is one fake KV cache.
type cache struct {
	mu sync.Mutex
	// kv are the positions the bookkeeping counts as resident; stale are
	// rows the native store still holds after them (StaleKV only), at
	// positions len(kv), len(kv)+1, ...
	kv         []entry
	stale      []entry
	prefixLen  int
	pending    transport.Token
	hasPending bool
	// reused is set when the resident prefix was partly or wholly reused.
	reused bool
	// kept is the native store's length when the last EnsurePrefix began
	// computing, -1 before any.
	kept int
}

// Session is one fake KV cache on a fake backend.
type Session struct {
	b      *Backend
	c      *cache
	closed bool
}

var (
	_ transport.Session        = (*Session)(nil)
	_ transport.CacheInspector = (*Session)(nil)
)

// mix is one position's state: SplitMix64's mix of the previous state, the
// token and the position.
func mix(prev uint64, tok transport.Token, pos int) uint64 {
	return splitmix.Mix(prev ^ uint64(uint32(tok))*splitmix.Gamma ^ uint64(pos)<<32)
}

// push computes one position (the fake forward pass).
func (s *Session) push(tok transport.Token) {
	c := s.c
	var prev uint64
	if n := len(c.kv); n > 0 {
		prev = c.kv[n-1].state
	}
	st := mix(prev, tok, len(c.kv))
	if s.b.cfg.Bugs.WarmDiverges && c.reused {
		st ^= 1
	}
	c.kv = append(c.kv, entry{tok: tok, state: st})
	if len(c.stale) > 0 {
		// The new row overwrote the stale one at its position.
		c.stale = c.stale[1:]
	}
	s.spin()
}

// spin spends TokenCost, the cost of computing one position.
func (s *Session) spin() {
	if cost := s.b.cfg.TokenCost; cost > 0 {
		// Spin rather than sleep: timer granularity can exceed a
		// microsecond-scale cost by orders of magnitude.
		for start := time.Now(); time.Since(start) < cost; {
		}
	}
}

// trim makes the first n positions the resident ones. The native store
// drops the rest, unless StaleKV keeps them as stale rows.
func (s *Session) trim(n int) {
	c := s.c
	if !s.b.cfg.Bugs.StaleKV {
		c.kv, c.stale = c.kv[:n], nil
		return
	}
	rows := append(append([]entry(nil), c.kv...), c.stale...)
	c.kv, c.stale = rows[:n:n], rows[n:]
}

// NativeCache implements transport.CacheInspector: the rows of the fake's
// native store, counted apart from the tokens its books report.
func (s *Session) NativeCache() (transport.CacheState, error) {
	if s.closed {
		return transport.CacheState{}, s.closedErr()
	}
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	st := transport.CacheState{Positions: len(c.kv) + len(c.stale), First: -1, Kept: c.kept,
		Source: "fake: the rows of the fake engine's store (stale rows included)"}
	if st.Positions > 0 {
		st.First = 0
	}
	return st, nil
}

func (s *Session) next() transport.Token {
	c := s.c
	return transport.Token(c.kv[len(c.kv)-1].state % uint64(s.b.cfg.Vocab))
}

func (s *Session) closedErr() error {
	if s.b.cfg.Bugs.CloseNotIdempotent {
		return errors.New("fake: session is gone")
	}
	return transport.ErrClosed
}

// enter refuses op on a closed session or under a context already done.
func (s *Session) enter(ctx context.Context, op string) error {
	if s.closed {
		return s.closedErr()
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fake: %s: %w", op, err)
	}
	return nil
}

func (s *Session) overContext(op string, resident, requested int) error {
	if s.b.cfg.Bugs.OverContextClears {
		s.c.kv, s.c.stale, s.c.prefixLen, s.c.hasPending = nil, nil, 0, false
	}
	if s.b.cfg.Bugs.UntypedOverContext {
		return fmt.Errorf("fake: %s: too long", op)
	}
	return transport.CheckContext(op, resident, requested, s.b.cfg.Context)
}

func (s *Session) validate(op string, toks []transport.Token) error {
	if s.b.cfg.Bugs.NoVocabCheck {
		for i, t := range toks {
			if t < 0 {
				// Even the buggy fake must not panic on a negative index.
				toks[i] = 0
			}
		}
		return nil
	}
	return transport.ValidateTokens(op, toks, s.b.cfg.Vocab)
}

// EnsurePrefix makes in.Tokens the resident prefix, reusing the longest
// common prefix with the cache.
func (s *Session) EnsurePrefix(ctx context.Context, in transport.PrefixInput) (transport.PrefixResult, error) {
	start := time.Now()
	if err := s.enter(ctx, "EnsurePrefix"); err != nil {
		return transport.PrefixResult{}, err
	}
	toks := append([]transport.Token(nil), in.Tokens...)
	if err := s.validate("EnsurePrefix", toks); err != nil {
		return transport.PrefixResult{}, err
	}
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()

	resident := make([]transport.Token, len(c.kv))
	for i, e := range c.kv {
		resident[i] = e.tok
	}
	keep := transport.CommonPrefix(resident, toks)
	switch {
	case s.b.cfg.Bugs.NoReuse:
		keep = 0
	case s.b.cfg.Bugs.FalseHit && c.prefixLen == len(toks) && len(c.kv) >= len(toks):
		keep = len(toks)
	}
	if keep+(len(toks)-keep) > s.b.cfg.Context {
		return transport.PrefixResult{}, s.overContext("EnsurePrefix", keep, len(toks)-keep)
	}
	s.trim(keep)
	c.kept = len(c.kv) + len(c.stale)
	c.reused = keep > 0
	if s.b.cfg.Bugs.HiddenRecompute {
		// Compute the kept positions again, in place: the same states,
		// at the cost of computing them.
		for range c.kv {
			s.spin()
		}
	}
	for _, t := range toks[keep:] {
		s.push(t)
	}
	c.prefixLen = len(toks)
	c.hasPending = false
	return transport.PrefixResult{ReusedTokens: keep, ComputedTokens: len(toks) - keep, Elapsed: time.Since(start)}, nil
}

// PrefillSuffix drops what follows the prefix, prefills in.Tokens and
// returns the greedy next token.
func (s *Session) PrefillSuffix(ctx context.Context, in transport.SuffixInput) (transport.SuffixResult, error) {
	start := time.Now()
	if err := s.enter(ctx, "PrefillSuffix"); err != nil {
		return transport.SuffixResult{}, err
	}
	toks := append([]transport.Token(nil), in.Tokens...)
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(toks) == 0 {
		if !s.b.cfg.Bugs.AcceptEmptySuffix {
			return transport.SuffixResult{}, transport.ErrEmptySuffix
		}
		if len(c.kv) == 0 {
			return transport.SuffixResult{}, errors.New("fake: PrefillSuffix: nothing to predict from")
		}
		s.trim(c.prefixLen)
		c.pending, c.hasPending = s.next(), true
		return transport.SuffixResult{FirstToken: c.pending, TTFT: time.Since(start)}, nil
	}
	if err := s.validate("PrefillSuffix", toks); err != nil {
		return transport.SuffixResult{}, err
	}
	if c.prefixLen+len(toks) > s.b.cfg.Context {
		return transport.SuffixResult{}, s.overContext("PrefillSuffix", c.prefixLen, len(toks))
	}
	s.trim(c.prefixLen)
	for _, t := range toks {
		s.push(t)
	}
	c.pending, c.hasPending = s.next(), true
	return transport.SuffixResult{FirstToken: c.pending, SuffixTokens: len(toks), TTFT: time.Since(start)}, nil
}

// Decode generates up to n tokens greedily, checking ctx between tokens.
func (s *Session) Decode(ctx context.Context, n int) (transport.DecodeResult, error) {
	if s.closed {
		return transport.DecodeResult{}, s.closedErr()
	}
	start := time.Now()
	if n < 0 {
		return transport.DecodeResult{}, fmt.Errorf("fake: Decode: negative token count %d", n)
	}
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.hasPending {
		return transport.DecodeResult{}, fmt.Errorf("fake: %w", transport.ErrNoPending)
	}
	if len(c.kv)+n > s.b.cfg.Context {
		return transport.DecodeResult{}, s.overContext("Decode", len(c.kv), n)
	}
	out := make([]transport.Token, 0, n)
	for range n {
		if !s.b.cfg.Bugs.IgnoreCancel {
			if err := ctx.Err(); err != nil {
				if s.b.cfg.Bugs.CancelLosesToken {
					c.pending = (c.pending + 1) % transport.Token(s.b.cfg.Vocab)
				}
				return transport.DecodeResult{Tokens: out, Elapsed: time.Since(start)}, fmt.Errorf("fake: Decode: %w", err)
			}
		}
		s.push(c.pending)
		c.pending = s.next()
		out = append(out, c.pending)
	}
	return transport.DecodeResult{Tokens: out, Elapsed: time.Since(start)}, nil
}

// Close frees the session; it is idempotent (unless CloseNotIdempotent).
func (s *Session) Close() error {
	if s.closed {
		if s.b.cfg.Bugs.CloseNotIdempotent {
			return errors.New("fake: session closed twice")
		}
		return nil
	}
	s.closed = true
	return nil
}
