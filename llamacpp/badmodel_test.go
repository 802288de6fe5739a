package llamacpp

import (
	"context"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/transport"
)

// rewriteModel copies the GGUF file src into a new file under dir with its
// metadata edited: the keys of set are added or replaced, and the keys
// drop reports true for are left out. Tensors are copied as they are.
func rewriteModel(t *testing.T, src, dir string, set map[string]any, drop func(key string) bool) string {
	t.Helper()
	f, err := gguf.Open(src)
	require.NoError(t, err)
	defer f.Close()
	w := gguf.NewWriter()
	for _, kv := range f.KVs {
		_, replaced := set[kv.Key]
		if replaced || (drop != nil && drop(kv.Key)) || kv.Key == gguf.AlignmentKey {
			continue
		}
		require.NoError(t, w.AddKV(kv.Key, kv.Value))
	}
	for _, k := range slices.Sorted(maps.Keys(set)) {
		require.NoError(t, w.AddKV(k, set[k]))
	}
	for _, ti := range f.Tensors {
		data, err := f.TensorData(ti.Name)
		require.NoError(t, err)
		require.NoError(t, w.AddTensor(ti.Name, ti.Type, ti.Dims, data))
	}
	p := filepath.Join(dir, "model.gguf")
	require.NoError(t, w.WriteFile(p))
	return p
}

// A llama file whose hyper-parameters trip one of llama.cpp's assertions
// (each aborts the whole process: GGML_ASSERT(eps >= 0.0f) in ggml's RMS
// norm, the rope scaling type and the expert counts in load_hparams) is
// refused in Go with a bad-model error naming the key, before llama.cpp
// sees it.
func TestOpenRefusesWhatLlamaCppAssertsOn(t *testing.T) {
	requireNative(t)
	src := tinyModel(t, "f32")
	cases := []struct {
		name string
		set  map[string]any
		want string
	}{
		{"NaN RMS epsilon", map[string]any{"llama.attention.layer_norm_rms_epsilon": float32(math.NaN())},
			"llama.attention.layer_norm_rms_epsilon = NaN, want a finite value > 0"},
		{"negative RMS epsilon", map[string]any{"llama.attention.layer_norm_rms_epsilon": float32(-0.5)},
			"llama.attention.layer_norm_rms_epsilon = -0.5, want a finite value > 0"},
		{"unknown rope scaling type", map[string]any{"llama.rope.scaling.type": "dynamic"},
			`llama.rope.scaling.type = "dynamic", want one of`},
		{"experts used without experts", map[string]any{"llama.expert_used_count": uint32(2)},
			"llama.expert_used_count = 2: mixture-of-experts llama models are not supported"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := rewriteModel(t, src, t.TempDir(), c.set, nil)
			b, err := Open(context.Background(), adapters.Options{ModelPath: p, Threads: 1})
			require.Error(t, err)
			assert.Nil(t, b)
			var bm *transport.BadModelError
			require.ErrorAs(t, err, &bm, "want a BadModelError, got %T: %v", err, err)
			assert.Equal(t, p, bm.File)
			assert.ErrorContains(t, err, c.want)
		})
	}
}

// A llama file that passes the Go checks but that llama.cpp cannot load (no
// tokenizer) still comes back as a bad-model error from llama.cpp itself.
func TestOpenReportsLlamaCppLoadFailure(t *testing.T) {
	requireNative(t)
	p := rewriteModel(t, tinyModel(t, "f32"), t.TempDir(), nil, func(key string) bool {
		return strings.HasPrefix(key, "tokenizer.")
	})
	f, err := gguf.Open(p)
	require.NoError(t, err)
	_, err = gguf.ReadLlamaParams(f)
	require.NoError(t, f.Close())
	require.NoError(t, err, "the file passes the Go checks")

	b, err := Open(context.Background(), adapters.Options{ModelPath: p, Threads: 1})
	require.Error(t, err)
	assert.Nil(t, b)
	var bm *transport.BadModelError
	require.ErrorAs(t, err, &bm, "want a BadModelError, got %T: %v", err, err)
	assert.Equal(t, p, bm.File)
	assert.ErrorContains(t, err, "llama.cpp cannot load it")
}
