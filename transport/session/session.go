// Package session is the transport.Session contract implemented once, over
// a few primitives each backend's engine provides (keep the first n cache
// positions, feed tokens at the end, read the last logits). The prefix
// bookkeeping, greedy arg-max, the typed errors and the cancellation rules
// live here, so every backend behaves identically at the edges.
//
// The package holds no cgo and no backend code.
package session

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/fakbench/fakbench/transport"
)

// Engine is one KV cache as a backend drives it. The Core calls it from one
// goroutine at a time, never after Close, and only with positions it has
// checked against Config.Limit.
type Engine interface {
	// Begin starts a call of the Core (ctx is the call's context; LastLogits
	// passes context.Background()). It fails with transport.ErrClosed when
	// the backend behind the engine is closed; otherwise end is called when
	// the call returns (release a read lock, disarm an abort flag).
	Begin(ctx context.Context) (end func(), err error)
	// Keep drops every cache position >= n (n is at most the positions
	// held) and returns how many positions the cache holds afterwards: n,
	// or fewer where the engine could only drop more (0 after a full clear).
	Keep(n int) (held int)
	// Feed computes toks (never empty) at positions pos, pos+1, ... (pos
	// is the number of positions held), checking ctx between the pieces it
	// computes (the Core checks ctx just before each Feed, so a check
	// before the first piece is redundant). With wantLogits the logits of the last token are kept for
	// Logits. It returns how many positions the cache holds afterwards
	// (pos+len(toks) on success) and, on cancellation, an error wrapping
	// ctx.Err(); on any error the held count says exactly what landed.
	Feed(ctx context.Context, pos int, toks []transport.Token, wantLogits bool) (held int, err error)
	// Logits returns the logits kept by the last Feed with wantLogits (a
	// view the Core only reads, valid until the next Feed or Keep), or nil
	// when the engine has none.
	Logits() []float32
	// Close frees the cache. The Core calls it once.
	Close() error
}

// Inspector is implemented by engines that can read their own cache's
// state (llama.cpp's memory, the kernel's KV length); the Core then serves
// it as transport.CacheInspector. Cache is called between the Core's calls
// and, in EnsurePrefix, right after Keep: it must read the engine, never
// the Core's books.
type Inspector interface {
	// Cache returns what the engine's cache holds for the session's
	// sequence: Positions, First and Source (the Core fills Kept).
	Cache() (transport.CacheState, error)
}

// Config describes the session's backend.
type Config struct {
	// Name prefixes the errors the Core makes, e.g. "gokernel".
	Name string
	// Limit is the context size in positions.
	Limit int
	// Vocab is the vocabulary size (the length of a logits vector).
	Vocab int
	// NoPrefixReuse makes EnsurePrefix drop every resident position and
	// compute the whole prefix (the prefix_reuse=off ablation).
	NoPrefixReuse bool
}

// Core implements transport.Session and transport.LogitsReader over an
// Engine. Its methods are serialised by a mutex, so Locked (the backend's
// own between-calls work) may run from another goroutine.
type Core struct {
	cfg Config
	eng Engine

	mu sync.Mutex
	// tokens are the tokens whose K/V the cache holds, at positions
	// 0..len-1; tokens[:prefix] is the current prefix.
	tokens []transport.Token
	prefix int
	// pending is the last token returned (by PrefillSuffix or Decode),
	// known but not yet in the cache.
	pending    transport.Token
	hasPending bool
	// logitsPos is the position whose logits the engine holds, -1 none.
	logitsPos int
	// kept is what the engine's own cache held (Inspector) when the last
	// EnsurePrefix began computing, -1 none or unknown.
	kept   int
	closed bool
}

var (
	_ transport.Session        = (*Core)(nil)
	_ transport.LogitsReader   = (*Core)(nil)
	_ transport.CacheInspector = (*Core)(nil)
)

// New returns a session with an empty cache over eng.
func New(cfg Config, eng Engine) *Core {
	return &Core{cfg: cfg, eng: eng, logitsPos: -1, kept: -1}
}

// errorf prefixes an error with the backend's name.
func (c *Core) errorf(format string, args ...any) error {
	return fmt.Errorf(c.cfg.Name+": "+format, args...)
}

// begin locks the session for one call and starts the engine's call.
func (c *Core) begin(ctx context.Context) (func(), error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, transport.ErrClosed
	}
	end, err := c.eng.Begin(ctx)
	if err != nil {
		c.mu.Unlock()
		return nil, err
	}
	return func() { end(); c.mu.Unlock() }, nil
}

// keep drops every position from n on, in the engine and in the books.
func (c *Core) keep(n int) {
	if n < len(c.tokens) {
		n = min(n, c.eng.Keep(n))
	}
	c.drop(n)
}

// drop forgets every position from n on (the engine has dropped them).
func (c *Core) drop(n int) {
	c.tokens = c.tokens[:min(n, len(c.tokens))]
	c.prefix = min(c.prefix, n)
	if c.logitsPos >= n {
		c.logitsPos = -1
	}
	c.hasPending = false
}

