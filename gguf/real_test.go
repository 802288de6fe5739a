package gguf

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRealSmolLM2 reads the real Q4_1 model that `make setup` fetches
// (scripts/setup.d/40-models.sh); it is skipped when the file is absent.
func TestRealSmolLM2(t *testing.T) {
	path := filepath.Join("..", ".cache", "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("real model not fetched (run make setup): %v", err)
	}
	f, err := Open(path)
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, uint32(3), f.Version)
	assert.Equal(t, int64(98362432), f.FileSize)
	arch, err := f.String("general.architecture")
	require.NoError(t, err)
	assert.Equal(t, "llama", arch)
	n, err := f.Uint("llama.block_count")
	require.NoError(t, err)
	assert.Equal(t, uint64(30), n)
	toks, err := f.Strings("tokenizer.ggml.tokens")
	require.NoError(t, err)
	assert.Len(t, toks, 49152)
	require.Len(t, f.Tensors, 272)
	counts := map[TensorType]int{}
	for _, ti := range f.Tensors {
		counts[ti.Type]++
		data, err := f.TensorData(ti.Name)
		require.NoError(t, err)
		assert.Len(t, data, int(ti.Size))
	}
	assert.Equal(t, map[TensorType]int{TypeQ4_1: 210, TypeF32: 61, TypeQ8_0: 1}, counts)
	q, ok := f.Tensor("blk.0.attn_q.weight")
	require.True(t, ok)
	assert.Equal(t, []uint64{576, 576}, q.Dims)
	assert.Equal(t, int64(576*576/32*20), q.Size)

	// It states every key the strict policy requires, and its tensors have
	// the shapes the llama graph needs (its embeddings are the head too).
	p, err := ReadLlamaParams(f)
	require.NoError(t, err)
	assert.Equal(t, LlamaParams{
		Embd: 576, Layers: 30, FFN: 1536, Heads: 9, KVHeads: 3, CtxTrain: 8192,
		RopeDim: 64, KeyLength: 64, ValueLength: 64, RopeBase: 100000, NormEps: float64(float32(1e-5)),
		Vocab: 49152, TiedOutput: true,
	}, p)
}
