// Package gokernel is fakbench's in-repo inference engine ("FAK kernel"): a
// Llama-family forward pass over GGUF weights (f32, f16, bf16, q8_0 and the
// 4-, 5-, 6-, 2- and 3-bit block and k-quant types), a per-session
// KV cache, and a transport.Session/transport.Backend implementation that
// registers itself in the adapters registry as "gokernel".
//
// The hot loops (matrix multiplies, dot products, axpy) are calls into
// package kernels, so SIMD versions replace them without touching this
// package.
package gokernel

import (
	"fmt"
	"strings"
	"sync"

	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/gokernel/kernels"
	"github.com/fakbench/fakbench/internal/host"
	"github.com/fakbench/fakbench/transport"
)

// DefaultChunkSize is the largest number of tokens one prefill step computes
// together when Options.ChunkSize is 0. Scratch buffers are sized for it.
const DefaultChunkSize = 512

// DefaultMaxContext caps the default context length (the model's own
// context length when smaller).
const DefaultMaxContext = 4096

// attnBlock is the number of cached keys scored together by the attention
// (online softmax): no score buffer larger than this is ever materialised.
const attnBlock = kernels.KeyBlock

// Options configure a loaded model.
type Options struct {
	// Threads is the number of worker threads (0 = the physical cores,
	// internal/host).
	Threads int
	// ContextLength is the number of positions per session
	// (0 = min(model context length, DefaultMaxContext)). It may not exceed
	// the model's trained context length.
	ContextLength int
	// ChunkSize is the largest prefill chunk (0 = DefaultChunkSize).
	ChunkSize int
}

// HParams are the Llama hyper-parameters of a model.
type HParams struct {
	// Embd is the embedding width (llama.embedding_length).
	Embd int
	// Layers is the number of transformer blocks (llama.block_count).
	Layers int
	// FFN is the feed-forward width (llama.feed_forward_length).
	FFN int
	// Heads is the number of query heads (llama.attention.head_count).
	Heads int
	// KVHeads is the number of key/value heads (llama.attention.head_count_kv).
	KVHeads int
	// HeadDim is Embd / Heads.
	HeadDim int
	// RopeDim is the number of rotated dimensions per head
	// (llama.rope.dimension_count, default HeadDim).
	RopeDim int
	// RopeBase is the rotary frequency base (llama.rope.freq_base, default 10000).
	RopeBase float32
	// RopeFreqScale multiplies every rotary angle: 1/llama.rope.scaling.factor
	// for linear scaling, 1 without scaling (the default when 0).
	RopeFreqScale float32
	// NormEps is the RMSNorm epsilon (llama.attention.layer_norm_rms_epsilon).
	NormEps float32
	// CtxTrain is the model's context length (llama.context_length).
	CtxTrain int
	// Vocab is the number of logits: the rows of output.weight (or of
	// token_embd.weight when the embeddings are tied).
	Vocab int
}

// QDim is the width of the query projection (Heads * HeadDim).
func (h HParams) QDim() int { return h.Heads * h.HeadDim }

// KVDim is the width of the key and value projections (KVHeads * HeadDim).
func (h HParams) KVDim() int { return h.KVHeads * h.HeadDim }

// validate checks the hyper-parameters are consistent with each other.
func (h HParams) validate() error {
	switch {
	case h.Embd <= 0:
		return fmt.Errorf("llama.embedding_length = %d, want > 0", h.Embd)
	case h.Layers <= 0:
		return fmt.Errorf("llama.block_count = %d, want > 0", h.Layers)
	case h.FFN <= 0:
		return fmt.Errorf("llama.feed_forward_length = %d, want > 0", h.FFN)
	case h.Heads <= 0:
		return fmt.Errorf("llama.attention.head_count = %d, want > 0", h.Heads)
	case h.KVHeads <= 0 || h.Heads%h.KVHeads != 0:
		return fmt.Errorf("llama.attention.head_count_kv = %d must be > 0 and divide head_count %d", h.KVHeads, h.Heads)
	case h.Embd%h.Heads != 0:
		return fmt.Errorf("llama.embedding_length %d is not a multiple of head_count %d", h.Embd, h.Heads)
	case h.HeadDim%2 != 0:
		return fmt.Errorf("head dimension %d is odd", h.HeadDim)
	case h.RopeDim <= 0 || h.RopeDim%2 != 0 || h.RopeDim > h.HeadDim:
		return fmt.Errorf("llama.rope.dimension_count = %d must be even and in (0, head dim %d]", h.RopeDim, h.HeadDim)
	case !(h.RopeBase > 0):
		return fmt.Errorf("llama.rope.freq_base = %g, want > 0", h.RopeBase)
	case !(h.RopeFreqScale > 0):
		return fmt.Errorf("rope frequency scale %g (1/llama.rope.scaling.factor), want > 0", h.RopeFreqScale)
	case !(h.NormEps > 0):
		return fmt.Errorf("llama.attention.layer_norm_rms_epsilon = %g, want > 0", h.NormEps)
	case h.CtxTrain <= 0:
		return fmt.Errorf("llama.context_length = %d, want > 0", h.CtxTrain)
	}
	return nil
}