// feed appends toks to the cache and returns how many landed. On an error
// the books follow what the engine says it holds.
func (c *Core) feed(ctx context.Context, toks []transport.Token, wantLogits bool) (int, error) {
	if len(toks) == 0 {
		return 0, nil
	}
	pos := len(c.tokens)
	held, err := c.eng.Feed(ctx, pos, toks, wantLogits)
	held = max(0, min(held, pos+len(toks)))
	if held < pos {
		// The engine lost more than it was fed (a full clear on failure).
		c.drop(held)
		return 0, err
	}
	c.tokens = append(c.tokens, toks[:held-pos]...)
	switch {
	case err == nil && wantLogits:
		c.logitsPos = held - 1
	case c.logitsPos >= pos:
		c.logitsPos = -1
	}
	return held - pos, err
}

// stopped describes a call that ended after done of total tokens.
func (c *Core) stopped(ctx context.Context, op string, done, total int, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return c.errorf("%s: cancelled after %d of %d tokens: %w", op, done, total, err)
	}
	return c.errorf("%s: stopped after %d of %d tokens: %w", op, done, total, err)
}

// argmax returns the greedy token of the engine's logits: the index of the
// largest value, ties going to the lowest id.
func (c *Core) argmax(op string) (transport.Token, error) {
	x := c.eng.Logits()
	if len(x) != c.cfg.Vocab {
		return 0, c.errorf("%s: the engine returned %d logits, want %d", op, len(x), c.cfg.Vocab)
	}
	return Greedy(x), nil
}

// Greedy is the greedy token of logits: the index of the largest value,
// ties going to the lowest id (0 for no logits). Every backend's session
// picks its tokens with it, and a batched decode must pick the same.
func Greedy(logits []float32) transport.Token {
	best := 0
	for i := 1; i < len(logits); i++ {
		if logits[i] > logits[best] {
			best = i
		}
	}
	return transport.Token(best)
}

// EnsurePrefix implements transport.Session. It keeps the longest common
// prefix of in.Tokens and the resident tokens and computes the rest; the
// last prefix position's logits are kept (LastLogits reads them). Bad input,
// an over-context request or a context already done change nothing.
func (c *Core) EnsurePrefix(ctx context.Context, in transport.PrefixInput) (transport.PrefixResult, error) {
	start := time.Now()
	end, err := c.begin(ctx)
	if err != nil {
		return transport.PrefixResult{}, err
	}
	defer end()
	if err := transport.ValidateTokens("EnsurePrefix", in.Tokens, c.cfg.Vocab); err != nil {
		return transport.PrefixResult{}, err
	}
	keep := transport.CommonPrefix(c.tokens, in.Tokens)
	if c.cfg.NoPrefixReuse {
		keep = 0
	}
	if err := transport.CheckContext("EnsurePrefix", keep, len(in.Tokens)-keep, c.cfg.Limit); err != nil {
		return transport.PrefixResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return transport.PrefixResult{}, c.errorf("EnsurePrefix: cancelled after 0 of %d tokens: %w", len(in.Tokens)-keep, err)
	}
	c.keep(keep)
	c.kept = c.engineHolds()
	keep = len(c.tokens)
	c.prefix = keep
	computed, err := c.feed(ctx, in.Tokens[keep:], true)
	c.prefix = len(c.tokens)
	res := transport.PrefixResult{ReusedTokens: keep, ComputedTokens: computed, Elapsed: time.Since(start)}
	if err != nil {
		return res, c.stopped(ctx, "EnsurePrefix", computed, len(in.Tokens)-keep, err)
	}
	return res, nil
}

// PrefillSuffix implements transport.Session: it drops whatever follows the
// prefix, prefills in.Tokens and returns the greedy next token, which
// becomes pending. Bad input, an over-context request or a context already
// done change nothing.
func (c *Core) PrefillSuffix(ctx context.Context, in transport.SuffixInput) (transport.SuffixResult, error) {
	start := time.Now()
	end, err := c.begin(ctx)
	if err != nil {
		return transport.SuffixResult{}, err
	}
	defer end()
	if len(in.Tokens) == 0 {
		return transport.SuffixResult{}, transport.ErrEmptySuffix
	}
	if err := transport.ValidateTokens("PrefillSuffix", in.Tokens, c.cfg.Vocab); err != nil {
		return transport.SuffixResult{}, err
	}
	if err := transport.CheckContext("PrefillSuffix", c.prefix, len(in.Tokens), c.cfg.Limit); err != nil {
		return transport.SuffixResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return transport.SuffixResult{}, c.errorf("PrefillSuffix: cancelled after 0 of %d tokens: %w", len(in.Tokens), err)
	}
	c.keep(c.prefix)
	fed, err := c.feed(ctx, in.Tokens, true)
	if err != nil {
		return transport.SuffixResult{SuffixTokens: fed, TTFT: time.Since(start)},
			c.stopped(ctx, "PrefillSuffix", fed, len(in.Tokens), err)
	}
	tok, err := c.argmax("PrefillSuffix")
	if err != nil {
		c.logitsPos = -1
		return transport.SuffixResult{SuffixTokens: fed, TTFT: time.Since(start)}, err
	}
	c.pending, c.hasPending = tok, true
	return transport.SuffixResult{FirstToken: tok, SuffixTokens: fed, TTFT: time.Since(start)}, nil
}

