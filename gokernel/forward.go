package gokernel

import (
	"math"

	"github.com/fakbench/fakbench/gokernel/kernels"
	"github.com/fakbench/fakbench/transport"
)

// state is the memory of one session: its KV cache and the scratch buffers
// of the forward pass, all allocated once and sized for the model's chunk.
type state struct {
	m *Model

	// kCache[l] and vCache[l] hold ctxLen positions of KVDim values in
	// little-endian f16, the precision llama.cpp keeps its cache in by
	// default (half the bytes a decode step streams through attention),
	// head-major (see headRows).
	kCache [][]byte
	vCache [][]byte

	// kNew and vNew receive the keys and values of the tokens being
	// computed (chunk x KVDim floats) before they are rotated (keys) and
	// stored in the cache in f16.
	kNew, vNew []float32

	x      []float32 // residual stream, chunk x Embd
	xb     []float32 // normalised input / projection output, chunk x Embd
	q      []float32 // queries, chunk x QDim
	att    []float32 // attention output, chunk x QDim
	hGate  []float32 // chunk x FFN
	hUp    []float32 // chunk x FFN
	qs     []byte    // q8_0 activations, chunk x max(cols)/32*34
	logits []float32 // Vocab
	scores []float32 // per attention lane (pool thread): laneScratch floats
	part   []float32 // partial results of key spans (attSpans > 1)
	cos    []float32 // RopeDim/2, for the token being rotated
	sin    []float32

	// Parameters of the attention step currently running (read by attnFn):
	// attItems work items (token, KV head, key span) dealt to attLanes
	// lanes, every token's keys split into attSpans spans.
	attLayer, attPos0, attTok, attLanes int
	attSpans, attItems                  int
	attnFn                              func(lo, hi int)
	// swigluFn computes hGate[i] = silu(hGate[i]) * hUp[i] over [lo, hi).
	swigluFn func(lo, hi int)

	// multi, when set, makes forward one batched decode step: token t is
	// the next token of sequence t, at position multi.pos[t] of that
	// sequence's own KV cache (see batch.go). nil for a session.
	multi *multiSeq

	// rows is the kernel's KV length: rows [0, rows) of the cache hold the
	// keys and values of one unbroken token history, as forward stored
	// them; truncate shortens it. A session's native cache state
	// (transport.CacheInspector) is read from it.
	rows int
}

// stored records that forward wrote rows [pos0, pos0+n): they extend the
// history when they start inside it or right after it (rows past pos0+n,
// computed on the old history, are no longer valid); rows written past a
// gap join nothing, and the length stays where the history breaks.
func (s *state) stored(pos0, n int) {
	if pos0 <= s.rows {
		s.rows = pos0 + n
	}
}

// truncate drops the rows from n on from the KV length.
func (s *state) truncate(n int) { s.rows = max(0, min(s.rows, n)) }

func newState(m *Model) *state {
	s := newScratch(m, m.chunk)
	s.kCache, s.vCache = newKV(m.HP, m.ctxLen)
	return s
}

// newKV allocates an f16 KV cache of positions positions per layer.
func newKV(hp HParams, positions int) (k, v [][]byte) {
	k = make([][]byte, hp.Layers)
	v = make([][]byte, hp.Layers)
	for l := range k {
		k[l] = make([]byte, keyCacheBytes(hp, positions))
		v[l] = make([]byte, 2*positions*hp.KVDim())
	}
	return k, v
}

// keyCacheBytes is the size of one layer's key cache for positions
// positions: each head's keys in transposed blocks of kernels.KeyBlock
// positions (see storeKV), the last block whole.
func keyCacheBytes(hp HParams, positions int) int {
	blocks := (positions + kernels.KeyBlock - 1) / kernels.KeyBlock
	return 2 * blocks * kernels.KeyBlock * hp.KVDim()
}

