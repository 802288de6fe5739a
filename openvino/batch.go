package openvino

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fakbench/fakbench/transport"
)

// Batched is the stateful writer's Backend with batched decode: the
// openvino row as the registry opens it (the explicit-kv ablation and the
// GGUF frontend's row, whose graph takes one sequence, are plain
// *Backend and have none).
type Batched struct {
	*Backend
}

var _ transport.BatchDecoder = (*Batched)(nil)

// DecodeBatch implements transport.BatchDecoder with a batch dimension: a
// fresh infer request whose variables hold B sequences ([B, positions,
// kv_heads, head_dim]), the prompts left-padded into one [B, L] block
// (L the longest prompt; attention_mask 0 on the padding slots, each
// sequence's positions from 0 at its first token) and prefilled together,
// then every decode step one inference of B tokens, so the weights are read
// once per step for all sequences. Tokens[i] are the steps tokens after the
// first greedy token, what Decode(steps) returns after PrefillSuffix of
// prompts[i] on a session.
func (b *Batched) DecodeBatch(ctx context.Context, prompts [][]transport.Token, steps int) (transport.BatchResult, error) {
	n := len(prompts)
	if n == 0 {
		return transport.BatchResult{}, errors.New("openvino: DecodeBatch: no prompts")
	}
	if steps < 0 {
		return transport.BatchResult{}, fmt.Errorf("openvino: DecodeBatch: negative steps %d", steps)
	}
	longest := 0
	for i, p := range prompts {
		if len(p) == 0 {
			return transport.BatchResult{}, fmt.Errorf("openvino: DecodeBatch: prompt %d: %w", i, transport.ErrEmptySuffix)
		}
		if err := transport.ValidateTokens(fmt.Sprintf("DecodeBatch prompt %d", i), p, b.spec.Vocab); err != nil {
			return transport.BatchResult{}, err
		}
		longest = max(longest, len(p))
	}
	// Every row has longest + steps slots; its rotary positions stay below
	// its own length + steps.
	if err := transport.CheckContext("DecodeBatch", 0, longest+steps, b.ctxLen); err != nil {
		return transport.BatchResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return transport.BatchResult{}, fmt.Errorf("openvino: DecodeBatch: %w", err)
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return transport.BatchResult{}, transport.ErrClosed
	}
	req, err := b.scompile.newRequest()
	if err == nil {
		b.sessions++ // Close waits for it like for a session
	}
	b.mu.Unlock()
	if err != nil {
		return transport.BatchResult{}, fmt.Errorf("openvino: DecodeBatch: %w", err)
	}
	defer func() {
		req.free()
		b.mu.Lock()
		b.sessions--
		b.mu.Unlock()
	}()

	// Prefill in chunks of about batch tokens in all.
	chunk := max(1, b.batch/n)
	slots := longest + steps
	bufs, err := newBatchBufs(n, max(chunk, 1), slots)
	if err != nil {
		return transport.BatchResult{}, err
	}
	defer bufs.free()

	res := transport.BatchResult{Sequences: n, PromptTokens: longest, Steps: steps, Tokens: make([][]transport.Token, n)}
	pending := make([]transport.Token, n)
	start := time.Now()
	for off := 0; off < longest; off += chunk {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("openvino: DecodeBatch: prefill: %w", err)
		}
		T := min(chunk, longest-off)
		ids, pos := bufs.ids.i64(), bufs.pos.i64()
		for s, p := range prompts {
			pad := longest - len(p)
			for t := 0; t < T; t++ {
				slot := off + t
				if slot < pad {
					ids[s*T+t], pos[s*T+t] = 0, 0 // a padding slot: hidden by the mask
					continue
				}
				ids[s*T+t], pos[s*T+t] = int64(p[slot-pad]), int64(slot-pad)
			}
		}
		last, err := bufs.run(req, prompts, longest, T, off+T, b.spec.Vocab)
		if err != nil {
			return res, fmt.Errorf("openvino: DecodeBatch: prefill of slots %d..%d: %w", off, off+T-1, err)
		}
		if off+T == longest {
			for s := range pending {
				pending[s] = argmax(last[s])
			}
		}
	}
	res.PrefillElapsed = time.Since(start)

	start = time.Now()
	for s := range res.Tokens {
		res.Tokens[s] = make([]transport.Token, 0, steps)
	}
	for step := 0; step < steps; step++ {
		if err := ctx.Err(); err != nil {
			res.DecodeElapsed = time.Since(start)
			return res, fmt.Errorf("openvino: DecodeBatch: cancelled after %d of %d steps: %w", step, steps, err)
		}
		ids, pos := bufs.ids.i64(), bufs.pos.i64()
		for s, p := range prompts {
			ids[s], pos[s] = int64(pending[s]), int64(len(p)+step)
		}
		last, err := bufs.run(req, prompts, longest, 1, longest+step+1, b.spec.Vocab)
		if err != nil {
			res.DecodeElapsed = time.Since(start)
			return res, fmt.Errorf("openvino: DecodeBatch: step %d: %w", step, err)
		}
		for s := range pending {
			pending[s] = argmax(last[s])
			res.Tokens[s] = append(res.Tokens[s], pending[s])
		}
	}
	res.DecodeElapsed = time.Since(start)
	return res, nil
}