// Decode implements transport.Session: each step feeds the pending token and
// takes the arg-max of its logits. ctx is checked before each token (and by
// the engine while it computes one). On cancellation it returns the tokens
// made so far with an error wrapping ctx.Err(); the cache then holds exactly
// the tokens fed and the last generated token stays pending. Decode(0)
// returns an empty, non-nil slice.
func (c *Core) Decode(ctx context.Context, n int) (transport.DecodeResult, error) {
	start := time.Now()
	end, err := c.begin(ctx)
	if err != nil {
		return transport.DecodeResult{}, err
	}
	defer end()
	if n < 0 {
		return transport.DecodeResult{}, c.errorf("Decode: negative token count %d", n)
	}
	if n == 0 {
		return transport.DecodeResult{Tokens: []transport.Token{}, Elapsed: time.Since(start)}, nil
	}
	if !c.hasPending {
		return transport.DecodeResult{}, c.errorf("%w", transport.ErrNoPending)
	}
	if err := transport.CheckContext("Decode", len(c.tokens), n, c.cfg.Limit); err != nil {
		return transport.DecodeResult{}, err
	}
	out := make([]transport.Token, 0, n)
	one := make([]transport.Token, 1)
	for len(out) < n {
		if err := ctx.Err(); err != nil {
			return transport.DecodeResult{Tokens: out, Elapsed: time.Since(start)},
				c.errorf("Decode: cancelled after %d of %d tokens: %w", len(out), n, err)
		}
		one[0] = c.pending
		if fed, err := c.feed(ctx, one, true); err != nil {
			// A token that did not land stays pending: the session goes on
			// from where it stopped.
			if fed > 0 {
				c.hasPending = false
			}
			return transport.DecodeResult{Tokens: out, Elapsed: time.Since(start)},
				c.stopped(ctx, "Decode", len(out), n, err)
		}
		tok, err := c.argmax("Decode")
		if err != nil {
			c.logitsPos, c.hasPending = -1, false
			return transport.DecodeResult{Tokens: out, Elapsed: time.Since(start)}, err
		}
		c.pending = tok
		out = append(out, tok)
	}
	return transport.DecodeResult{Tokens: out, Elapsed: time.Since(start)}, nil
}

// LastLogits implements transport.LogitsReader: a copy of the logits of the
// last resident position (those that produced the pending token).
func (c *Core) LastLogits() ([]float32, error) {
	end, err := c.begin(context.Background())
	if err != nil {
		return nil, err
	}
	defer end()
	if c.logitsPos < 0 || c.logitsPos != len(c.tokens)-1 {
		return nil, c.errorf("%w", transport.ErrNoLogits)
	}
	x := c.eng.Logits()
	if len(x) != c.cfg.Vocab {
		return nil, c.errorf("LastLogits: the engine returned %d logits, want %d", len(x), c.cfg.Vocab)
	}
	return append([]float32(nil), x...), nil
}

// engineHolds reads how many positions the engine's own cache holds, -1
// when the engine cannot say (no Inspector, or the read failed).
func (c *Core) engineHolds() int {
	insp, ok := c.eng.(Inspector)
	if !ok {
		return -1
	}
	st, err := insp.Cache()
	if err != nil {
		return -1
	}
	return st.End()
}

// NativeCache implements transport.CacheInspector: the engine's own view
// of its cache (Inspector), with Kept, what it held when the last
// EnsurePrefix began computing. An engine without an Inspector gives an
// error wrapping transport.ErrNoNativeCache.
func (c *Core) NativeCache() (transport.CacheState, error) {
	end, err := c.begin(context.Background())
	if err != nil {
		return transport.CacheState{}, err
	}
	defer end()
	insp, ok := c.eng.(Inspector)
	if !ok {
		return transport.CacheState{}, c.errorf("NativeCache: %w", transport.ErrNoNativeCache)
	}
	st, err := insp.Cache()
	if err != nil {
		return transport.CacheState{}, c.errorf("NativeCache: reading the engine's cache: %w", err)
	}
	st.Kept = c.kept
	return st, nil
}

// Resident returns how many positions the cache holds.
func (c *Core) Resident() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.tokens)
}

// Tokens returns a copy of the tokens whose K/V the cache holds.
func (c *Core) Tokens() []transport.Token {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]transport.Token(nil), c.tokens...)
}

// Locked runs f while no call of the session runs (for a backend's own work
// between calls); open is false once the session is closed.
func (c *Core) Locked(f func(open bool)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(!c.closed)
}

// Close frees the engine's cache. It is idempotent; any other call after
// Close returns transport.ErrClosed.
func (c *Core) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	c.tokens = nil
	c.hasPending, c.logitsPos = false, -1
	return c.eng.Close()
}