// newScratch allocates the scratch buffers of a forward pass of up to n
// tokens, without a KV cache.
func newScratch(m *Model, n int) *state {
	hp := m.HP
	s := &state{m: m}
	s.x = make([]float32, n*hp.Embd)
	s.xb = make([]float32, n*hp.Embd)
	s.q = make([]float32, n*hp.QDim())
	s.att = make([]float32, n*hp.QDim())
	s.kNew = make([]float32, n*hp.KVDim())
	s.vNew = make([]float32, n*hp.KVDim())
	s.hGate = make([]float32, n*hp.FFN)
	s.hUp = make([]float32, n*hp.FFN)
	maxCols := max(hp.Embd, hp.QDim(), hp.FFN)
	s.qs = make([]byte, n*(maxCols/kernels.QK8_0+1)*kernels.BlockQ8_0Bytes)
	s.logits = make([]float32, hp.Vocab)
	s.scores = make([]float32, m.pool.Threads()*laneScratch(hp))
	s.part = make([]float32, maxSpanItems(m.pool.Threads())*spanAcc(hp))
	s.cos = make([]float32, hp.RopeDim/2)
	s.sin = make([]float32, hp.RopeDim/2)
	s.attnFn = s.attnRange
	s.swigluFn = s.swigluRange
	return s
}

// headMode says which logits a forward pass computes.
type headMode int

const (
	headNone headMode = iota // none (a prefill chunk that is not the last)
	headLast                 // the last token's, into state.logits
	headAll                  // every token's, into the all argument
)

// forward computes toks at positions [pos0, pos0+len(toks)) into the KV
// cache (len(toks) <= chunk, pos0+len(toks) <= ctxLen) and then the logits
// the mode asks for (headAll: len(toks) x Vocab values into all). With
// s.multi set it is instead one batched decode step: token t is sequence
// t's next token at position s.multi.pos[t] (pos0 is unused), and its key
// and value go to that sequence's cache.
func (s *state) forward(toks []transport.Token, pos0 int, mode headMode, all []float32) {
	m, hp := s.m, s.m.HP
	n, E := len(toks), hp.Embd
	qd, kvd := hp.QDim(), hp.KVDim()
	pool := m.pool

	x := s.x[:n*E]
	for t, tok := range toks {
		m.TokEmbd.DequantRow(int(tok), x[t*E:(t+1)*E])
	}
	xb := s.xb[:n*E]
	for l := range m.Layers {
		L := &m.Layers[l]
		// Attention block.
		for t := 0; t < n; t++ {
			rmsNorm(xb[t*E:(t+1)*E], x[t*E:(t+1)*E], L.AttnNorm, hp.NormEps)
		}
		q := s.q[:n*qd]
		kc, vc := s.kNew[:n*kvd], s.vNew[:n*kvd]
		pool.MatMul(q, L.Wq, xb, n, s.qs)
		pool.MatMul(kc, L.Wk, xb, n, s.qs)
		pool.MatMul(vc, L.Wv, xb, n, s.qs)
		for t := 0; t < n; t++ {
			s.ropeAngles(s.tokenPos(pos0, t))
			s.rope(q[t*qd:(t+1)*qd], hp.Heads)
			s.rope(kc[t*kvd:(t+1)*kvd], hp.KVHeads)
		}
		s.storeKV(l, pos0, n)
		s.attention(l, pos0, n)
		pool.MatMul(xb, L.Wo, s.att[:n*qd], n, s.qs)
		addInPlace(x, xb)

		// Feed-forward block: down(silu(gate x) * up x).
		for t := 0; t < n; t++ {
			rmsNorm(xb[t*E:(t+1)*E], x[t*E:(t+1)*E], L.FFNNorm, hp.NormEps)
		}
		g, u := s.hGate[:n*hp.FFN], s.hUp[:n*hp.FFN]
		pool.MatMul(g, L.Gate, xb, n, s.qs)
		pool.MatMul(u, L.Up, xb, n, s.qs)
		pool.For(n*hp.FFN, s.swigluFn) // one exp per element: split it too
		pool.MatMul(xb, L.Down, g, n, s.qs)
		addInPlace(x, xb)
	}

	if s.multi == nil {
		s.stored(pos0, n)
	}
	switch mode {
	case headNone:
		return
	case headAll:
		for t := 0; t < n; t++ {
			rmsNorm(xb[t*E:(t+1)*E], x[t*E:(t+1)*E], m.OutNorm, hp.NormEps)
		}
		pool.MatMul(all[:n*hp.Vocab], m.Output, xb, n, s.qs)
		return
	}
	// headLast: the head for the last row only.
	last := (n - 1) * E
	rmsNorm(xb[:E], x[last:last+E], m.OutNorm, hp.NormEps)
	pool.MatMul(s.logits, m.Output, xb[:E], 1, s.qs)
}

