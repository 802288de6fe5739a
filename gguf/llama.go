package gguf

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// MaxLlamaCount bounds every count ReadLlamaParams reads (widths, layers,
// heads, context length), so a hostile header cannot make a backend size
// anything from an absurd value.
const MaxLlamaCount = 1 << 24

// MaxLlamaLayers is the most blocks llama.cpp sizes its per-layer arrays for
// (LLAMA_MAX_LAYERS in llama-hparams.h); it refuses a model with more.
const MaxLlamaLayers = 512

// MaxNormEps bounds llama.attention.layer_norm_rms_epsilon: real models
// use 1e-6 to 1e-5, and an epsilon above 1 would swamp the mean square
// RMSNorm divides by.
const MaxNormEps = 1.0

// RopeScalingTypes are the values of llama.rope.scaling.type llama.cpp
// knows (LLAMA_ROPE_SCALING_TYPES in llama-model.cpp); it aborts the
// process on any other.
var RopeScalingTypes = []string{"none", "linear", "yarn", "longrope"}

// LlamaParams are the hyper-parameters of a Llama-architecture model as its
// llama.* metadata and tensor shapes state them. ReadLlamaParams is the one
// place they are read, with one policy for missing keys: the keys llama.cpp
// requires (widths, block count, head count, context length, RMS epsilon)
// are required, and a missing one is an error naming it; the others take
// llama.cpp's defaults, given on each field.
type LlamaParams struct {
	// Embd is llama.embedding_length (required).
	Embd int
	// Layers is llama.block_count (required).
	Layers int
	// FFN is llama.feed_forward_length (required).
	FFN int
	// Heads is llama.attention.head_count (required).
	Heads int
	// KVHeads is llama.attention.head_count_kv (default Heads).
	KVHeads int
	// CtxTrain is llama.context_length (required).
	CtxTrain int
	// RopeDim is llama.rope.dimension_count (default KeyLength, and it must
	// equal KeyLength).
	RopeDim int
	// KeyLength is llama.attention.key_length (default Embd/Heads).
	KeyLength int
	// ValueLength is llama.attention.value_length (default Embd/Heads, and
	// it must equal KeyLength).
	ValueLength int
	// RopeBase is llama.rope.freq_base (default 10000).
	RopeBase float64
	// NormEps is llama.attention.layer_norm_rms_epsilon (required).
	NormEps float64
	// RopeScaling is llama.rope.scaling.type ("" when absent).
	RopeScaling string
	// RopeScaleFactor is llama.rope.scaling.factor when the file has that
	// key, else the older llama.rope.scale_linear (0 when neither is
	// given, or the one given is 0: no scaling).
	RopeScaleFactor float64
	// Vocab is the number of tokens: the rows of token_embd.weight, which
	// output.weight, tokenizer.ggml.tokens and llama.vocab_size match
	// where the file has them.
	Vocab int
	// TiedOutput says the file has no output.weight: token_embd.weight is
	// the output head too.
	TiedOutput bool
}

// HeadDim is the per-head width Embd/Heads.
func (p LlamaParams) HeadDim() int { return p.Embd / p.Heads }

// RopeFreqScale is the factor every rotary angle is multiplied by, as
// llama.cpp derives it: 1/RopeScaleFactor when a factor is given and the
// scaling type is not "none" (a factor without a type is linear scaling),
// else 1.
func (p LlamaParams) RopeFreqScale() float64 {
	if p.RopeScaleFactor > 0 && p.RopeScaling != "none" {
		return 1 / p.RopeScaleFactor
	}
	return 1
}

