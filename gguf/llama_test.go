package gguf

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// llamaKVs is the metadata of a complete small Llama header; llamaBase are
// the parameters it states and llamaTensors(llamaBase) its tensors.
func llamaKVs() map[string]any {
	return map[string]any{
		"general.architecture":                   "llama",
		"llama.embedding_length":                 uint32(64),
		"llama.block_count":                      uint32(2),
		"llama.feed_forward_length":              uint32(192),
		"llama.attention.head_count":             uint32(4),
		"llama.context_length":                   uint32(512),
		"llama.attention.layer_norm_rms_epsilon": float32(1e-5),
	}
}

// llamaBase are the parameters llamaKVs states, with a vocabulary of 32
// and an output head of its own.
var llamaBase = LlamaParams{
	Embd: 64, Layers: 2, FFN: 192, Heads: 4, KVHeads: 4, CtxTrain: 512,
	RopeDim: 16, KeyLength: 16, ValueLength: 16, RopeBase: 10000, NormEps: float64(float32(1e-5)),
	Vocab: 32,
}

// llamaTensors are the dims of every tensor of a Llama model with the
// parameters p, as llama.cpp creates them (output.weight unless
// p.TiedOutput).
func llamaTensors(p LlamaParams) map[string][]uint64 {
	u := func(d ...int) []uint64 {
		out := make([]uint64, len(d))
		for i, v := range d {
			out[i] = uint64(v)
		}
		return out
	}
	ts := map[string][]uint64{
		"token_embd.weight":  u(p.Embd, p.Vocab),
		"output_norm.weight": u(p.Embd),
	}
	if !p.TiedOutput {
		ts["output.weight"] = u(p.Embd, p.Vocab)
	}
	q, kv := p.KeyLength*p.Heads, p.KeyLength*p.KVHeads
	for i := range p.Layers {
		b := fmt.Sprintf("blk.%d.", i)
		ts[b+"attn_norm.weight"] = u(p.Embd)
		ts[b+"attn_q.weight"] = u(p.Embd, q)
		ts[b+"attn_k.weight"] = u(p.Embd, kv)
		ts[b+"attn_v.weight"] = u(p.Embd, p.ValueLength*p.KVHeads)
		ts[b+"attn_output.weight"] = u(q, p.Embd)
		ts[b+"ffn_norm.weight"] = u(p.Embd)
		ts[b+"ffn_gate.weight"] = u(p.Embd, p.FFN)
		ts[b+"ffn_up.weight"] = u(p.Embd, p.FFN)
		ts[b+"ffn_down.weight"] = u(p.FFN, p.Embd)
	}
	return ts
}

// encodeLlama writes a file holding kvs and zero-filled f16 tensors of
// the dims ts, both in name order.
func encodeLlama(t testing.TB, kvs map[string]any, ts map[string][]uint64) []byte {
	t.Helper()
	w := NewWriter()
	for _, k := range slices.Sorted(maps.Keys(kvs)) {
		require.NoError(t, w.AddKV(k, kvs[k]))
	}
	for _, name := range slices.Sorted(maps.Keys(ts)) {
		n := int64(2)
		for _, d := range ts[name] {
			n *= int64(d)
		}
		require.NoError(t, w.AddTensorFunc(name, TypeF16, ts[name], func(out io.Writer) error {
			_, err := out.Write(make([]byte, n))
			return err
		}))
	}
	return encode(t, w)
}

// parseLlama parses encodeLlama's file.
func parseLlama(t testing.TB, kvs map[string]any, ts map[string][]uint64) *File {
	t.Helper()
	f, err := Parse("llama.gguf", encodeLlama(t, kvs, ts))
	require.NoError(t, err)
	return f
}

// parseKVs parses a model with the metadata kvs and the tensors of
// llamaBase.
func parseKVs(t *testing.T, kvs map[string]any) *File {
	t.Helper()
	return parseLlama(t, kvs, llamaTensors(llamaBase))
}

func TestReadLlamaParamsDefaults(t *testing.T) {
	p, err := ReadLlamaParams(parseKVs(t, llamaKVs()))
	require.NoError(t, err)
	assert.Equal(t, llamaBase, p)
	assert.Equal(t, 16, p.HeadDim())
	assert.Equal(t, 1.0, p.RopeFreqScale())
	assert.False(t, p.TiedOutput)

	// Without output.weight, token_embd.weight is the head too.
	tied := llamaBase
	tied.TiedOutput = true
	p, err = ReadLlamaParams(parseLlama(t, llamaKVs(), llamaTensors(tied)))
	require.NoError(t, err)
	assert.Equal(t, tied, p)
}

