package gguftest

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gguf"
)

// source writes a small GGUF file with tokenizer keys, another key, an
// alignment of 64 and two tensors.
func source(t *testing.T) string {
	w := gguf.NewWriter()
	w.SetAlignment(64)
	require.NoError(t, w.AddKV("general.architecture", "llama"))
	require.NoError(t, w.AddKV("tokenizer.ggml.model", "llama"))
	require.NoError(t, w.AddKV("tokenizer.ggml.tokens", []string{"a", "b"}))
	require.NoError(t, w.AddKV("llama.context_length", uint32(64)))
	require.NoError(t, w.AddTensor("a", gguf.TypeF32, []uint64{2}, []byte{1, 2, 3, 4, 5, 6, 7, 8}))
	require.NoError(t, w.AddTensor("b", gguf.TypeF32, []uint64{1}, []byte{9, 10, 11, 12}))
	path := filepath.Join(t.TempDir(), "src.gguf")
	require.NoError(t, w.WriteFile(path))
	return path
}

func keys(f *gguf.File) []string {
	var out []string
	for _, kv := range f.KVs {
		out = append(out, kv.Key)
	}
	return out
}

func TestRewriteSetsDropsAndCopiesTensors(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "out.gguf")
	Rewrite(t, source(t), dst, map[string]any{"llama.context_length": uint32(8), "general.name": "x"},
		func(key string) bool { return key == "tokenizer.ggml.tokens" })
	f, err := gguf.Open(dst)
	require.NoError(t, err)
	defer f.Close()
	// Kept keys in file order, then the set ones sorted; the source's
	// alignment is the writer's business, not copied.
	assert.Equal(t, []string{"general.architecture", "tokenizer.ggml.model", "general.name", "llama.context_length"}, keys(f))
	n, err := f.Uint("llama.context_length")
	require.NoError(t, err)
	assert.Equal(t, uint64(8), n)
	for name, want := range map[string][]byte{"a": {1, 2, 3, 4, 5, 6, 7, 8}, "b": {9, 10, 11, 12}} {
		data, err := f.TensorData(name)
		require.NoError(t, err, name)
		assert.Equal(t, want, data, name)
	}
}

func TestNoTokenizer(t *testing.T) {
	src := source(t)
	path := NoTokenizer(t, src)
	assert.Equal(t, "no-tokenizer.gguf", filepath.Base(path))
	f, err := gguf.Open(path)
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, []string{"general.architecture", "llama.context_length"}, keys(f))
	for _, k := range keys(f) {
		assert.False(t, strings.HasPrefix(k, "tokenizer."), k)
	}
	assert.Len(t, f.Tensors, 2)
}

func TestRewriteTensorsWritesZeros(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "out.gguf")
	RewriteTensors(t, source(t), dst, map[string]any{"general.name": "x"}, nil, map[string]Zeros{
		"a": {Type: gguf.TypeF16},                         // a's own dims, another type
		"b": {Type: gguf.TypeQ8_0, Dims: []uint64{64, 2}}, // another type and shape
	})
	f, err := gguf.Open(dst)
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, []string{"general.architecture", "tokenizer.ggml.model", "tokenizer.ggml.tokens", "llama.context_length", "general.name"}, keys(f))
	a, ok := f.Tensor("a")
	require.True(t, ok)
	assert.Equal(t, gguf.TypeF16, a.Type)
	assert.Equal(t, []uint64{2}, a.Dims)
	data, err := f.TensorData("a")
	require.NoError(t, err)
	assert.Equal(t, []byte{0, 0, 0, 0}, data)
	b, ok := f.Tensor("b")
	require.True(t, ok)
	assert.Equal(t, gguf.TypeQ8_0, b.Type)
	assert.Equal(t, []uint64{64, 2}, b.Dims)
	data, err = f.TensorData("b")
	require.NoError(t, err)
	assert.Equal(t, make([]byte, 2*2*34), data, "two rows of two q8_0 blocks, all zero")
}