// ReadLlamaParams reads and checks the hyper-parameters of a model whose
// general.architecture is "llama", and checks every tensor the llama graph
// uses against them, so that a file it accepts cannot trip one of
// llama.cpp's assertions (which abort the whole process) and every backend
// refuses the same files. It checks:
//
//   - every count is in [1, MaxLlamaCount], and llama.block_count is at
//     most MaxLlamaLayers;
//   - llama.attention.layer_norm_rms_epsilon is finite, > 0 and at most
//     MaxNormEps; llama.rope.freq_base is finite and > 0; every float fits
//     a float32 (what the backends compute with) without becoming 0 or
//     infinite;
//   - llama.attention.head_count is a multiple of head_count_kv, and
//     llama.embedding_length of head_count;
//   - value_length equals key_length, and rope.dimension_count equals
//     key_length and is even (rope rotates pairs);
//   - llama.rope.scaling.type is one of RopeScalingTypes, and the scaling
//     factor is finite and >= 0 (0: no scaling);
//   - no mixture of experts (llama.expert_count and its companions are
//     absent or 0): the dense llama graph is what the backends run;
//   - token_embd.weight is [embedding_length, vocab], and output.weight
//     (when present), tokenizer.ggml.tokens and llama.vocab_size (when
//     present) agree with that vocabulary;
//   - output_norm.weight, rope_freqs.weight (when present) and every
//     blk.N.{attn_norm, attn_q, attn_k, attn_v, attn_output, ffn_norm,
//     ffn_gate, ffn_up, ffn_down}.weight are present with the shape the
//     hyper-parameters imply, as llama.cpp creates them.
//
// Every error is an *Error naming the file and the key or tensor at fault
// with its value. Tensor types and the limits of one engine (the Go kernel
// needs key_length = embedding_length/head_count, for one) are each
// backend's to check.
func ReadLlamaParams(f *File) (LlamaParams, error) {
	p, err := readLlamaKeys(f)
	if err != nil {
		return p, err
	}
	if err := p.checkRelations(f.Path); err != nil {
		return p, err
	}
	if err := p.checkTensors(f); err != nil {
		return p, err
	}
	return p, nil
}

// readLlamaKeys reads the llama.* keys, each checked on its own.
func readLlamaKeys(f *File) (LlamaParams, error) {
	var p LlamaParams
	arch, err := f.String("general.architecture")
	if err != nil {
		return p, &Error{File: f.Path, Reason: "general.architecture", Err: err}
	}
	if arch != "llama" {
		return p, &Error{File: f.Path, Reason: fmt.Sprintf("general.architecture is %q, want \"llama\"", arch)}
	}
	// required as a default makes a key required.
	const required = -1
	count := func(dst *int, key string, def int) error {
		v, err := f.Uint(key)
		switch {
		case errors.Is(err, ErrNoKey) && def != required:
			*dst = def
			return nil
		case err != nil:
			return &Error{File: f.Path, Reason: key, Err: err}
		case v == 0:
			return &Error{File: f.Path, Reason: key + " = 0, want > 0"}
		case v > MaxLlamaCount:
			return &Error{File: f.Path, Reason: fmt.Sprintf("%s = %d is too large (the limit is %d)", key, v, MaxLlamaCount)}
		}
		*dst = int(v)
		return nil
	}
	number := func(dst *float64, key string, def float64) error {
		v, err := f.Float(key)
		switch {
		case errors.Is(err, ErrNoKey) && def != required:
			*dst = def
			return nil
		case err != nil:
			return &Error{File: f.Path, Reason: key, Err: err}
		case !(v > 0) || math.IsInf(v, 0):
			return &Error{File: f.Path, Reason: fmt.Sprintf("%s = %g, want a finite value > 0", key, v)}
		case !fitsFloat32(v):
			return &Error{File: f.Path, Reason: fmt.Sprintf("%s = %g is 0 or infinite as a float32, want a finite value > 0", key, v)}
		}
		*dst = v
		return nil
	}
	for _, c := range []struct {
		dst *int
		key string
	}{
		{&p.Embd, "llama.embedding_length"},
		{&p.Layers, "llama.block_count"},
		{&p.FFN, "llama.feed_forward_length"},
		{&p.Heads, "llama.attention.head_count"},
		{&p.CtxTrain, "llama.context_length"},
	} {
		if err := count(c.dst, c.key, required); err != nil {
			return p, err
		}
	}
	// Heads > 0 from here on.
	for _, c := range []struct {
		dst *int
		key string
		def int
	}{
		{&p.KVHeads, "llama.attention.head_count_kv", p.Heads},
		{&p.KeyLength, "llama.attention.key_length", p.HeadDim()},
		{&p.ValueLength, "llama.attention.value_length", p.HeadDim()},
	} {
		if err := count(c.dst, c.key, c.def); err != nil {
			return p, err
		}
	}
	// llama.cpp's default rotates whole heads.
	if err := count(&p.RopeDim, "llama.rope.dimension_count", p.KeyLength); err != nil {
		return p, err
	}
	if err := number(&p.NormEps, "llama.attention.layer_norm_rms_epsilon", required); err != nil {
		return p, err
	}
	if p.NormEps > MaxNormEps {
		return p, &Error{File: f.Path, Reason: fmt.Sprintf("llama.attention.layer_norm_rms_epsilon = %g is too large, want at most %g", p.NormEps, MaxNormEps)}
	}
	if err := number(&p.RopeBase, "llama.rope.freq_base", 10000); err != nil {
		return p, err
	}
	p.RopeScaling, err = f.String("llama.rope.scaling.type")
	switch {
	case errors.Is(err, ErrNoKey):
		p.RopeScaling = ""
	case err != nil:
		return p, &Error{File: f.Path, Reason: "llama.rope.scaling.type", Err: err}
	case !slices.Contains(RopeScalingTypes, p.RopeScaling):
		return p, &Error{File: f.Path, Reason: fmt.Sprintf("llama.rope.scaling.type = %q, want one of %q", p.RopeScaling, RopeScalingTypes)}
	}
	// The factor: llama.rope.scaling.factor when the file has that key (0
	// included, as llama.cpp reads it), else the older
	// llama.rope.scale_linear.
	for _, key := range []string{"llama.rope.scaling.factor", "llama.rope.scale_linear"} {
		v, err := f.Float(key)
		if errors.Is(err, ErrNoKey) {
			continue
		}
		if err != nil {
			return p, &Error{File: f.Path, Reason: key, Err: err}
		}
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) || (v > 0 && (!fitsFloat32(v) || !fitsFloat32(1/v))) {
			return p, &Error{File: f.Path, Reason: fmt.Sprintf("%s = %g: rope scaling factor, want a finite value > 0 that fits a float32 (or 0: no scaling)", key, v)}
		}
		p.RopeScaleFactor = v
		break
	}
	// Mixture of experts: llama.cpp asserts on inconsistent counts, and
	// with experts the layers hold ffn_*_exps tensors no backend here
	// runs.
	for _, key := range []string{"llama.expert_count", "llama.expert_used_count", "llama.expert_group_count", "llama.expert_group_used_count"} {
		v, err := f.Uint(key)
		switch {
		case errors.Is(err, ErrNoKey):
		case err != nil:
			return p, &Error{File: f.Path, Reason: key, Err: err}
		case v != 0:
			return p, &Error{File: f.Path, Reason: fmt.Sprintf("%s = %d: mixture-of-experts llama models are not supported, want 0 or no key", key, v)}
		}
	}
	return p, nil
}

