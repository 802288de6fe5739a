package openvino

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/internal/env"
	_ "github.com/fakbench/fakbench/llamacpp" // registers "llamacpp"
	"github.com/fakbench/fakbench/transport"
)

// realModel is where scripts/setup.d/40-models.sh puts the real model
// (SmolLM2-135M-Instruct, Q4_1, tied output head); FAK_REAL_MODEL overrides.
func realModel(t *testing.T) string {
	p := env.RealModel.Value()
	if p == "" {
		p = filepath.Join("..", ".cache", "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("real model not installed (%v); run make setup", err)
	}
	return p
}

// TestRealModelParity runs the real Q4_1 model on OpenVINO and on
// llama.cpp (the Go kernel has no q4_1) and compares the greedy
// continuation. The engines do not compute identically on quantized
// weights (llama.cpp quantizes activations to q8_1 for q4_1 dot products),
// so only the first 8 greedy tokens are required to agree: a wrong graph
// (rope, GQA, tied head, q4_1 decoding) diverges at once.
//
// OpenVINO runs with its precisions pinned (exact()), so the only lossy
// step left is llama.cpp's. Measured on the AMX Xeon over 48 steps against
// llama.cpp's tuned profile: this prompt agrees for all 48 either way, but
// two random 24-token prompts (parity.Tokens seeds 7 and 8) agreed for 22
// and 43 steps pinned and for only 5 and 9 under the plugin's defaults
// there (bf16 inference, int8 activations): unpinned, 8 tokens would rest
// on the prompt's margins.
func TestRealModelParity(t *testing.T) {
	requireRuntime(t)
	path := realModel(t)
	// The IR goes to the default cache beside the model, so reruns reuse it.
	opts := adapters.Options{ModelPath: path, Threads: 2, ContextLength: 256}
	ovOpts := opts
	ovOpts.Extra = exact()
	ov, err := adapters.Open(bg, "openvino", ovOpts)
	require.NoError(t, err)
	defer ov.Close()
	requireExact(t, ov.(*Backend))
	gk, err := adapters.Open(bg, "llamacpp", opts)
	require.NoError(t, err)
	defer gk.Close()
	// Fixed IDs (no tokenizer on the proof path) give a deterministic
	// continuation.
	prompt := []transport.Token{504, 3575, 282, 4649, 314, 253, 1345, 30}
	run := func(b transport.Backend) []transport.Token {
		s, err := b.NewSession(bg)
		require.NoError(t, err)
		defer s.Close()
		_, err = s.EnsurePrefix(bg, transport.PrefixInput{Tokens: prompt[:4]})
		require.NoError(t, err)
		r, err := s.PrefillSuffix(bg, transport.SuffixInput{Tokens: prompt[4:]})
		require.NoError(t, err)
		d, err := s.Decode(bg, 7)
		require.NoError(t, err)
		return append([]transport.Token{r.FirstToken}, d.Tokens...)
	}
	a, b := run(gk), run(ov)
	t.Logf("llamacpp %v\nopenvino %v", a, b)
	assert.Equal(t, a, b)
}
