package gokernel

import (
	"context"
	"fmt"
	"time"

	"github.com/fakbench/fakbench/transport"
	"github.com/fakbench/fakbench/transport/session"
)

var _ transport.BatchDecoder = (*Backend)(nil)

// DecodeBatch implements transport.BatchDecoder; see Model.DecodeBatch.
func (b *Backend) DecodeBatch(ctx context.Context, prompts [][]transport.Token, steps int) (transport.BatchResult, error) {
	return b.m.DecodeBatch(ctx, prompts, steps)
}

// DecodeBatch prefills each prompt as its own sequence (its own KV cache,
// sized for its prompt plus steps positions) and then decodes steps tokens
// greedily for all of them together: every step is one forward pass over
// the B pending tokens, so each weight matrix is read once per step for all
// sequences, while attention runs per sequence against its own cache and
// position. Tokens[i] are the steps tokens after the first greedy token,
// exactly what Session.Decode(steps) returns after PrefillSuffix(prompts[i]).
//
// Everything is checked before anything runs (session.CheckBatch): no
// prompts, negative steps, an empty prompt, a token outside the vocabulary,
// or a sequence that does not fit the context (a
// *transport.OverContextError naming the longest prompt) is an error. ctx
// is checked between prefill chunks and between decode steps
// (session.DecodeSteps); on cancellation the tokens generated so far are
// returned with an error wrapping ctx.Err(). The decode steps allocate
// nothing (the worker pool's activation buffers may grow once, on the
// first step, when B exceeds every token count it has seen).
func (m *Model) DecodeBatch(ctx context.Context, prompts [][]transport.Token, steps int) (transport.BatchResult, error) {
	longest, err := session.CheckBatch(ctx, "gokernel", prompts, steps, m.HP.Vocab, m.ctxLen)
	if err != nil {
		return transport.BatchResult{}, err
	}
	m.life.RLock()
	defer m.life.RUnlock()
	if m.closed {
		return transport.BatchResult{}, transport.ErrClosed
	}
	r := newBatchRun(m, prompts, steps)
	res := transport.BatchResult{Sequences: len(prompts), PromptTokens: longest, Steps: steps,
		Tokens: make([][]transport.Token, len(prompts))}

	start := time.Now()
	for i := range prompts {
		if err := r.prefill(ctx, i); err != nil {
			res.PrefillElapsed = time.Since(start)
			return res, err
		}
	}
	res.PrefillElapsed = time.Since(start)

	err = session.DecodeSteps(ctx, "gokernel", &res, steps, func(int) ([]transport.Token, error) {
		m.compute.Lock()
		defer m.compute.Unlock()
		r.step()
		return r.pending, nil
	})
	return res, err
}

// batchRun is one DecodeBatch call's memory: a scratch state sized for
// max(chunk, B) tokens, each sequence's KV cache, and the batch side of the
// decode step. Everything is allocated by newBatchRun; prefill and step
// allocate nothing.
type batchRun struct {
	m       *Model
	st      *state
	ms      multiSeq
	prompts [][]transport.Token
	pending []transport.Token // pending[i]: sequence i's next token to feed
	logits  []float32         // B x Vocab, the last step's logits
}

// multiSeq is the per-sequence side of a batched decode step (state.multi):
// token i of the step is sequence i's pending token at position pos[i].
type multiSeq struct {
	st  *state
	pos []int
	// kCache[i][l] and vCache[i][l] are sequence i's f16 cache of layer l.
	kCache, vCache [][][]byte
}

func newBatchRun(m *Model, prompts [][]transport.Token, steps int) *batchRun {
	hp, nb := m.HP, len(prompts)
	kvd := hp.KVDim()
	r := &batchRun{m: m, prompts: prompts}
	r.st = newScratch(m, max(m.chunk, nb))
	r.pending = make([]transport.Token, nb)
	r.logits = make([]float32, nb*hp.Vocab)

	ms := &r.ms
	ms.st = r.st
	ms.pos = make([]int, nb)
	// One slab each for all keys and all values; sequence i, layer l gets
	// len(prompt i)+steps positions of it.
	total := 0
	for _, p := range prompts {
		total += len(p) + steps
	}
	kTotal := 0
	for _, p := range prompts {
		kTotal += keyCacheBytes(hp, len(p)+steps)
	}
	kSlab := make([]byte, hp.Layers*kTotal)
	vSlab := make([]byte, 2*hp.Layers*total*kvd)
	ms.kCache = make([][][]byte, nb)
	ms.vCache = make([][][]byte, nb)
	kOff, vOff := 0, 0
	for i, p := range prompts {
		nk, nv := keyCacheBytes(hp, len(p)+steps), 2*(len(p)+steps)*kvd
		ms.kCache[i] = make([][]byte, hp.Layers)
		ms.vCache[i] = make([][]byte, hp.Layers)
		for l := range hp.Layers {
			ms.kCache[i][l] = kSlab[kOff : kOff+nk : kOff+nk]
			ms.vCache[i][l] = vSlab[vOff : vOff+nv : vOff+nv]
			kOff += nk
			vOff += nv
		}
	}
	return r
}

// prefill computes prompt i into sequence i's cache in chunks, checking ctx
// between chunks, and leaves its greedy next token pending.
func (r *batchRun) prefill(ctx context.Context, i int) error {
	m, st, p := r.m, r.st, r.prompts[i]
	st.multi = nil
	st.kCache, st.vCache = r.ms.kCache[i], r.ms.vCache[i]
	for off := 0; off < len(p); off += m.chunk {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("gokernel: DecodeBatch: prefill of sequence %d cancelled after %d of %d tokens: %w",
				i, off, len(p), err)
		}
		part := p[off:min(off+m.chunk, len(p))]
		mode := headNone
		if off+len(part) == len(p) {
			mode = headLast
		}
		m.compute.Lock()
		st.forward(part, off, mode, nil)
		m.compute.Unlock()
	}
	r.pending[i] = transport.Token(argmax(st.logits))
	r.ms.pos[i] = len(p)
	return nil
}

// step runs one batched decode step: every sequence's pending token goes
// in at its position, and its greedy successor becomes pending. The caller
// holds m.compute. It allocates nothing.
func (r *batchRun) step() {
	st, ms, vocab := r.st, &r.ms, r.m.HP.Vocab
	st.multi = ms
	st.kCache, st.vCache = nil, nil
	st.forward(r.pending, 0, headAll, r.logits)
	for i := range r.pending {
		r.pending[i] = transport.Token(argmax(r.logits[i*vocab : (i+1)*vocab]))
		ms.pos[i]++
	}
}
