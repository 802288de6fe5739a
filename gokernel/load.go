package gokernel

import (
	"errors"
	"fmt"
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

// fromGGUF reads the hyper-parameters (gguf.ReadLlamaParams, which also
// checks every tensor's presence and shape, as for every backend) and the
// tensors of an opened file.
func fromGGUF(f *gguf.File, opts Options) (*Model, error) {
	path := f.Path
	bad := func(reason string) error {
		return &transport.BadModelError{File: path, Reason: reason}
	}
	name, err := f.String("general.name")
	if err != nil {
		name = filepath.Base(path)
	}
	lp, err := gguf.ReadLlamaParams(f)
	if err != nil {
		return nil, badGGUF(err)
	}
	if lp.RopeScaling != "" && lp.RopeScaling != "none" && lp.RopeScaling != "linear" {
		return nil, bad(fmt.Sprintf("llama.rope.scaling.type is %q; the Go kernel supports none and linear", lp.RopeScaling))
	}
	// ReadLlamaParams has checked value_length and rope.dimension_count
	// equal key_length, and every tensor's shape against them.
	if lp.KeyLength != lp.HeadDim() {
		return nil, bad(fmt.Sprintf("llama.attention.key_length = %d differs from embedding_length/head_count = %d; the Go kernel needs them equal",
			lp.KeyLength, lp.HeadDim()))
	}
	hp := HParams{
		Embd: lp.Embd, Layers: lp.Layers, FFN: lp.FFN, Heads: lp.Heads, KVHeads: lp.KVHeads,
		CtxTrain: lp.CtxTrain, RopeDim: lp.RopeDim, RopeBase: float32(lp.RopeBase),
		RopeFreqScale: float32(lp.RopeFreqScale()), NormEps: float32(lp.NormEps),
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
		return rawTensor{dims: ti.Dims, typ: kernels.Type(ti.Type), data: data, evict: func() { f.Evict(data) }}, true, nil
	}
	return assemble(path, name, hp, get, opts)
}
