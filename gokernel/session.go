package gokernel

import (
	"context"

	"github.com/fakbench/fakbench/transport"
	"github.com/fakbench/fakbench/transport/session"
)

// Session is one KV cache on a Model. It implements transport.Session and
// transport.LogitsReader through the shared session core, over the kernel's
// forward pass, and is driven by one goroutine at a time.
type Session struct {
	*session.Core
	st *state // the engine's KV cache and scratch buffers
}

var (
	_ transport.Session        = (*Session)(nil)
	_ transport.LogitsReader   = (*Session)(nil)
	_ transport.CacheInspector = (*Session)(nil)
	_ session.Inspector        = (*engine)(nil)
)

// NewSession opens a session with an empty cache. Its KV cache and scratch
// buffers are allocated here, once.
func (m *Model) NewSession() (*Session, error) { return m.newSession(false) }

// newSession opens a session; with noReuse its EnsurePrefix never reuses
// resident positions (the prefix_reuse=off ablation).
func (m *Model) newSession(noReuse bool) (*Session, error) {
	m.life.RLock()
	defer m.life.RUnlock()
	if m.closed {
		return nil, transport.ErrClosed
	}
	e := &engine{m: m, st: newState(m)}
	cfg := session.Config{Name: "gokernel", Limit: m.ctxLen, Vocab: m.HP.Vocab, NoPrefixReuse: noReuse}
	return &Session{Core: session.New(cfg, e), st: e.st}, nil
}

// engine is the kernel's side of a session: a KV cache the forward pass
// appends to, and the logits of the last position it computed.
type engine struct {
	m  *Model
	st *state
}

// Begin holds the model open until the call ends.
func (e *engine) Begin(context.Context) (func(), error) {
	e.m.life.RLock()
	if e.m.closed {
		e.m.life.RUnlock()
		return nil, transport.ErrClosed
	}
	return e.m.life.RUnlock, nil
}

// Keep drops positions from n on: the forward pass only attends to the
// positions before the one it computes, so no row needs clearing; the KV
// length is cut to n.
func (e *engine) Keep(n int) int {
	e.st.truncate(n)
	return n
}

// kvSource says what the kernel's native cache state is.
const kvSource = "gokernel: the KV cache's length, rows [0, n) stored by the forward pass in one unbroken history and cut by Keep (state.rows), kept apart from the session's token books"

// Cache implements session.Inspector from the kernel's KV length.
func (e *engine) Cache() (transport.CacheState, error) {
	st := transport.CacheState{First: -1, Positions: e.st.rows, Source: kvSource}
	if st.Positions > 0 {
		st.First = 0
	}
	return st, nil
}

// Feed computes toks in chunks, checking ctx between chunks (the core has
// checked it before the first).
func (e *engine) Feed(ctx context.Context, pos int, toks []transport.Token, wantLogits bool) (int, error) {
	chunk := e.m.chunk
	for off := 0; off < len(toks); off += chunk {
		if off > 0 {
			if err := ctx.Err(); err != nil {
				return pos + off, err
			}
		}
		part := toks[off:min(off+chunk, len(toks))]
		mode := headNone
		if wantLogits && off+len(part) == len(toks) {
			mode = headLast
		}
		e.m.compute.Lock()
		e.st.forward(part, pos+off, mode, nil)
		e.m.compute.Unlock()
	}
	return pos + len(toks), nil
}

// Logits returns the last computed logits (the core reads them only while
// they belong to the last resident position).
func (e *engine) Logits() []float32 { return e.st.logits }

// Close drops the cache and scratch buffers.
func (e *engine) Close() error {
	e.st = nil
	return nil
}