// checkRelations checks the hyper-parameters against each other as
// llama.cpp's loader and llama graph need them.
func (p LlamaParams) checkRelations(path string) error {
	bad := func(format string, args ...any) error {
		return &Error{File: path, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case p.Layers > MaxLlamaLayers:
		return bad("llama.block_count = %d is more than llama.cpp's %d layers", p.Layers, MaxLlamaLayers)
	case p.Heads%p.KVHeads != 0:
		// ggml broadcasts each KV head over a group of query heads.
		return bad("llama.attention.head_count = %d is not a multiple of llama.attention.head_count_kv = %d", p.Heads, p.KVHeads)
	case p.Embd%p.Heads != 0:
		return bad("llama.embedding_length = %d is not a multiple of llama.attention.head_count = %d", p.Embd, p.Heads)
	case p.ValueLength != p.KeyLength:
		// GGML_ASSERT(n_embd_head == hparams.n_embd_head_k) in llm_build_llama.
		return bad("llama.attention.value_length = %d differs from llama.attention.key_length = %d; the llama graph needs them equal", p.ValueLength, p.KeyLength)
	case p.RopeDim != p.KeyLength:
		// llama.cpp: "invalid n_rot" for the llama architecture.
		return bad("llama.rope.dimension_count = %d differs from the head dimension (llama.attention.key_length) %d; the llama graph rotates whole heads", p.RopeDim, p.KeyLength)
	case p.RopeDim%2 != 0:
		// GGML_ASSERT(n_dims % 2 == 0) in ggml's rope.
		return bad("llama.rope.dimension_count = %d is odd; rope rotates pairs of dimensions", p.RopeDim)
	}
	return nil
}

// checkTensors checks the tensors the llama graph uses are present with the
// shapes llama.cpp creates them with, and sets Vocab and TiedOutput.
func (p *LlamaParams) checkTensors(f *File) error {
	bad := func(format string, args ...any) error {
		return &Error{File: f.Path, Reason: fmt.Sprintf(format, args...)}
	}
	emb, ok := f.Tensor("token_embd.weight")
	if !ok {
		return bad("tensor token_embd.weight is missing")
	}
	if len(emb.Dims) != 2 || emb.Dims[0] != uint64(p.Embd) {
		return bad("tensor token_embd.weight has dims %v, want [%d vocab] ([llama.embedding_length, vocabulary])", emb.Dims, p.Embd)
	}
	// The reader has checked the rows are > 0 and lie in the file.
	p.Vocab = int(emb.Dims[1])
	if toks, err := f.Strings("tokenizer.ggml.tokens"); err == nil {
		if len(toks) != p.Vocab {
			return bad("tokenizer.ggml.tokens has %d tokens, but tensor token_embd.weight has %d rows (dims %v)", len(toks), p.Vocab, emb.Dims)
		}
	} else if !errors.Is(err, ErrNoKey) {
		return &Error{File: f.Path, Reason: "tokenizer.ggml.tokens", Err: err}
	}
	if v, err := f.Uint("llama.vocab_size"); err == nil {
		if v != uint64(p.Vocab) {
			return bad("llama.vocab_size = %d, but tensor token_embd.weight has %d rows (dims %v)", v, p.Vocab, emb.Dims)
		}
	} else if !errors.Is(err, ErrNoKey) {
		return &Error{File: f.Path, Reason: "llama.vocab_size", Err: err}
	}
	_, hasOut := f.Tensor("output.weight")
	p.TiedOutput = !hasOut

	type want struct {
		name string
		dims []int
		what string // where the dims come from
	}
	embd, vocab := "llama.embedding_length", "rows of token_embd.weight"
	wants := []want{{"output_norm.weight", []int{p.Embd}, embd}}
	if hasOut {
		wants = append(wants, want{"output.weight", []int{p.Embd, p.Vocab}, embd + ", " + vocab})
	}
	if _, ok := f.Tensor("rope_freqs.weight"); ok {
		wants = append(wants, want{"rope_freqs.weight", []int{p.RopeDim / 2}, "llama.rope.dimension_count/2"})
	}
	q, kv := p.KeyLength*p.Heads, p.KeyLength*p.KVHeads
	const (
		qWhat   = "key_length*head_count"
		kvWhat  = "key_length*head_count_kv"
		ffnWhat = "llama.feed_forward_length"
	)
	for i := range p.Layers {
		b := fmt.Sprintf("blk.%d.", i)
		wants = append(wants,
			want{b + "attn_norm.weight", []int{p.Embd}, embd},
			want{b + "attn_q.weight", []int{p.Embd, q}, embd + ", " + qWhat},
			want{b + "attn_k.weight", []int{p.Embd, kv}, embd + ", " + kvWhat},
			want{b + "attn_v.weight", []int{p.Embd, p.ValueLength * p.KVHeads}, embd + ", value_length*head_count_kv"},
			want{b + "attn_output.weight", []int{q, p.Embd}, qWhat + ", " + embd},
			want{b + "ffn_norm.weight", []int{p.Embd}, embd},
			want{b + "ffn_gate.weight", []int{p.Embd, p.FFN}, embd + ", " + ffnWhat},
			want{b + "ffn_up.weight", []int{p.Embd, p.FFN}, embd + ", " + ffnWhat},
			want{b + "ffn_down.weight", []int{p.FFN, p.Embd}, ffnWhat + ", " + embd},
		)
	}
	for _, w := range wants {
		t, ok := f.Tensor(w.name)
		if !ok {
			return bad("tensor %s is missing", w.name)
		}
		if !dimsEqual(t.Dims, w.dims) {
			return bad("tensor %s has dims %v, want %v ([%s])", w.name, t.Dims, w.dims, w.what)
		}
	}
	return nil
}

// dimsEqual reports whether a tensor's dims are exactly want.
func dimsEqual(dims []uint64, want []int) bool {
	if len(dims) != len(want) {
		return false
	}
	for i, d := range want {
		if dims[i] != uint64(d) {
			return false
		}
	}
	return true
}

// fitsFloat32 reports whether a positive finite v stays positive and
// finite as a float32.
func fitsFloat32(v float64) bool {
	f := float32(v)
	return f > 0 && !math.IsInf(float64(f), 0)
}