func TestReadLlamaParamsGiven(t *testing.T) {
	kvs := llamaKVs()
	kvs["llama.attention.head_count_kv"] = uint32(2)
	kvs["llama.rope.dimension_count"] = uint32(32)
	kvs["llama.attention.key_length"] = uint32(32)
	kvs["llama.attention.value_length"] = uint64(32)
	kvs["llama.rope.freq_base"] = float32(500000)
	kvs["llama.rope.scaling.type"] = "linear"
	kvs["llama.rope.scaling.factor"] = float32(4)
	kvs["llama.vocab_size"] = uint32(32)
	kvs["llama.expert_count"] = uint32(0)
	kvs["tokenizer.ggml.tokens"] = make([]string, 32)
	want := llamaBase
	want.KVHeads, want.RopeDim, want.KeyLength, want.ValueLength = 2, 32, 32, 32
	want.RopeBase, want.RopeScaling, want.RopeScaleFactor = 500000, "linear", 4
	ts := llamaTensors(want)
	ts["rope_freqs.weight"] = []uint64{16}
	p, err := ReadLlamaParams(parseLlama(t, kvs, ts))
	require.NoError(t, err)
	assert.Equal(t, want, p)
	assert.Equal(t, 0.25, p.RopeFreqScale())
	assert.Equal(t, []uint64{64, 128}, ts["blk.0.attn_q.weight"], "key_length, not embedding_length/head_count, sizes the heads")
}

func TestReadLlamaParamsRopeScaling(t *testing.T) {
	cases := []struct {
		name   string
		kvs    map[string]any
		factor float64
		scale  float64
	}{
		{"none", nil, 0, 1},
		{"factor without a type is linear", map[string]any{"llama.rope.scaling.factor": float32(2)}, 2, 0.5},
		{"type none ignores the factor", map[string]any{"llama.rope.scaling.type": "none", "llama.rope.scaling.factor": float32(4)}, 4, 1},
		{"yarn", map[string]any{"llama.rope.scaling.type": "yarn", "llama.rope.scaling.factor": float32(4)}, 4, 0.25},
		{"old scale_linear key", map[string]any{"llama.rope.scale_linear": float32(2)}, 2, 0.5},
		// llama.cpp reads scale_linear only when scaling.factor is absent.
		{"zero factor is no scaling and hides scale_linear", map[string]any{"llama.rope.scaling.factor": float32(0), "llama.rope.scale_linear": float32(8)}, 0, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kvs := llamaKVs()
			maps.Copy(kvs, c.kvs)
			p, err := ReadLlamaParams(parseKVs(t, kvs))
			require.NoError(t, err)
			assert.Equal(t, c.factor, p.RopeScaleFactor)
			assert.Equal(t, c.scale, p.RopeFreqScale())
		})
	}
}

// Every required key, when missing, is an *Error naming the key; the
// optional ones take their defaults (TestReadLlamaParamsDefaults).
func TestReadLlamaParamsRequired(t *testing.T) {
	for _, key := range []string{
		"general.architecture",
		"llama.embedding_length",
		"llama.block_count",
		"llama.feed_forward_length",
		"llama.attention.head_count",
		"llama.context_length",
		"llama.attention.layer_norm_rms_epsilon",
	} {
		t.Run(key, func(t *testing.T) {
			kvs := llamaKVs()
			delete(kvs, key)
			_, err := ReadLlamaParams(parseKVs(t, kvs))
			var ge *Error
			require.ErrorAs(t, err, &ge)
			assert.Equal(t, "llama.gguf", ge.File)
			assert.Equal(t, key, ge.Reason)
			assert.ErrorIs(t, err, ErrNoKey)
		})
	}
}

