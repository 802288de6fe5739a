package openvino

import (
	"context"
	"fmt"

	"github.com/fakbench/fakbench/transport"
	"github.com/fakbench/fakbench/transport/session"
)

// statefulEngine is one session of a stateful model (fakbench's stateful
// IR or the GGUF frontend's): an infer request of fakbench's library whose
// variable state is the KV cache. Each call feeds only the new tokens
// (input_ids, position_ids), an attention_mask as long as the positions
// held plus the new ones, and beam_idx 0; the plugin appends their keys and
// values to its state. Keep trims the state through the library.
type statefulEngine struct {
	b   *Backend
	req *shimRequest
	ids *cbuf // i64 [batch]
	pos *cbuf // i64 [batch]
	// mask is i64 [context] of ones: its first P+T entries are the
	// attention_mask of a call (one sequence has no padding slot).
	mask   *cbuf
	beam   *cbuf // i32 [1]: 0
	logits []float32
}

var _ session.Inspector = (*statefulEngine)(nil)

func (b *Backend) newStatefulEngine() (*statefulEngine, error) {
	e := &statefulEngine{b: b, logits: make([]float32, b.spec.Vocab)}
	var err error
	if e.req, err = b.scompile.newRequest(); err != nil {
		return nil, err
	}
	bufs := []struct {
		dst  **cbuf
		size int
	}{{&e.ids, b.batch * 8}, {&e.pos, b.batch * 8}, {&e.mask, b.ctxLen * 8}, {&e.beam, 4}}
	for _, x := range bufs {
		if *x.dst, err = newCBuf(x.size); err != nil {
			e.release()
			return nil, err
		}
	}
	for i := range e.mask.i64() {
		e.mask.i64()[i] = 1
	}
	return e, nil
}

func (e *statefulEngine) release() {
	e.req.free()
	e.ids.free()
	e.pos.free()
	e.mask.free()
	e.beam.free()
}

// Begin fails once the backend is closed.
func (e *statefulEngine) Begin(context.Context) (func(), error) {
	e.b.mu.Lock()
	closed := e.b.closed
	e.b.mu.Unlock()
	if closed {
		return nil, transport.ErrClosed
	}
	return func() {}, nil
}

// Keep keeps the first n positions of every variable (the runtime's own
// KV cache). Should the library fail to trim, the state is reset and the
// session recomputes from position 0.
func (e *statefulEngine) Keep(n int) int {
	if _, err := e.req.stateTrim(e.b.tokenAxis, n); err != nil {
		_ = e.req.stateReset()
		return 0
	}
	return n
}

// statefulSource says where the stateful session's native cache figure
// comes from.
const statefulSource = "openvino: the length along the token axis of the infer request's KV variable state, read from the runtime (ov::VariableState::get_state through fakbench's library)"

// Cache implements session.Inspector from the runtime's variable state.
func (e *statefulEngine) Cache() (transport.CacheState, error) {
	n, err := e.req.stateLength(e.b.tokenAxis)
	if err != nil {
		return transport.CacheState{}, err
	}
	st := transport.CacheState{First: -1, Positions: n, Source: statefulSource}
	if n > 0 {
		st.First = 0
	}
	return st, nil
}

// Feed computes toks in batches, checking ctx between batches.
func (e *statefulEngine) Feed(ctx context.Context, pos int, toks []transport.Token, wantLogits bool) (int, error) {
	for off := 0; off < len(toks); off += e.b.batch {
		if off > 0 {
			if err := ctx.Err(); err != nil {
				return pos + off, err
			}
		}
		if err := e.step(pos+off, toks[off:min(off+e.b.batch, len(toks))]); err != nil {
			return pos + off, err
		}
	}
	return pos + len(toks), nil
}

// Logits returns the logits of the last position computed.
func (e *statefulEngine) Logits() []float32 { return e.logits }

// Close frees the infer request (and its state) and the buffers.
func (e *statefulEngine) Close() error {
	e.release()
	e.b.mu.Lock()
	e.b.sessions--
	e.b.mu.Unlock()
	return nil
}

// step computes toks (at most batch of them) at positions P, P+1, ...; the
// runtime appends their keys and values to its state, which held P.
func (e *statefulEngine) step(P int, toks []transport.Token) error {
	T := len(toks)
	ids, pos := e.ids.i64(), e.pos.i64()
	for i, t := range toks {
		ids[i] = int64(t)
		pos[i] = int64(P + i)
	}
	r := e.req
	if err := r.setInput("input_ids", fakI64, []int64{1, int64(T)}, e.ids.p); err != nil {
		return err
	}
	if err := r.setInput("position_ids", fakI64, []int64{1, int64(T)}, e.pos.p); err != nil {
		return err
	}
	if err := r.setInput("attention_mask", fakI64, []int64{1, int64(P + T)}, e.mask.p); err != nil {
		return err
	}
	if err := r.setInput("beam_idx", fakI32, []int64{1}, e.beam.p); err != nil {
		return err
	}
	if err := r.infer(); err != nil {
		return err
	}
	shape, lg, err := r.outputF32(0)
	if err != nil {
		return err
	}
	last, err := lastRow(shape, lg, e.b.spec.Vocab, 1)
	if err != nil {
		return err
	}
	copy(e.logits, last[0])
	return nil
}

// lastRow returns, for each of rows sequences, the logits of its last
// position from an output of shape [rows, T, vocab] (T = 1 when the model
// slices before the output head, the number of tokens fed when it does
// not).
func lastRow(shape []int64, lg []float32, vocab, rows int) ([][]float32, error) {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	if len(shape) < 2 || shape[len(shape)-1] != int64(vocab) || shape[0] != int64(rows) || n != int64(len(lg)) || n == 0 {
		return nil, fmt.Errorf("openvino: logits output has shape %v, want [%d, T, %d]", shape, rows, vocab)
	}
	per := int(n) / rows
	out := make([][]float32, rows)
	for b := range out {
		out[b] = lg[b*per+per-vocab : b*per+per]
	}
	return out, nil
}
