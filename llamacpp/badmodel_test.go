package llamacpp

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/gguf/gguftest"
	"github.com/fakbench/fakbench/transport"
)

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
			p := filepath.Join(t.TempDir(), "model.gguf")
			gguftest.Rewrite(t, src, p, c.set, nil)
			requireBadModel(t, p, c.want)
		})
	}
}

// A llama file that passes the Go checks but that llama.cpp cannot load (no
// tokenizer) still comes back as a bad-model error from llama.cpp itself.
func TestOpenReportsLlamaCppLoadFailure(t *testing.T) {
	requireNative(t)
	p := gguftest.NoTokenizer(t, tinyModel(t, "f32"))
	f, err := gguf.Open(p)
	require.NoError(t, err)
	_, err = gguf.ReadLlamaParams(f)
	require.NoError(t, f.Close())
	require.NoError(t, err, "the file passes the Go checks")
	requireBadModel(t, p, "llama.cpp cannot load it")
}

// requireBadModel checks that Open refuses the file p with a
// *transport.BadModelError that names p and says want.
func requireBadModel(t *testing.T, p, want string) {
	t.Helper()
	b, err := Open(context.Background(), adapters.Options{ModelPath: p, Threads: 1})
	require.Error(t, err)
	assert.Nil(t, b)
	var bm *transport.BadModelError
	require.ErrorAs(t, err, &bm, "want a BadModelError, got %T: %v", err, err)
	assert.Equal(t, p, bm.File)
	assert.ErrorContains(t, err, want)
}
