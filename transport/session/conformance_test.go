package session_test

import (
	"context"
	"sync"
	"testing"

	"github.com/fakbench/fakbench/adapters/conformance"
	"github.com/fakbench/fakbench/transport"
	"github.com/fakbench/fakbench/transport/session"
)

// hashBackend is a backend whose sessions are session cores over hashEngine:
// the conformance kit run on it checks the core itself against the contract.
type hashBackend struct {
	mu     sync.Mutex
	closed bool
}

const (
	kitVocab   = 512
	kitContext = 256
)

func (b *hashBackend) Name() string                { return "hash" }
func (b *hashBackend) Version() string             { return "test" }
func (b *hashBackend) Settings() map[string]string { return map[string]string{} }
func (b *hashBackend) Info() transport.ModelInfo {
	return transport.ModelInfo{Name: "hash", ContextLength: kitContext, VocabSize: kitVocab}
}

func (b *hashBackend) NewSession(ctx context.Context) (transport.Session, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, transport.ErrClosed
	}
	cfg := session.Config{Name: "hash", Limit: kitContext, Vocab: kitVocab}
	return session.New(cfg, &hashEngine{b: b, logits: make([]float32, kitVocab)}), nil
}

func (b *hashBackend) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}

// hashEngine's cache is a running hash per position; the logits after a
// position are one-hot on its hash, so they depend on every token before.
type hashEngine struct {
	b      *hashBackend
	hashes []uint64
	logits []float32
}

func (e *hashEngine) Begin(context.Context) (func(), error) {
	e.b.mu.Lock()
	defer e.b.mu.Unlock()
	if e.b.closed {
		return nil, transport.ErrClosed
	}
	return func() {}, nil
}

func (e *hashEngine) Keep(n int) int {
	e.hashes = e.hashes[:n]
	return n
}

func (e *hashEngine) Feed(ctx context.Context, pos int, toks []transport.Token, wantLogits bool) (int, error) {
	for i, t := range toks {
		if i > 0 && i%8 == 0 {
			if err := ctx.Err(); err != nil {
				return len(e.hashes), err
			}
		}
		h := uint64(14695981039346656037)
		if len(e.hashes) > 0 {
			h = e.hashes[len(e.hashes)-1]
		}
		h = (h ^ uint64(t)) * 1099511628211
		e.hashes = append(e.hashes, h)
	}
	if wantLogits {
		clear(e.logits)
		e.logits[(e.hashes[len(e.hashes)-1]>>17)%kitVocab] = 1
	}
	return len(e.hashes), nil
}

func (e *hashEngine) Logits() []float32 { return e.logits }

func (e *hashEngine) Close() error {
	e.hashes = nil
	return nil
}

// The core over a trivial engine passes the whole conformance kit.
func TestCoreConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) transport.Backend { return &hashBackend{} }, conformance.Options{})
}
