package gguf

import (
	"errors"
	"fmt"
	"math"
)

// MaxLlamaCount bounds every count ReadLlamaParams reads (widths, layers,
// heads, context length), so a hostile header cannot make a backend size
// anything from an absurd value.
const MaxLlamaCount = 1 << 24

// LlamaParams are the hyper-parameters of a Llama-architecture model as its
// llama.* metadata states them. ReadLlamaParams is the one place they are
// read, with one policy for missing keys: the keys llama.cpp requires
// (widths, block count, head count, context length, RMS epsilon) are
// required, and a missing one is an error naming it; the others take
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
	// RopeDim is llama.rope.dimension_count (default Embd/Heads).
	RopeDim int
	// KeyLength is llama.attention.key_length (default Embd/Heads).
	KeyLength int
	// ValueLength is llama.attention.value_length (default Embd/Heads).
	ValueLength int
	// RopeBase is llama.rope.freq_base (default 10000).
	RopeBase float64
	// NormEps is llama.attention.layer_norm_rms_epsilon (required).
	NormEps float64
	// RopeScaling is llama.rope.scaling.type ("" when absent).
	RopeScaling string
	// RopeScaleFactor is llama.rope.scaling.factor, else the older
	// llama.rope.scale_linear (0 when neither is given: no scaling).
	RopeScaleFactor float64
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

// ReadLlamaParams reads the hyper-parameters of a model whose
// general.architecture is "llama". Every count must lie in
// [1, MaxLlamaCount] and every float must be finite and positive. Every
// error is an *Error naming the file and the key. It checks no relation
// between the values (that heads divide the width, for one): each backend
// checks what its engine needs.
func ReadLlamaParams(f *File) (LlamaParams, error) {
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
		{&p.RopeDim, "llama.rope.dimension_count", p.HeadDim()},
		{&p.KeyLength, "llama.attention.key_length", p.HeadDim()},
		{&p.ValueLength, "llama.attention.value_length", p.HeadDim()},
	} {
		if err := count(c.dst, c.key, c.def); err != nil {
			return p, err
		}
	}
	if err := number(&p.NormEps, "llama.attention.layer_norm_rms_epsilon", required); err != nil {
		return p, err
	}
	if err := number(&p.RopeBase, "llama.rope.freq_base", 10000); err != nil {
		return p, err
	}
	p.RopeScaling, err = f.String("llama.rope.scaling.type")
	if err != nil && !errors.Is(err, ErrNoKey) {
		return p, &Error{File: f.Path, Reason: "llama.rope.scaling.type", Err: err}
	}
	// The factor: llama.rope.scaling.factor, else (absent or 0) the older
	// llama.rope.scale_linear.
	for _, key := range []string{"llama.rope.scaling.factor", "llama.rope.scale_linear"} {
		v, err := f.Float(key)
		if errors.Is(err, ErrNoKey) {
			continue
		}
		if err != nil {
			return p, &Error{File: f.Path, Reason: key, Err: err}
		}
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return p, &Error{File: f.Path, Reason: fmt.Sprintf("rope scaling factor %g, want > 0", v)}
		}
		if v > 0 {
			p.RopeScaleFactor = v
			break
		}
	}
	return p, nil
}