// One case per check on the metadata: each breaks one key of a valid
// model, and the error names the key and its value.
func TestReadLlamaParamsBadValues(t *testing.T) {
	cases := []struct {
		name string
		kvs  map[string]any
		want string
	}{
		{"other architecture", map[string]any{"general.architecture": "gpt2"}, `general.architecture is "gpt2", want "llama"`},
		{"wrong type", map[string]any{"llama.embedding_length": "64"}, `llama.embedding_length: gguf llama.gguf: key "llama.embedding_length" is string`},
		{"negative count", map[string]any{"llama.block_count": int32(-1)}, "is negative"},
		{"zero count", map[string]any{"llama.attention.head_count": uint32(0)}, "llama.attention.head_count = 0, want > 0"},
		{"zero optional count", map[string]any{"llama.attention.head_count_kv": uint32(0)}, "llama.attention.head_count_kv = 0, want > 0"},
		{"zero context length", map[string]any{"llama.context_length": uint32(0)}, "llama.context_length = 0, want > 0"},
		{"huge count", map[string]any{"llama.context_length": uint64(1) << 40}, "llama.context_length = 1099511627776 is too large"},
		{"more layers than llama.cpp holds", map[string]any{"llama.block_count": uint32(513)}, "llama.block_count = 513 is more than llama.cpp's 512 layers"},

		{"zero epsilon", map[string]any{"llama.attention.layer_norm_rms_epsilon": float32(0)}, "llama.attention.layer_norm_rms_epsilon = 0, want a finite value > 0"},
		{"NaN epsilon", map[string]any{"llama.attention.layer_norm_rms_epsilon": float32(math.NaN())}, "llama.attention.layer_norm_rms_epsilon = NaN, want a finite value > 0"},
		{"negative epsilon", map[string]any{"llama.attention.layer_norm_rms_epsilon": float32(-0.5)}, "llama.attention.layer_norm_rms_epsilon = -0.5, want a finite value > 0"},
		{"infinite epsilon", map[string]any{"llama.attention.layer_norm_rms_epsilon": float32(math.Inf(1))}, "llama.attention.layer_norm_rms_epsilon = +Inf, want a finite value > 0"},
		{"huge epsilon", map[string]any{"llama.attention.layer_norm_rms_epsilon": float32(2)}, "llama.attention.layer_norm_rms_epsilon = 2 is too large, want at most 1"},
		{"epsilon that is 0 as a float32", map[string]any{"llama.attention.layer_norm_rms_epsilon": 1e-50}, "llama.attention.layer_norm_rms_epsilon = 1e-50 is 0 or infinite as a float32"},
		{"NaN rope base", map[string]any{"llama.rope.freq_base": float32(math.NaN())}, "llama.rope.freq_base = NaN, want a finite value > 0"},
		{"infinite rope base", map[string]any{"llama.rope.freq_base": math.Inf(1)}, "llama.rope.freq_base = +Inf"},
		{"negative rope base", map[string]any{"llama.rope.freq_base": float32(-10000)}, "llama.rope.freq_base = -10000, want a finite value > 0"},
		{"rope base that overflows a float32", map[string]any{"llama.rope.freq_base": 1e300}, "llama.rope.freq_base = 1e+300 is 0 or infinite as a float32"},

		{"scaling type of the wrong type", map[string]any{"llama.rope.scaling.type": uint32(1)}, "llama.rope.scaling.type"},
		{"unknown scaling type", map[string]any{"llama.rope.scaling.type": "dynamic"}, `llama.rope.scaling.type = "dynamic", want one of ["none" "linear" "yarn" "longrope"]`},
		{"negative rope factor", map[string]any{"llama.rope.scaling.factor": float32(-2)}, "llama.rope.scaling.factor = -2: rope scaling factor, want a finite value > 0"},
		{"NaN rope factor", map[string]any{"llama.rope.scaling.factor": float32(math.NaN())}, "llama.rope.scaling.factor = NaN: rope scaling factor"},
		{"infinite rope factor", map[string]any{"llama.rope.scaling.factor": float32(math.Inf(1))}, "llama.rope.scaling.factor = +Inf: rope scaling factor"},
		{"rope factor whose inverse overflows a float32", map[string]any{"llama.rope.scaling.factor": 1e-300}, "llama.rope.scaling.factor = 1e-300: rope scaling factor"},
		{"negative scale_linear", map[string]any{"llama.rope.scale_linear": float32(-1)}, "llama.rope.scale_linear = -1: rope scaling factor"},
		{"rope factor of the wrong type", map[string]any{"llama.rope.scaling.factor": "4"}, `llama.rope.scaling.factor: gguf llama.gguf: key "llama.rope.scaling.factor" is string`},

		{"heads not a multiple of KV heads", map[string]any{"llama.attention.head_count_kv": uint32(3)}, "llama.attention.head_count = 4 is not a multiple of llama.attention.head_count_kv = 3"},
		{"more KV heads than heads", map[string]any{"llama.attention.head_count_kv": uint32(8)}, "llama.attention.head_count = 4 is not a multiple of llama.attention.head_count_kv = 8"},
		{"width not a multiple of heads", map[string]any{"llama.embedding_length": uint32(66)}, "llama.embedding_length = 66 is not a multiple of llama.attention.head_count = 4"},
		{"value length differs from key length", map[string]any{"llama.attention.value_length": uint32(8)}, "llama.attention.value_length = 8 differs from llama.attention.key_length = 16"},
		{"rope dimensions differ from the head", map[string]any{"llama.rope.dimension_count": uint32(8)}, "llama.rope.dimension_count = 8 differs from the head dimension (llama.attention.key_length) 16"},
		{"odd head dimension", map[string]any{"llama.embedding_length": uint32(60)}, "llama.rope.dimension_count = 15 is odd"},

		{"mixture of experts", map[string]any{"llama.expert_count": uint32(8), "llama.expert_used_count": uint32(2)}, "llama.expert_count = 8: mixture-of-experts llama models are not supported"},
		{"experts used without experts", map[string]any{"llama.expert_used_count": uint32(2)}, "llama.expert_used_count = 2: mixture-of-experts"},
		{"expert groups without experts", map[string]any{"llama.expert_group_count": uint32(2)}, "llama.expert_group_count = 2: mixture-of-experts"},
		{"expert groups used without experts", map[string]any{"llama.expert_group_used_count": uint32(1)}, "llama.expert_group_used_count = 1: mixture-of-experts"},
		{"expert count of the wrong type", map[string]any{"llama.expert_count": "8"}, `llama.expert_count: gguf llama.gguf: key "llama.expert_count" is string`},

		{"vocab_size differs", map[string]any{"llama.vocab_size": uint32(33)}, "llama.vocab_size = 33, but tensor token_embd.weight has 32 rows (dims [64 32])"},
		{"vocab_size of the wrong type", map[string]any{"llama.vocab_size": "32"}, `llama.vocab_size: gguf llama.gguf: key "llama.vocab_size" is string`},
		{"tokenizer differs", map[string]any{"tokenizer.ggml.tokens": make([]string, 31)}, "tokenizer.ggml.tokens has 31 tokens, but tensor token_embd.weight has 32 rows (dims [64 32])"},
		{"tokenizer of the wrong type", map[string]any{"tokenizer.ggml.tokens": make([]uint32, 32)}, `tokenizer.ggml.tokens: gguf llama.gguf: key "tokenizer.ggml.tokens" is array`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kvs := llamaKVs()
			maps.Copy(kvs, c.kvs)
			_, err := ReadLlamaParams(parseKVs(t, kvs))
			var ge *Error
			require.ErrorAs(t, err, &ge)
			assert.Equal(t, "llama.gguf", ge.File)
			assert.ErrorContains(t, err, c.want)
		})
	}
}

