package gokernel

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"

	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/gokernel/kernels"
	"github.com/fakbench/fakbench/transport"
)

// Load maps the GGUF file at path and builds a Model from it. The file must
// be a Llama-architecture model whose tensors are f32, f16 or q8_0; every
// tensor's shape is checked against the hyper-parameters. Every problem
// with the file is a *transport.BadModelError naming the file and the fault.
func Load(path string, opts Options) (*Model, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, badGGUF(err)
	}
	m, err := fromGGUF(f, opts)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	m.closer = f.Close
	return m, nil
}

// badGGUF returns an error of the GGUF reader as the bad-model error the
// backend contract asks for, with the same text.
func badGGUF(err error) error {
	if ge, ok := errors.AsType[*gguf.Error](err); ok {
		return &transport.BadModelError{File: ge.File, Reason: ge.Reason, Err: ge.Err}
	}
	return err
}

// fromGGUF reads the hyper-parameters and tensors of an opened file.
func fromGGUF(f *gguf.File, opts Options) (*Model, error) {
	path := f.Path
	bad := func(reason string, err error) error {
		return &transport.BadModelError{File: path, Reason: reason, Err: err}
	}
	arch, err := f.String("general.architecture")
	if err != nil {
		return nil, bad("general.architecture", err)
	}
	if arch != "llama" {
		return nil, bad(fmt.Sprintf("general.architecture is %q; the Go kernel runs only \"llama\"", arch), nil)
	}
	name, err := f.String("general.name")
	if err != nil {
		name = filepath.Base(path)
	}

	// integer reads a llama.* count; def < 0 means the key is required.
	integer := func(key string, def int) (int, error) {
		v, err := f.Uint(key)
		if errors.Is(err, gguf.ErrNoKey) && def >= 0 {
			return def, nil
		}
		if err != nil {
			return 0, bad(key, err)
		}
		if v > math.MaxInt32 {
			return 0, bad(fmt.Sprintf("%s = %d is too large", key, v), nil)
		}
		return int(v), nil
	}
	float := func(key string, def float64) (float32, error) {
		v, err := f.Float(key)
		if errors.Is(err, gguf.ErrNoKey) && def >= 0 {
			return float32(def), nil
		}
		if err != nil {
			return 0, bad(key, err)
		}
		return float32(v), nil
	}
	var hp HParams
	if hp.Embd, err = integer("llama.embedding_length", -1); err != nil {
		return nil, err
	}
	if hp.Layers, err = integer("llama.block_count", -1); err != nil {
		return nil, err
	}
	if hp.FFN, err = integer("llama.feed_forward_length", -1); err != nil {
		return nil, err
	}
	if hp.Heads, err = integer("llama.attention.head_count", -1); err != nil {
		return nil, err
	}
	if hp.KVHeads, err = integer("llama.attention.head_count_kv", hp.Heads); err != nil {
		return nil, err
	}
	if hp.CtxTrain, err = integer("llama.context_length", -1); err != nil {
		return nil, err
	}
	if hp.RopeDim, err = integer("llama.rope.dimension_count", 0); err != nil {
		return nil, err
	}
	if hp.RopeBase, err = float("llama.rope.freq_base", 10000); err != nil {
		return nil, err
	}
	if hp.NormEps, err = float("llama.attention.layer_norm_rms_epsilon", -1); err != nil {
		return nil, err
	}
	// Rotary scaling as llama.cpp reads it: the type defaults to linear,
	// the factor (or the older rope.scale_linear) to none.
	scaling, err := f.String("llama.rope.scaling.type")
	switch {
	case errors.Is(err, gguf.ErrNoKey):
	case err != nil:
		return nil, bad("llama.rope.scaling.type", err)
	case scaling != "none" && scaling != "linear":
		return nil, bad(fmt.Sprintf("llama.rope.scaling.type is %q; the Go kernel supports none and linear", scaling), nil)
	}
	factor, err := float("llama.rope.scaling.factor", 0)
	if err != nil {
		return nil, err
	}
	if factor == 0 {
		if factor, err = float("llama.rope.scale_linear", 0); err != nil {
			return nil, err
		}
	}
	switch {
	case factor < 0:
		return nil, bad(fmt.Sprintf("rope scaling factor %g, want > 0", factor), nil)
	case factor > 0 && scaling != "none":
		hp.RopeFreqScale = 1 / factor
	}
	if hp.Heads > 0 {
		for _, key := range []string{"llama.attention.key_length", "llama.attention.value_length"} {
			v, err := integer(key, hp.Embd/hp.Heads)
			if err != nil {
				return nil, err
			}
			if v != hp.Embd/hp.Heads {
				return nil, bad(fmt.Sprintf("%s = %d differs from embedding_length/head_count = %d; the Go kernel needs them equal",
					key, v, hp.Embd/hp.Heads), nil)
			}
		}
	}

	get := func(name string) (rawTensor, bool, error) {
		ti, ok := f.Tensor(name)
		if !ok {
			return rawTensor{}, false, nil
		}
		data, err := f.TensorData(name)
		if err != nil {
			return rawTensor{}, true, err
		}
		return rawTensor{dims: ti.Dims, typ: kernels.Type(ti.Type), data: data}, true, nil
	}
	return assemble(path, name, hp, get, opts)
}