// storeKV writes the rotated keys and the values of the n tokens of the
// step (kNew, vNew) in f16 to layer l's cache at their positions: the
// session's [pos0, pos0+n), or each batch sequence's own next position.
// Values are rows (position p at value p*HeadDim of the head's part);
// keys go into transposed blocks of kernels.KeyBlock positions (position p
// is key p%KeyBlock of block p/KeyBlock, kernels.PutKeyT), the layout the
// score kernels read.
func (s *state) storeKV(l, pos0, n int) {
	hp := s.m.HP
	hd, kvd := hp.HeadDim, hp.KVDim()
	const kb = kernels.KeyBlock
	for t := 0; t < n; t++ {
		kc, vc := s.attnKV(l, t)
		pos := s.tokenPos(pos0, t)
		p := 2 * pos * hd
		blk := 2 * (pos / kb) * kb * hd
		for h := 0; h < hp.KVHeads; h++ {
			kh, vh := headRows(kc, h, hp), headRows(vc, h, hp)
			src := t*kvd + h*hd
			kernels.PutKeyT(kh[blk:blk+2*kb*hd], pos%kb, s.kNew[src:src+hd])
			kernels.F32ToF16s(vh[p:p+2*hd], s.vNew[src:src+hd])
		}
	}
}

// headRows is KV head h's part of a layer's f16 key or value cache. A
// cache keeps each head's positions together (head-major: the value cache
// of P positions has head h, position p at value (h*P+p)*HeadDim; the key
// cache the same with P rounded up to whole key blocks), so attention over
// one head streams one contiguous run of memory instead of a HeadDim
// slice out of every KVDim-wide row.
func headRows(cache []byte, h int, hp HParams) []byte {
	per := len(cache) / hp.KVHeads
	return cache[h*per : (h+1)*per]
}

// tokenPos is the position of token t of the pass: pos0+t for a session,
// its own sequence's position in a batched decode step.
func (s *state) tokenPos(pos0, t int) int {
	if ms := s.multi; ms != nil {
		return ms.pos[t]
	}
	return pos0 + t
}

// swigluRange computes hGate[i] = silu(hGate[i]) * hUp[i] for i in [lo, hi),
// silu(v) = v / (1 + exp(-v)) as ggml computes it.
func (s *state) swigluRange(lo, hi int) {
	kernels.SiLUMulF32(s.hGate[lo:hi], s.hUp[lo:hi])
}

// rmsNorm writes x / sqrt(mean(x^2) + eps) * w into dst. The sum of squares
// is accumulated in float64, as ggml does.
func rmsNorm(dst, x, w []float32, eps float32) {
	var sum float64
	for _, v := range x {
		sum += float64(v) * float64(v)
	}
	mean := float32(sum / float64(len(x)))
	scale := 1 / float32(math.Sqrt(float64(mean+eps)))
	for i, v := range x {
		dst[i] = v * scale * w[i]
	}
}

func addInPlace(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}

// ropeAngles fills s.cos and s.sin for position pos the way ggml's rope
// does for llama (mode NORM, linear scaling, no YaRN): theta starts at pos
// and is multiplied in float32 by base^(-2/n_rot) for each successive pair;
// the pair's angle is freq_scale * theta / freq_factor.
func (s *state) ropeAngles(pos int) {
	hp := s.m.HP
	// powf(freq_base, -2.0f/n_dims): the exponent is a float32 quotient.
	exponent := float32(-2) / float32(hp.RopeDim)
	thetaScale := float32(math.Pow(float64(hp.RopeBase), float64(exponent)))
	freqs := s.m.RopeFreqs
	theta := float32(pos)
	for i := range s.cos {
		t := theta
		if freqs != nil {
			t /= freqs[i]
		}
		t *= hp.RopeFreqScale
		s.cos[i] = float32(math.Cos(float64(t)))
		s.sin[i] = float32(math.Sin(float64(t)))
		theta *= thetaScale
	}
}

// rope rotates the adjacent pairs (v[2i], v[2i+1]) of the first RopeDim
// dimensions of each of the heads in v by the angles in s.cos/s.sin.
func (s *state) rope(v []float32, heads int) {
	hd := s.m.HP.HeadDim
	for h := 0; h < heads; h++ {
		hv := v[h*hd : (h+1)*hd]
		for i, c := range s.cos {
			sn := s.sin[i]
			x0, x1 := hv[2*i], hv[2*i+1]
			hv[2*i] = x0*c - x1*sn
			hv[2*i+1] = x0*sn + x1*c
		}
	}
}

// argmax returns the index of the largest value, the lowest index on ties.
func argmax(v []float32) int {
	best := 0
	for i := 1; i < len(v); i++ {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}
