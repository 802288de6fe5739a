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
// (input_ids, position_ids), an attention_mask of ones as long as the
// positions held plus the new ones (one sequence has no padding slot), and
// beam_idx 0; the plugin appends their keys and values to its state. Keep
// trims the state through the library.
type statefulEngine struct {
	b      *Backend
	req    *shimRequest
	in     *batchBufs // one row: [1, batch] tokens, [1, context] mask slots
	logits []float32
}

var _ session.Inspector = (*statefulEngine)(nil)

func (b *Backend) newStatefulEngine() (*statefulEngine, error) {
	e := &statefulEngine{b: b, logits: make([]float32, b.spec.Vocab)}
	var err error
	if e.req, err = b.scompile.newRequest(); err != nil {
		return nil, err
	}
	if e.in, err = newBatchBufs(1, b.batch, b.ctxLen); err != nil {
		e.req.free()
		return nil, err
	}
	return e, nil
}

func (e *statefulEngine) release() {
	e.req.free()
	e.in.free()
}

// Begin fails once the backend is closed.
func (e *statefulEngine) Begin(context.Context) (func(), error) { return e.b.begin() }

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
	return cacheFromZero(n, statefulSource), nil
}

// Feed computes toks in batches, checking ctx between batches.
func (e *statefulEngine) Feed(ctx context.Context, pos int, toks []transport.Token, wantLogits bool) (int, error) {
	return e.b.feed(ctx, pos, toks, e.step)
}

// Logits returns the logits of the last position computed.
func (e *statefulEngine) Logits() []float32 { return e.logits }

// Close frees the infer request (and its state) and the buffers.
func (e *statefulEngine) Close() error {
	e.release()
	e.b.endSession()
	return nil
}

// step computes toks (at most batch of them) at positions P, P+1, ...; the
// runtime appends their keys and values to its state, which held P.
func (e *statefulEngine) step(P int, toks []transport.Token) error {
	T := len(toks)
	ids, pos := e.in.ids.i64(), e.in.pos.i64()
	for i, t := range toks {
		ids[i] = int64(t)
		pos[i] = int64(P + i)
	}
	last, err := e.in.run(e.req, noPadding, T, P+T, e.b.spec.Vocab)
	if err != nil {
		return err
	}
	copy(e.logits, last[0])
	return nil
}

// noPadding is the padding of a session's one row: none.
var noPadding = []int{0}

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
