package openvino

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/gguf/gguftest"
	"github.com/fakbench/fakbench/transport"
)

// readSpec refuses, without the runtime, a file every backend refuses (the
// checks of gguf.ReadLlamaParams, with their message) and a file only this
// writer cannot handle.
func TestReadSpecRefuses(t *testing.T) {
	dir := t.TempDir()
	src := writeTinyGGUF(t, dir, tiny, gguf.TypeF32, 1, false)
	// Heads of 8 instead of embd/heads = 16: the shapes llama.cpp wants.
	narrow := map[string]gguftest.Zeros{}
	for i := range tiny.layers {
		b := fmt.Sprintf("blk.%d.", i)
		narrow[b+"attn_q.weight"] = gguftest.Zeros{Type: gguf.TypeF32, Dims: []uint64{64, 32}}
		narrow[b+"attn_k.weight"] = gguftest.Zeros{Type: gguf.TypeF32, Dims: []uint64{64, 16}}
		narrow[b+"attn_v.weight"] = gguftest.Zeros{Type: gguf.TypeF32, Dims: []uint64{64, 16}}
		narrow[b+"attn_output.weight"] = gguftest.Zeros{Type: gguf.TypeF32, Dims: []uint64{32, 64}}
	}
	cases := []struct {
		name  string
		set   map[string]any
		zeros map[string]gguftest.Zeros
		want  string
	}{
		{"nan.gguf", map[string]any{"llama.attention.layer_norm_rms_epsilon": float32(math.NaN())}, nil,
			"llama.attention.layer_norm_rms_epsilon = NaN, want a finite value > 0"},
		{"narrow.gguf", map[string]any{"llama.attention.key_length": uint32(8), "llama.attention.value_length": uint32(8), "llama.rope.dimension_count": uint32(8)}, narrow,
			"llama.attention.key_length = 8 differs from embedding_length/head_count = 16; the openvino writer needs them equal"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name)
			gguftest.RewriteTensors(t, src, p, c.set, nil, c.zeros)
			f, err := gguf.Open(p)
			require.NoError(t, err)
			defer f.Close()
			_, err = readSpec(f)
			var bm *transport.BadModelError
			require.ErrorAs(t, err, &bm)
			assert.Equal(t, p, bm.File)
			assert.ErrorContains(t, err, c.want)
		})
	}

	// The unedited file is accepted, with the vocabulary and head read
	// from its tensors.
	f, err := gguf.Open(src)
	require.NoError(t, err)
	defer f.Close()
	s, err := readSpec(f)
	require.NoError(t, err)
	assert.Equal(t, tiny.vocab, s.Vocab)
	assert.False(t, s.TiedOutput)
	assert.Equal(t, 16, s.HeadDim)
}
