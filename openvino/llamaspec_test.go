package openvino

import (
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/transport"
)

// rewriteGGUF copies the GGUF file src into dir/name with the keys of set
// added or replaced and the tensors of dims replaced by zero f32 tensors of
// those dims; the rest is copied as it is.
func rewriteGGUF(t *testing.T, src, dir, name string, set map[string]any, dims map[string][]uint64) string {
	t.Helper()
	f, err := gguf.Open(src)
	require.NoError(t, err)
	defer f.Close()
	w := gguf.NewWriter()
	for _, kv := range f.KVs {
		if _, replaced := set[kv.Key]; !replaced && kv.Key != gguf.AlignmentKey {
			require.NoError(t, w.AddKV(kv.Key, kv.Value))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(set)) {
		require.NoError(t, w.AddKV(k, set[k]))
	}
	for _, ti := range f.Tensors {
		if d, ok := dims[ti.Name]; ok {
			require.NoError(t, w.AddTensor(ti.Name, gguf.TypeF32, d, make([]byte, 4*d[0]*d[1])))
			continue
		}
		data, err := f.TensorData(ti.Name)
		require.NoError(t, err)
		require.NoError(t, w.AddTensor(ti.Name, ti.Type, ti.Dims, data))
	}
	p := filepath.Join(dir, name)
	require.NoError(t, w.WriteFile(p))
	return p
}

// readSpec refuses, without the runtime, a file every backend refuses (the
// checks of gguf.ReadLlamaParams, with their message) and a file only this
// writer cannot handle.
func TestReadSpecRefuses(t *testing.T) {
	dir := t.TempDir()
	src := writeTinyGGUF(t, dir, tiny, gguf.TypeF32, 1, false)
	// Heads of 8 instead of embd/heads = 16: the shapes llama.cpp wants.
	narrow := map[string][]uint64{}
	for i := range tiny.layers {
		b := fmt.Sprintf("blk.%d.", i)
		narrow[b+"attn_q.weight"] = []uint64{64, 32}
		narrow[b+"attn_k.weight"] = []uint64{64, 16}
		narrow[b+"attn_v.weight"] = []uint64{64, 16}
		narrow[b+"attn_output.weight"] = []uint64{32, 64}
	}
	cases := []struct {
		name string
		set  map[string]any
		dims map[string][]uint64
		want string
	}{
		{"nan.gguf", map[string]any{"llama.attention.layer_norm_rms_epsilon": float32(math.NaN())}, nil,
			"llama.attention.layer_norm_rms_epsilon = NaN, want a finite value > 0"},
		{"narrow.gguf", map[string]any{"llama.attention.key_length": uint32(8), "llama.attention.value_length": uint32(8), "llama.rope.dimension_count": uint32(8)}, narrow,
			"llama.attention.key_length = 8 differs from embedding_length/head_count = 16; the openvino writer needs them equal"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := rewriteGGUF(t, src, dir, c.name, c.set, c.dims)
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