// Layer holds the weights of one transformer block (blk.N.* tensors).
// Matrices have one row per output feature.
type Layer struct {
	// AttnNorm is attn_norm.weight (Embd).
	AttnNorm []float32
	// Wq is attn_q.weight (QDim rows of Embd).
	Wq *kernels.Matrix
	// Wk is attn_k.weight (KVDim rows of Embd).
	Wk *kernels.Matrix
	// Wv is attn_v.weight (KVDim rows of Embd).
	Wv *kernels.Matrix
	// Wo is attn_output.weight (Embd rows of QDim).
	Wo *kernels.Matrix
	// FFNNorm is ffn_norm.weight (Embd).
	FFNNorm []float32
	// Gate is ffn_gate.weight (FFN rows of Embd).
	Gate *kernels.Matrix
	// Up is ffn_up.weight (FFN rows of Embd).
	Up *kernels.Matrix
	// Down is ffn_down.weight (Embd rows of FFN).
	Down *kernels.Matrix
}

// Model is a loaded Llama model: weights (views into the mapped file), its
// hyper-parameters, the worker pool and the session settings. Sessions
// opened on it share the weights and the pool; their forward passes run one
// at a time (the pool already uses every thread).
type Model struct {
	// Path is the model file.
	Path string
	// Name is general.name (or the file name).
	Name string
	// HP are the hyper-parameters.
	HP HParams
	// TokEmbd is token_embd.weight (Vocab rows of Embd).
	TokEmbd *kernels.Matrix
	// Layers are the transformer blocks.
	Layers []Layer
	// OutNorm is output_norm.weight.
	OutNorm []float32
	// Output is output.weight, or TokEmbd when the embeddings are tied.
	Output *kernels.Matrix
	// Tied says output.weight was absent and TokEmbd serves as the head.
	Tied bool
	// RopeFreqs are the per-pair rotary frequency factors of
	// rope_freqs.weight (each pair's angle is divided by its factor), or
	// nil when the file has none.
	RopeFreqs []float32

	ctxLen    int
	chunk     int
	pool      *kernels.Pool
	params    int64
	readBytes int64
	wtype     string
	closer    func() error

	// life guards closing: every session call holds it for reading, Close
	// takes it for writing.
	life   sync.RWMutex
	closed bool
	// compute serialises forward passes of the sessions of this model.
	compute sync.Mutex
}

// rawTensor is one tensor as a model file stores it.
type rawTensor struct {
	dims []uint64 // ne0 (columns) first
	typ  kernels.Type
	data []byte
	// evict, when set, drops data's pages from the resident set (a mapped
	// file, gguf.File.Evict); the bytes stay readable.
	evict func()
}

// tensorLookup returns the named tensor; ok is false when it is absent.
type tensorLookup func(name string) (t rawTensor, ok bool, err error)

// typeName is ggml's name for a tensor type, e.g. "q4_1".
func typeName(t kernels.Type) string { return gguf.TensorType(t).String() }

