// Package sabotage wraps a working backend so that its sessions misbehave
// in one of the ways a real adapter's prefix reuse can go wrong, while
// their bookkeeping (PrefixResult) tells the story a buggy adapter would
// tell. The harness and the conformance kit must flag every kind; the
// tests in this package hold them to it, on the Go kernel with the default
// synthetic model and with the real model.
package sabotage

import (
	"context"
	"fmt"
	"slices"

	"github.com/fakbench/fakbench/transport"
)

// Kind is one way to misbehave.
type Kind string

// The kinds of sabotage. k is the common prefix of what the session held
// and the new prefix, n the new prefix's length.
const (
	// ReuseOneTooMany keeps the old token's state at position k (the first
	// that changed) and reports k+1 tokens reused.
	ReuseOneTooMany Kind = "reuse-one-too-many"
	// DropLastPrefixToken, when the session reuses a prefix, makes only
	// the first n-1 tokens resident and reports all n.
	DropLastPrefixToken Kind = "drop-last-prefix-token"
	// SkipEdit ignores a same-length edit: the old prefix stays resident,
	// reported as a full hit.
	SkipEdit Kind = "skip-edit"
	// ReuseWhileRecomputing, when the session could reuse a prefix,
	// recomputes it whole on a fresh engine session and reports the common
	// prefix as reused: right output, false accounting, a warm call as
	// slow as a cold one.
	ReuseWhileRecomputing Kind = "reuse-while-recomputing"
	// StaleKVAfterEdit keeps the old token's state at the edit and reports
	// a precise miss (k reused, n-k recomputed).
	StaleKVAfterEdit Kind = "stale-kv-after-edit"
)

// Kinds lists every kind.
func Kinds() []Kind {
	return []Kind{ReuseOneTooMany, DropLastPrefixToken, SkipEdit, ReuseWhileRecomputing, StaleKVAfterEdit}
}

// Wrap returns b with sessions that misbehave as k says.
func Wrap(b transport.Backend, k Kind) transport.Backend { return &backend{Backend: b, kind: k} }

type backend struct {
	transport.Backend
	kind Kind
}

func (b *backend) NewSession(ctx context.Context) (transport.Session, error) {
	s, err := b.Backend.NewSession(ctx)
	if err != nil {
		return nil, err
	}
	return &session{inner: s, b: b}, nil
}

type session struct {
	inner transport.Session
	b     *backend
	held  []transport.Token // the prefix the session claims is resident
}

func (s *session) EnsurePrefix(ctx context.Context, p transport.PrefixInput) (transport.PrefixResult, error) {
	n := len(p.Tokens)
	k := transport.CommonPrefix(s.held, p.Tokens)
	changed := k < n && k < len(s.held)
	feed, reused := p.Tokens, k
	switch s.b.kind {
	case ReuseOneTooMany, StaleKVAfterEdit:
		if changed {
			feed = slices.Clone(p.Tokens)
			feed[k] = s.held[k]
			if s.b.kind == ReuseOneTooMany {
				reused = k + 1
			}
		}
	case DropLastPrefixToken:
		if k > 0 && n > 1 { // the reuse path only: a fresh session is right
			feed = p.Tokens[:n-1]
		}
	case SkipEdit:
		if changed && len(s.held) == n {
			feed, reused = s.held, n
		}
	case ReuseWhileRecomputing:
		if k == 0 {
			break // nothing to reuse: an honest cold prefill
		}
		fresh, err := s.b.Backend.NewSession(ctx)
		if err != nil {
			return transport.PrefixResult{}, err
		}
		_ = s.inner.Close()
		s.inner = fresh
	}
	pr, err := s.inner.EnsurePrefix(ctx, transport.PrefixInput{Key: p.Key, Tokens: feed})
	if err != nil {
		return pr, err
	}
	s.held = slices.Clone(p.Tokens)
	pr.ReusedTokens, pr.ComputedTokens = reused, n-reused
	return pr, nil
}

func (s *session) PrefillSuffix(ctx context.Context, in transport.SuffixInput) (transport.SuffixResult, error) {
	return s.inner.PrefillSuffix(ctx, in)
}

func (s *session) Decode(ctx context.Context, n int) (transport.DecodeResult, error) {
	return s.inner.Decode(ctx, n)
}

func (s *session) Close() error { return s.inner.Close() }

// LastLogits passes the engine's logits through: the sabotage is in what
// the engine computed on, not in what it reports of its output.
func (s *session) LastLogits() ([]float32, error) {
	if lr, ok := s.inner.(transport.LogitsReader); ok {
		return lr.LastLogits()
	}
	return nil, errNoLogits
}

var errNoLogits = &transport.UnavailableError{Backend: "sabotage", Reason: "the wrapped session exposes no logits"}

// NativeCache passes the engine's own cache state through: the sabotage
// is in the bookkeeping, and the engine's evidence should show it.
func (s *session) NativeCache() (transport.CacheState, error) {
	if ci, ok := s.inner.(transport.CacheInspector); ok {
		return ci.NativeCache()
	}
	return transport.CacheState{}, fmt.Errorf("sabotage: the wrapped session has no native cache view: %w", transport.ErrNoNativeCache)
}
