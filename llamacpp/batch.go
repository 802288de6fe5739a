package llamacpp

import (
	"context"
	"fmt"
	"time"

	"github.com/fakbench/fakbench/transport"
	"github.com/fakbench/fakbench/transport/session"
)

var _ transport.BatchDecoder = (*Backend)(nil)

// DecodeBatch implements transport.BatchDecoder, as llama-batched-bench
// does: a fresh context with n_seq_max = B (one KV stream per sequence),
// each prompt prefilled on its own sequence id, then every decode step one
// llama_decode of B tokens (one per sequence), so the weights are read once
// per step for all sequences. Tokens[i] are the steps tokens after the
// first greedy token, exactly what Decode(steps) returns after
// PrefillSuffix(prompts[i]) on a session.
func (b *Backend) DecodeBatch(ctx context.Context, prompts [][]transport.Token, steps int) (transport.BatchResult, error) {
	n := len(prompts)
	longest, err := session.CheckBatch(ctx, "llamacpp", prompts, steps, b.meta.nVocab, b.limit)
	if err != nil {
		return transport.BatchResult{}, err
	}
	if maxSeq := nativeMaxSequences(); n > maxSeq {
		return transport.BatchResult{}, fmt.Errorf("llamacpp: DecodeBatch: %d sequences, llama.cpp allows at most %d", n, maxSeq)
	}
	if n > b.cfg.nBatch {
		return transport.BatchResult{}, fmt.Errorf("llamacpp: DecodeBatch: %d sequences do not fit one decode step of n_batch %d", n, b.cfg.nBatch)
	}

	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return transport.BatchResult{}, transport.ErrClosed
	}
	perSeq := longest + steps
	nc, err := b.model.newContext(b.cfg.ctxParams(n*perSeq, n))
	if err != nil {
		b.mu.Unlock()
		return transport.BatchResult{}, fmt.Errorf("llamacpp: DecodeBatch: %w", err)
	}
	b.inflight.Add(1)
	b.mu.Unlock()
	cancel := &canceller{nc: nc}
	defer func() {
		cancel.release()
		nc.free()
		b.inflight.Done()
	}()
	disarm := cancel.arm(ctx)
	defer disarm()

	res := transport.BatchResult{Sequences: n, PromptTokens: longest, Steps: steps, Tokens: make([][]transport.Token, n)}
	pending := make([]int32, n)
	pos := make([]int32, n)
	seqs := make([]int32, n)

	start := time.Now()
	for i, p := range prompts {
		for off := 0; off < len(p); off += nc.nBatch {
			if err := ctx.Err(); err != nil {
				return res, fmt.Errorf("llamacpp: DecodeBatch: prefill of sequence %d: %w", i, err)
			}
			end := min(off+nc.nBatch, len(p))
			if rc := nc.decodeSeq(p[off:end], off, i, end == len(p)); rc != 0 {
				return res, fmt.Errorf("llamacpp: DecodeBatch: prefill of sequence %d: %w", i, decodeError(ctx, rc))
			}
		}
		t := nc.argmax(-1)
		if t < 0 {
			return res, fmt.Errorf("llamacpp: DecodeBatch: no logits after the prompt of sequence %d", i)
		}
		pending[i], pos[i], seqs[i] = t, int32(len(p)), int32(i)
	}
	res.PrefillElapsed = time.Since(start)

	err = session.DecodeSteps(ctx, "llamacpp", &res, steps, func(step int) ([]transport.Token, error) {
		if rc := nc.decodeMulti(pending, pos, seqs); rc != 0 {
			return nil, decodeError(ctx, rc)
		}
		for i := range n {
			t := nc.argmax(i)
			if t < 0 {
				return nil, fmt.Errorf("no logits for sequence %d", i)
			}
			pending[i] = t
			pos[i]++
		}
		return pending, nil
	})
	return res, err
}