// One case per tensor the llama graph uses, missing and misshapen: the
// error names the tensor, its dims and the dims the parameters imply.
func TestReadLlamaParamsBadTensors(t *testing.T) {
	type tcase struct {
		name string
		edit func(ts map[string][]uint64)
		want string
	}
	var cases []tcase
	shapes := map[string]string{
		"output_norm.weight":       "[64] ([llama.embedding_length])",
		"output.weight":            "[64 32] ([llama.embedding_length, rows of token_embd.weight])",
		"blk.1.attn_norm.weight":   "[64] ([llama.embedding_length])",
		"blk.1.attn_q.weight":      "[64 64] ([llama.embedding_length, key_length*head_count])",
		"blk.1.attn_k.weight":      "[64 64] ([llama.embedding_length, key_length*head_count_kv])",
		"blk.1.attn_v.weight":      "[64 64] ([llama.embedding_length, value_length*head_count_kv])",
		"blk.1.attn_output.weight": "[64 64] ([key_length*head_count, llama.embedding_length])",
		"blk.1.ffn_norm.weight":    "[64] ([llama.embedding_length])",
		"blk.1.ffn_gate.weight":    "[64 192] ([llama.embedding_length, llama.feed_forward_length])",
		"blk.1.ffn_up.weight":      "[64 192] ([llama.embedding_length, llama.feed_forward_length])",
		"blk.1.ffn_down.weight":    "[192 64] ([llama.feed_forward_length, llama.embedding_length])",
	}
	base := llamaTensors(llamaBase)
	for _, name := range slices.Sorted(maps.Keys(shapes)) {
		if name != "output.weight" { // optional: TestReadLlamaParamsDefaults
			cases = append(cases, tcase{"missing " + name, func(ts map[string][]uint64) { delete(ts, name) }, "tensor " + name + " is missing"})
		}
		broken := append([]uint64{base[name][0] + 2}, base[name][1:]...)
		cases = append(cases, tcase{"misshapen " + name, func(ts map[string][]uint64) { ts[name] = broken },
			fmt.Sprintf("tensor %s has dims %v, want %s", name, broken, shapes[name])})
	}
	cases = append(cases,
		tcase{"missing token_embd.weight", func(ts map[string][]uint64) { delete(ts, "token_embd.weight") }, "tensor token_embd.weight is missing"},
		tcase{"token_embd.weight of the wrong width", func(ts map[string][]uint64) { ts["token_embd.weight"] = []uint64{62, 32} },
			"tensor token_embd.weight has dims [62 32], want [64 vocab] ([llama.embedding_length, vocabulary])"},
		tcase{"token_embd.weight of three dimensions", func(ts map[string][]uint64) { ts["token_embd.weight"] = []uint64{64, 32, 2} },
			"tensor token_embd.weight has dims [64 32 2], want [64 vocab]"},
		tcase{"output.weight of another vocabulary", func(ts map[string][]uint64) { ts["output.weight"] = []uint64{64, 34} },
			"tensor output.weight has dims [64 34], want [64 32] ([llama.embedding_length, rows of token_embd.weight])"},
		tcase{"rope_freqs.weight of the wrong length", func(ts map[string][]uint64) { ts["rope_freqs.weight"] = []uint64{16} },
			"tensor rope_freqs.weight has dims [16], want [8] ([llama.rope.dimension_count/2])"},
		tcase{"last layer missing", func(ts map[string][]uint64) {
			for name := range ts {
				if len(name) > 6 && name[:6] == "blk.1." {
					delete(ts, name)
				}
			}
		}, "tensor blk.1.attn_norm.weight is missing"},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts := llamaTensors(llamaBase)
			c.edit(ts)
			_, err := ReadLlamaParams(parseLlama(t, llamaKVs(), ts))
			var ge *Error
			require.ErrorAs(t, err, &ge)
			assert.Equal(t, "llama.gguf", ge.File)
			assert.ErrorContains(t, err, c.want)
		})
	}
}

