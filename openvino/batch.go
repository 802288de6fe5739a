package openvino

import (
	"context"
	"fmt"
	"time"

	"github.com/fakbench/fakbench/transport"
	"github.com/fakbench/fakbench/transport/session"
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
	// Every row has longest + steps slots; its rotary positions stay below
	// its own length + steps.
	longest, err := session.CheckBatch(ctx, "openvino", prompts, steps, b.spec.Vocab, b.ctxLen)
	if err != nil {
		return transport.BatchResult{}, err
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
		b.endSession()
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
	pads := make([]int, n) // each row's left padding
	for s, p := range prompts {
		pads[s] = longest - len(p)
	}
	start := time.Now()
	for off := 0; off < longest; off += chunk {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("openvino: DecodeBatch: prefill: %w", err)
		}
		T := min(chunk, longest-off)
		ids, pos := bufs.ids.i64(), bufs.pos.i64()
		for s, p := range prompts {
			pad := pads[s]
			for t := 0; t < T; t++ {
				slot := off + t
				if slot < pad {
					ids[s*T+t], pos[s*T+t] = 0, 0 // a padding slot: hidden by the mask
					continue
				}
				ids[s*T+t], pos[s*T+t] = int64(p[slot-pad]), int64(slot-pad)
			}
		}
		last, err := bufs.run(req, pads, T, off+T, b.spec.Vocab)
		if err != nil {
			return res, fmt.Errorf("openvino: DecodeBatch: prefill of slots %d..%d: %w", off, off+T-1, err)
		}
		if off+T == longest {
			for s := range pending {
				pending[s] = session.Greedy(last[s])
			}
		}
	}
	res.PrefillElapsed = time.Since(start)

	err = session.DecodeSteps(ctx, "openvino", &res, steps, func(step int) ([]transport.Token, error) {
		ids, pos := bufs.ids.i64(), bufs.pos.i64()
		for s, p := range prompts {
			ids[s], pos[s] = int64(pending[s]), int64(len(p)+step)
		}
		last, err := bufs.run(req, pads, 1, longest+step+1, b.spec.Vocab)
		if err != nil {
			return nil, err
		}
		for s := range pending {
			pending[s] = session.Greedy(last[s])
		}
		return pending, nil
	})
	return res, err
}

// batchBufs are the C buffers of the stateful model's inputs for B rows:
// one DecodeBatch's, or a session's (B = 1).
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
// S slots, the first pads[b] of row b hidden (the left padding of its
// prompt), and returns each row's last logits.
func (bb *batchBufs) run(req *shimRequest, pads []int, T, S, vocab int) ([][]float32, error) {
	n := len(pads)
	mask := bb.mask.i64()[:n*S]
	for s, pad := range pads {
		row := mask[s*S : (s+1)*S]
		for j := range row {
			row[j] = 1
			if j < pad {
				row[j] = 0
			}
		}
	}
	// The shapes are arrays in the loop's copy, so they stay on the stack
	// (slices stored in the table would escape with its buffers).
	for _, in := range [...]struct {
		name string
		typ  int
		dims [2]int64
		rank int
		buf  *cbuf
	}{
		{"input_ids", fakI64, [2]int64{int64(n), int64(T)}, 2, bb.ids},
		{"position_ids", fakI64, [2]int64{int64(n), int64(T)}, 2, bb.pos},
		{"attention_mask", fakI64, [2]int64{int64(n), int64(S)}, 2, bb.mask},
		{"beam_idx", fakI32, [2]int64{int64(n)}, 1, bb.beam},
	} {
		if err := req.setInput(in.name, in.typ, in.dims[:in.rank], in.buf.p); err != nil {
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