// assemble builds a Model from hyper-parameters (Vocab is filled in here)
// and a tensor lookup, checking every tensor's presence, type and shape.
func assemble(path, name string, hp HParams, get tensorLookup, opts Options) (*Model, error) {
	bad := func(format string, a ...any) error {
		return &transport.BadModelError{File: path, Reason: fmt.Sprintf(format, a...)}
	}
	hp.HeadDim = 0
	if hp.Heads > 0 {
		hp.HeadDim = hp.Embd / hp.Heads
	}
	if hp.RopeDim == 0 {
		hp.RopeDim = hp.HeadDim
	}
	if hp.RopeFreqScale == 0 {
		hp.RopeFreqScale = 1
	}
	if err := hp.validate(); err != nil {
		return nil, bad("hyper-parameters: %v", err)
	}
	m := &Model{Path: path, Name: name, HP: hp}
	byType := map[kernels.Type]int64{}
	evicts := map[*kernels.Matrix]func(){}

	// fetch returns tensor tname checked against the shape [cols, rows]
	// (rows 0: a vector of cols elements).
	fetch := func(tname string, cols, rows int) (*kernels.Matrix, error) {
		t, ok, err := get(tname)
		if err != nil {
			return nil, &transport.BadModelError{File: path, Reason: "tensor " + tname, Err: err}
		}
		if !ok {
			return nil, bad("missing tensor %s", tname)
		}
		want := []uint64{uint64(cols)}
		if rows > 0 {
			want = append(want, uint64(rows))
		}
		if !sameDims(t.dims, want) {
			return nil, bad("tensor %s has shape %v, want %v", tname, t.dims, want)
		}
		if !kernels.IsSupported(t.typ) {
			return nil, bad("tensor %s has type %s; the Go kernel supports %s", tname, typeName(t.typ), strings.Join(kernels.Supported(), ", "))
		}
		r := max(rows, 1)
		mat, err := kernels.NewMatrix(t.typ, r, cols, t.data)
		if err != nil {
			return nil, &transport.BadModelError{File: path, Reason: "tensor " + tname, Err: err}
		}
		m.params += int64(r) * int64(cols)
		byType[t.typ] += int64(len(t.data))
		if t.evict != nil {
			evicts[mat] = t.evict
		}
		return mat, nil
	}
	vector := func(tname string, n int) ([]float32, error) {
		mat, err := fetch(tname, n, 0)
		if err != nil {
			return nil, err
		}
		v := make([]float32, n)
		mat.DequantRow(0, v)
		m.readBytes += int64(len(mat.Data))
		return v, nil
	}
	// matrix fetches a weight matrix and re-lays it for the matrix
	// kernels now (types that need it, kernels.Matrix.Prepare), so the
	// cost lands on load, not on the first token.
	matrix := func(tname string, cols, rows int) (*kernels.Matrix, error) {
		mat, err := fetch(tname, cols, rows)
		if err != nil {
			return nil, err
		}
		if err := mat.Prepare(); err != nil {
			return nil, &transport.BadModelError{File: path, Reason: "tensor " + tname, Err: err}
		}
		if ev := evicts[mat]; ev != nil && mat.PackedBytes() != len(mat.Data) {
			// The kernels read the packed copy only: the file's pages
			// leave the resident set as soon as the copy exists, so the
			// peak holds one of the two, not both.
			ev()
		}
		m.readBytes += int64(mat.PackedBytes())
		return mat, nil
	}

	// The vocabulary size comes from the output head (or the tied
	// embedding table); every other shape follows from the hparams.
	head := "output.weight"
	out, ok, err := get(head)
	if err != nil {
		return nil, &transport.BadModelError{File: path, Reason: "tensor " + head, Err: err}
	}
	if !ok {
		head = "token_embd.weight"
		m.Tied = true
		if out, ok, err = get(head); err != nil {
			return nil, &transport.BadModelError{File: path, Reason: "tensor " + head, Err: err}
		} else if !ok {
			return nil, bad("missing tensors output.weight and token_embd.weight")
		}
	}
	if len(out.dims) != 2 || out.dims[1] == 0 || out.dims[1] > 1<<31 {
		return nil, bad("tensor %s has shape %v, want [%d, vocab]", head, out.dims, hp.Embd)
	}
	hp.Vocab = int(out.dims[1])
	m.HP.Vocab = hp.Vocab

	if m.TokEmbd, err = fetch("token_embd.weight", hp.Embd, hp.Vocab); err != nil {
		return nil, err
	}
	m.readBytes += int64(m.TokEmbd.RowBytes) // one embedding row per token
	if m.Tied {
		m.Output = m.TokEmbd
		if err := m.Output.Prepare(); err != nil {
			return nil, &transport.BadModelError{File: path, Reason: "tensor " + head, Err: err}
		}
		m.readBytes += int64(m.Output.PackedBytes())
	} else if m.Output, err = matrix("output.weight", hp.Embd, hp.Vocab); err != nil {
		return nil, err
	}
	if m.OutNorm, err = vector("output_norm.weight", hp.Embd); err != nil {
		return nil, err
	}
	// Optional rotary frequency factors (Llama 3.x long-context models).
	if _, ok, _ := get("rope_freqs.weight"); ok {
		if m.RopeFreqs, err = vector("rope_freqs.weight", hp.RopeDim/2); err != nil {
			return nil, err
		}
		m.readBytes -= int64(4 * len(m.RopeFreqs)) // read once, not per token
		for i, f := range m.RopeFreqs {
			if !(f > 0) {
				return nil, bad("rope_freqs.weight[%d] = %g, want > 0", i, f)
			}
		}
	}
	m.Layers = make([]Layer, hp.Layers)
	for i := range m.Layers {
		L := &m.Layers[i]
		p := fmt.Sprintf("blk.%d.", i)
		if L.AttnNorm, err = vector(p+"attn_norm.weight", hp.Embd); err != nil {
			return nil, err
		}
		if L.Wq, err = matrix(p+"attn_q.weight", hp.Embd, hp.QDim()); err != nil {
			return nil, err
		}
		if L.Wk, err = matrix(p+"attn_k.weight", hp.Embd, hp.KVDim()); err != nil {
			return nil, err
		}
		if L.Wv, err = matrix(p+"attn_v.weight", hp.Embd, hp.KVDim()); err != nil {
			return nil, err
		}
		if L.Wo, err = matrix(p+"attn_output.weight", hp.QDim(), hp.Embd); err != nil {
			return nil, err
		}
		if L.FFNNorm, err = vector(p+"ffn_norm.weight", hp.Embd); err != nil {
			return nil, err
		}
		if L.Gate, err = matrix(p+"ffn_gate.weight", hp.Embd, hp.FFN); err != nil {
			return nil, err
		}
		if L.Up, err = matrix(p+"ffn_up.weight", hp.Embd, hp.FFN); err != nil {
			return nil, err
		}
		if L.Down, err = matrix(p+"ffn_down.weight", hp.FFN, hp.Embd); err != nil {
			return nil, err
		}
	}
	var best int64
	for t, b := range byType {
		if b > best || (b == best && typeName(t) < m.wtype) {
			best, m.wtype = b, typeName(t)
		}
	}

	if err := m.configure(opts); err != nil {
		return nil, err
	}
	return m, nil
}

