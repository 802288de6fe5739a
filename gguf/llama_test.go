package gguf

import (
	"errors"
	"maps"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// llamaKVs is the metadata of a complete small Llama header.
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

// parseKVs writes a header holding kvs, in key order, and parses it.
func parseKVs(t *testing.T, kvs map[string]any) *File {
	t.Helper()
	w := NewWriter()
	for _, k := range slices.Sorted(maps.Keys(kvs)) {
		require.NoError(t, w.AddKV(k, kvs[k]))
	}
	f, err := Parse("llama.gguf", encode(t, w))
	require.NoError(t, err)
	return f
}

func TestReadLlamaParamsDefaults(t *testing.T) {
	p, err := ReadLlamaParams(parseKVs(t, llamaKVs()))
	require.NoError(t, err)
	assert.Equal(t, LlamaParams{
		Embd: 64, Layers: 2, FFN: 192, Heads: 4, KVHeads: 4, CtxTrain: 512,
		RopeDim: 16, KeyLength: 16, ValueLength: 16, RopeBase: 10000, NormEps: float64(float32(1e-5)),
	}, p)
	assert.Equal(t, 16, p.HeadDim())
	assert.Equal(t, 1.0, p.RopeFreqScale())
}

func TestReadLlamaParamsGiven(t *testing.T) {
	kvs := llamaKVs()
	kvs["llama.attention.head_count_kv"] = uint32(2)
	kvs["llama.rope.dimension_count"] = uint32(8)
	kvs["llama.attention.key_length"] = uint32(32)
	kvs["llama.attention.value_length"] = uint64(32)
	kvs["llama.rope.freq_base"] = float32(500000)
	kvs["llama.rope.scaling.type"] = "linear"
	kvs["llama.rope.scaling.factor"] = float32(4)
	p, err := ReadLlamaParams(parseKVs(t, kvs))
	require.NoError(t, err)
	assert.Equal(t, 2, p.KVHeads)
	assert.Equal(t, 8, p.RopeDim)
	assert.Equal(t, 32, p.KeyLength)
	assert.Equal(t, 32, p.ValueLength)
	assert.Equal(t, 500000.0, p.RopeBase)
	assert.Equal(t, "linear", p.RopeScaling)
	assert.Equal(t, 4.0, p.RopeScaleFactor)
	assert.Equal(t, 0.25, p.RopeFreqScale())
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
		{"old scale_linear key", map[string]any{"llama.rope.scale_linear": float32(2)}, 2, 0.5},
		{"zero factor falls back to scale_linear", map[string]any{"llama.rope.scaling.factor": float32(0), "llama.rope.scale_linear": float32(8)}, 8, 0.125},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kvs := llamaKVs()
			for k, v := range c.kvs {
				kvs[k] = v
			}
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

func TestReadLlamaParamsBadValues(t *testing.T) {
	cases := []struct {
		name string
		key  string
		val  any
		want string
	}{
		{"other architecture", "general.architecture", "gpt2", `general.architecture is "gpt2", want "llama"`},
		{"wrong type", "llama.embedding_length", "64", `llama.embedding_length: gguf llama.gguf: key "llama.embedding_length" is string`},
		{"negative count", "llama.block_count", int32(-1), "is negative"},
		{"zero count", "llama.attention.head_count", uint32(0), "llama.attention.head_count = 0, want > 0"},
		{"zero optional count", "llama.attention.head_count_kv", uint32(0), "llama.attention.head_count_kv = 0, want > 0"},
		{"huge count", "llama.context_length", uint64(1) << 40, "llama.context_length = 1099511627776 is too large"},
		{"zero epsilon", "llama.attention.layer_norm_rms_epsilon", float32(0), "layer_norm_rms_epsilon = 0, want a finite value > 0"},
		{"NaN rope base", "llama.rope.freq_base", float32(math.NaN()), "llama.rope.freq_base = NaN"},
		{"infinite rope base", "llama.rope.freq_base", math.Inf(1), "llama.rope.freq_base = +Inf"},
		{"scaling type of the wrong type", "llama.rope.scaling.type", uint32(1), "llama.rope.scaling.type"},
		{"negative rope factor", "llama.rope.scaling.factor", float32(-2), "rope scaling factor -2, want > 0"},
		{"negative scale_linear", "llama.rope.scale_linear", float32(-1), "rope scaling factor -1, want > 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kvs := llamaKVs()
			kvs[c.key] = c.val
			_, err := ReadLlamaParams(parseKVs(t, kvs))
			var ge *Error
			require.ErrorAs(t, err, &ge)
			assert.Equal(t, "llama.gguf", ge.File)
			assert.ErrorContains(t, err, c.want)
		})
	}
}

func TestErrorMessage(t *testing.T) {
	cause := errors.New("no such file")
	e := &Error{File: "m.gguf", Reason: "cannot open", Err: cause}
	assert.Equal(t, "gguf m.gguf: cannot open: no such file", e.Error())
	assert.ErrorIs(t, e, cause)
	assert.Equal(t, "gguf m.gguf: not a regular file", (&Error{File: "m.gguf", Reason: "not a regular file"}).Error())
}