// batchBufs are the C buffers of one DecodeBatch.
type batchBufs struct {
	ids, pos *cbuf // i64 [B, chunk]
	mask     *cbuf // i64 [B, slots]
	beam     *cbuf // i32 [B]: 0..B-1
}

func newBatchBufs(n, chunk, slots int) (*batchBufs, error) {
	bb := &batchBufs{}
	var err error
	for _, x := range []struct {
		dst  **cbuf
		size int
	}{{&bb.ids, n * chunk * 8}, {&bb.pos, n * chunk * 8}, {&bb.mask, n * slots * 8}, {&bb.beam, n * 4}} {
		if *x.dst, err = newCBuf(x.size); err != nil {
			bb.free()
			return nil, err
		}
	}
	for i := range bb.beam.i32() {
		bb.beam.i32()[i] = int32(i)
	}
	return bb, nil
}

func (bb *batchBufs) free() {
	bb.ids.free()
	bb.pos.free()
	bb.mask.free()
	bb.beam.free()
}

// run feeds ids and pos ([B, T], already filled) with an attention_mask of
// S slots (the left padding of each prompt hidden) and returns each row's
// last logits.
func (bb *batchBufs) run(req *shimRequest, prompts [][]transport.Token, longest, T, S, vocab int) ([][]float32, error) {
	n := len(prompts)
	mask := bb.mask.i64()[:n*S]
	for s, p := range prompts {
		pad := longest - len(p)
		row := mask[s*S : (s+1)*S]
		for j := range row {
			row[j] = 1
			if j < pad {
				row[j] = 0
			}
		}
	}
	for _, in := range []struct {
		name string
		typ  int
		dims []int64
		buf  *cbuf
	}{
		{"input_ids", fakI64, []int64{int64(n), int64(T)}, bb.ids},
		{"position_ids", fakI64, []int64{int64(n), int64(T)}, bb.pos},
		{"attention_mask", fakI64, []int64{int64(n), int64(S)}, bb.mask},
		{"beam_idx", fakI32, []int64{int64(n)}, bb.beam},
	} {
		if err := req.setInput(in.name, in.typ, in.dims, in.buf.p); err != nil {
			return nil, err
		}
	}
	if err := req.infer(); err != nil {
		return nil, err
	}
	shape, lg, err := req.outputF32(0)
	if err != nil {
		return nil, err
	}
	return lastRow(shape, lg, vocab, n)
}

// argmax is the greedy token: the index of the largest logit, ties going
// to the lowest id (as the session core picks).
func argmax(x []float32) transport.Token {
	best := 0
	for i := 1; i < len(x); i++ {
		if x[i] > x[best] {
			best = i
		}
	}
	return transport.Token(best)
}