// FuzzReadLlamaParams feeds mutated Llama models to Parse and
// ReadLlamaParams: they return parameters or an *Error, and never panic.
func FuzzReadLlamaParams(f *testing.F) {
	f.Add(encodeLlama(f, llamaKVs(), llamaTensors(llamaBase)))
	kvs := llamaKVs()
	kvs["llama.attention.layer_norm_rms_epsilon"] = float32(math.NaN())
	f.Add(encodeLlama(f, kvs, llamaTensors(llamaBase)))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.gguf", data)
		if err != nil {
			return
		}
		p, err := ReadLlamaParams(file)
		if err != nil {
			var ge *Error
			if !errors.As(err, &ge) {
				t.Fatalf("error %v is not a *gguf.Error", err)
			}
			return
		}
		if !(p.NormEps > 0 && p.NormEps <= MaxNormEps) || p.Heads%p.KVHeads != 0 || p.RopeDim%2 != 0 || p.Vocab <= 0 {
			t.Fatalf("accepted bad parameters %+v", p)
		}
	})
}

func TestErrorMessage(t *testing.T) {
	cause := errors.New("no such file")
	e := &Error{File: "m.gguf", Reason: "cannot open", Err: cause}
	assert.Equal(t, "gguf m.gguf: cannot open: no such file", e.Error())
	assert.ErrorIs(t, e, cause)
	assert.Equal(t, "gguf m.gguf: not a regular file", (&Error{File: "m.gguf", Reason: "not a regular file"}).Error())
}
