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

// TestRealModelParity runs the real Q4_1 model on every OpenVINO row (the
// stateful writer, its explicit-kv form, the GGUF frontend) and on
// llama.cpp (the Go kernel has no q4_1) and compares 32 greedy steps.
//
// The engines do not compute identically on quantized weights (llama.cpp
// quantizes activations to q8_1 for q4_1 dot products; the GGUF frontend
// decodes q4_1 with an integer zero point), so the tokens could part on a
// near tie; OpenVINO runs with its precisions pinned (exact()), so the
// lossy steps left are those two. Measured on the AMX Xeon: this prompt
// agrees for all 32 steps on every row. The earlier explicit-form
// measurement over 48 steps: this prompt agreed for all 48 pinned or not,
// while two random 24-token prompts (parity.Tokens seeds 7 and 8) agreed
// for 22 and 43 steps pinned and for only 5 and 9 under the plugin's
// defaults (bf16 inference, int8 activations).
func TestRealModelParity(t *testing.T) {
	requireRuntime(t)
	path := realModel(t)
	opts := adapters.Options{ModelPath: path, Threads: 2, ContextLength: 256}
	ll, err := adapters.Open(bg, "llamacpp", opts)
	require.NoError(t, err)
	defer ll.Close()
	// Fixed IDs (no tokenizer on the proof path) give a deterministic
	// continuation.
	prompt := []transport.Token{504, 3575, 282, 4649, 314, 253, 1345, 30}
	const steps = 32
	run := func(b transport.Backend) []transport.Token {
		s, err := b.NewSession(bg)
		require.NoError(t, err)
		defer s.Close()
		_, err = s.EnsurePrefix(bg, transport.PrefixInput{Tokens: prompt[:4]})
		require.NoError(t, err)
		r, err := s.PrefillSuffix(bg, transport.SuffixInput{Tokens: prompt[4:]})
		require.NoError(t, err)
		d, err := s.Decode(bg, steps-1)
		require.NoError(t, err)
		return append([]transport.Token{r.FirstToken}, d.Tokens...)
	}
	want := run(ll)
	forParityRows(t, opts, func(t *testing.T, name string, ov transport.Backend) {
		got := run(ov)
		t.Logf("llamacpp %v\n%s %v", want, name, got)
		assert.Equal(t, want, got, "%d greedy steps", steps)
	})
}