// configure applies the options: context length, chunk size and the pool.
func (m *Model) configure(opts Options) error {
	if opts.Threads < 0 || opts.ContextLength < 0 || opts.ChunkSize < 0 {
		return fmt.Errorf("gokernel: negative option (threads %d, context %d, chunk %d)",
			opts.Threads, opts.ContextLength, opts.ChunkSize)
	}
	m.ctxLen = opts.ContextLength
	if m.ctxLen == 0 {
		m.ctxLen = min(m.HP.CtxTrain, DefaultMaxContext)
	}
	if m.ctxLen > m.HP.CtxTrain {
		return fmt.Errorf("gokernel: context length %d exceeds the model's context length %d", m.ctxLen, m.HP.CtxTrain)
	}
	m.chunk = opts.ChunkSize
	if m.chunk == 0 {
		m.chunk = DefaultChunkSize
	}
	m.chunk = min(m.chunk, m.ctxLen)
	m.pool = kernels.NewPool(host.Threads(opts.Threads))
	return nil
}

func sameDims(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ContextLength is the number of positions one session holds.
func (m *Model) ContextLength() int { return m.ctxLen }

// ChunkSize is the largest number of tokens computed in one prefill step.
func (m *Model) ChunkSize() int { return m.chunk }

// Threads is the number of worker threads.
func (m *Model) Threads() int { return m.pool.Threads() }

// Parameters is the number of weights in the model's tensors.
func (m *Model) Parameters() int64 { return m.params }

// WeightBytes is the number of weight bytes read to compute one token: every
// layer matrix and norm, the output head and one embedding row.
func (m *Model) WeightBytes() int64 { return m.readBytes }

// WeightType names the type holding most of the weight bytes, e.g. "q8_0".
func (m *Model) WeightType() string { return m.wtype }

// Close releases the pool and unmaps the file. Sessions still open fail
// with transport.ErrClosed afterwards. Close is idempotent.
func (m *Model) Close() error {
	m.life.Lock()
	defer m.life.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	m.pool.Close()
	if m.closer != nil {
		return m.closer()
	}
	return nil
}
