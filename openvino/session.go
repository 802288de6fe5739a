package openvino

import (
	"context"
	"fmt"
	"unsafe"

	"github.com/fakbench/fakbench/transport"
	"github.com/fakbench/fakbench/transport/session"
)

// Session is one KV cache on a Backend. It implements transport.Session and
// transport.LogitsReader through the shared session core, over an engine
// that runs the compiled model one batch at a time.
type Session struct {
	*session.Core
}

var (
	_ transport.Session        = (*Session)(nil)
	_ transport.LogitsReader   = (*Session)(nil)
	_ transport.CacheInspector = (*Session)(nil)
	_ session.Inspector        = (*engine)(nil)
)

// engine is one KV cache of the explicit form (kv_cache=explicit): per
// layer a key and a value buffer of [context, kv_dim] f32 in C memory,
// bound as the model's past inputs. The stateful forms use statefulEngine
// (stateful.go).
type engine struct {
	b      *Backend
	req    *ovRequest
	kv     []*cbuf // 2 per layer: key, value
	ids    *cbuf   // [batch] i64
	pos    *cbuf   // [batch] i64
	logits []float32
	// rows is how many rows of kv, from row 0 in one unbroken history, the
	// runtime's KV outputs filled (Keep cuts it): the past length the next
	// inference is given, and the session's native cache state.
	rows int
}

func (b *Backend) newSession() (*Session, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, transport.ErrClosed
	}
	var eng session.Engine
	var err error
	if b.kv == kvStateful {
		eng, err = b.newStatefulEngine()
	} else {
		eng, err = b.newExplicitEngine()
	}
	if err != nil {
		return nil, err
	}
	b.sessions++
	cfg := session.Config{Name: b.name, Limit: b.ctxLen, Vocab: b.spec.Vocab}
	return &Session{Core: session.New(cfg, eng)}, nil
}

// newExplicitEngine makes the explicit form's engine: an infer request of
// the C API and the KV buffers it binds.
func (b *Backend) newExplicitEngine() (*engine, error) {
	e := &engine{b: b, logits: make([]float32, b.spec.Vocab)}
	var err error
	if e.req, err = b.compiled.newRequest(); err != nil {
		return nil, err
	}
	rowBytes := b.spec.KVDim() * 4
	for i := 0; i < 2*b.spec.Layers; i++ {
		buf, err := newCBuf(b.ctxLen * rowBytes)
		if err != nil {
			e.release()
			return nil, err
		}
		e.kv = append(e.kv, buf)
	}
	if e.ids, err = newCBuf(b.batch * 8); err == nil {
		e.pos, err = newCBuf(b.batch * 8)
	}
	if err != nil {
		e.release()
		return nil, err
	}
	return e, nil
}

func (e *engine) release() {
	e.req.free()
	for _, k := range e.kv {
		k.free()
	}
	e.kv = nil
	e.ids.free()
	e.pos.free()
}

// Begin fails once the backend is closed.
func (e *engine) Begin(context.Context) (func(), error) { return e.b.begin() }

// begin is both engines' Begin: it fails once the backend is closed.
func (b *Backend) begin() (func(), error) {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return nil, transport.ErrClosed
	}
	return func() {}, nil
}

// Keep drops positions from n on: the KV rows past n are simply no longer
// bound as inputs.
func (e *engine) Keep(n int) int {
	e.rows = max(0, min(e.rows, n))
	return n
}

// kvSource says what the OpenVINO session's native cache state is, and
// what it cannot show.
const kvSource = "openvino: the rows of the session's KV buffers that the runtime's KV outputs filled (by the output shapes the runtime returned), cut by Keep: the IR is stateless (the KV cache is bound as the model's past inputs, with exactly this many rows at the next inference) and the C API has no variable-state query, so this is the engine's count of what the runtime computed, not a figure the runtime holds"

// Cache implements session.Inspector from the rows the runtime filled.
func (e *engine) Cache() (transport.CacheState, error) {
	return cacheFromZero(e.rows, kvSource), nil
}

// cacheFromZero is the cache state of an engine that holds positions
// 0..n-1.
func cacheFromZero(n int, source string) transport.CacheState {
	st := transport.CacheState{First: -1, Positions: n, Source: source}
	if n > 0 {
		st.First = 0
	}
	return st
}

// Feed computes toks in batches; the cache holds exactly the batches done.
func (e *engine) Feed(ctx context.Context, pos int, toks []transport.Token, wantLogits bool) (int, error) {
	return e.b.feed(ctx, pos, toks, e.step)
}

// feed is both engines' Feed: it computes toks with step in batches of
// at most b.batch, checking ctx between batches (the core has checked it
// before the first), and returns the position after the last batch done.
func (b *Backend) feed(ctx context.Context, pos int, toks []transport.Token, step func(int, []transport.Token) error) (int, error) {
	for off := 0; off < len(toks); off += b.batch {
		if off > 0 {
			if err := ctx.Err(); err != nil {
				return pos + off, err
			}
		}
		if err := step(pos+off, toks[off:min(off+b.batch, len(toks))]); err != nil {
			return pos + off, err
		}
	}
	return pos + len(toks), nil
}

// Logits returns the logits of the last position computed.
func (e *engine) Logits() []float32 { return e.logits }

// Close frees the infer request and the KV buffers.
func (e *engine) Close() error {
	e.release()
	e.b.endSession()
	return nil
}

// endSession counts off a session (or a DecodeBatch call) that has freed
// its request, which Close waits for.
func (b *Backend) endSession() {
	b.mu.Lock()
	b.sessions--
	b.mu.Unlock()
}

// step computes toks (at most batch of them) at positions P, P+1, ...,
// writes their keys and values into the cache and keeps the last position's
// logits.
func (e *engine) step(P int, toks []transport.Token) error {
	T := len(toks)
	kvd := e.b.spec.KVDim()
	ids, pos := e.ids.i64(), e.pos.i64()
	for i, t := range toks {
		ids[i] = int64(t)
		pos[i] = int64(P + i)
	}
	r := e.req
	if err := r.setInput(inIDs, ovI64, []int64{int64(T)}, e.ids.p); err != nil {
		return err
	}
	if err := r.setInput(inPositions, ovI64, []int64{int64(T)}, e.pos.p); err != nil {
		return err
	}
	for i, buf := range e.kv {
		if err := r.setInput(inFirstKV+i, ovF32, []int64{int64(P), int64(kvd)}, buf.p); err != nil {
			return err
		}
	}
	if err := r.infer(); err != nil {
		return err
	}
	shape, lg, err := r.output(outLogits)
	if err != nil {
		return err
	}
	if len(lg) != e.b.spec.Vocab {
		return fmt.Errorf("openvino: logits output has shape %v, want [1, %d]", shape, e.b.spec.Vocab)
	}
	for i, buf := range e.kv {
		shape, kv, err := r.output(outFirstKV + i)
		if err != nil {
			return err
		}
		if len(kv) != T*kvd {
			return fmt.Errorf("openvino: KV output %d has shape %v, want [%d, %d]", i, shape, T, kvd)
		}
		dst := unsafe.Slice((*float32)(buf.at(P*kvd*4)), T*kvd)
		copy(dst, kv)
	}
	// Rows P..P+T now hold the runtime's keys and values: they extend the
	// history when they start inside it or right after it.
	if P <= e.rows {
		e.rows = P + T
	}
	copy(e.logits, lg)
	return nil
}
