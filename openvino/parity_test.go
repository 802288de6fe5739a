package openvino

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/gguf"
	_ "github.com/fakbench/fakbench/gokernel" // registers "gokernel"
	"github.com/fakbench/fakbench/transport"
)

// relDiff32 is max|a-b| / max|b|.
func relDiff32(a, b []float32) float64 {
	ref := make([]float64, len(b))
	for i, v := range b {
		ref[i] = float64(v)
	}
	return maxRelDiff(a, ref)
}

// TestParityWithGoKernel runs the same f32 tiny model on the Go kernel and
// on OpenVINO: greedy tokens must be equal for 32 steps and the logits
// after the prompt and at every decode step within goKernelTol of the
// largest logit.
//
// goKernelTol: both compute in f32 from the same f32 weights (OpenVINO
// with its precisions pinned, exact()), but the Go kernel keeps its KV
// cache in f16 (as llama.cpp does) while this IR keeps f32, so every cached
// key and value differs by up to 2^-11 relative (measured worst 1.2e-4 of
// the largest logit on the Zen 3 and, pinned, on the AMX Xeon; unpinned
// the Xeon's bf16 default gave 9.2e-3). 5e-4 leaves headroom and is still
// a hundred times below what a wrong rope pair, head mapping, mask or norm
// does (whole percent).
const goKernelTol = 5e-4

func TestParityWithGoKernel(t *testing.T) {
	requireRuntime(t)
	path := writeTinyGGUF(t, t.TempDir(), tiny, gguf.TypeF32, 21, false)
	opts := adapters.Options{ModelPath: path, Threads: 2}
	gk, err := adapters.Open(bg, "gokernel", opts)
	require.NoError(t, err)
	defer gk.Close()
	// OpenVINO with its precisions pinned (exact()): its defaults on the
	// AMX Xeon (bf16 inference) put it 9.2e-3 of the largest logit away.
	opts.Extra = exact()
	ov, err := adapters.Open(bg, "openvino", opts)
	require.NoError(t, err)
	defer ov.Close()
	requireExact(t, ov.(*Backend))

	prompt := []transport.Token{1, 50, 99, 400, 17, 3, 3, 8, 250, 12}
	type run struct {
		toks   []transport.Token
		logits [][]float32
	}
	drive := func(b transport.Backend) run {
		s, err := b.NewSession(bg)
		require.NoError(t, err)
		defer s.Close()
		lr := s.(transport.LogitsReader)
		_, err = s.EnsurePrefix(bg, transport.PrefixInput{Tokens: prompt[:6]})
		require.NoError(t, err)
		r, err := s.PrefillSuffix(bg, transport.SuffixInput{Tokens: prompt[6:]})
		require.NoError(t, err)
		out := run{toks: []transport.Token{r.FirstToken}}
		l, err := lr.LastLogits()
		require.NoError(t, err)
		out.logits = append(out.logits, l)
		for i := 0; i < 32; i++ {
			d, err := s.Decode(bg, 1)
			require.NoError(t, err)
			out.toks = append(out.toks, d.Tokens...)
			l, err := lr.LastLogits()
			require.NoError(t, err)
			out.logits = append(out.logits, l)
		}
		return out
	}
	a, b := drive(gk), drive(ov)
	assert.Equal(t, a.toks, b.toks, "greedy tokens over 32 steps")
	worst := 0.0
	for i := range a.logits {
		worst = max(worst, relDiff32(b.logits[i], a.logits[i]))
	}
	t.Logf("worst logit difference relative to the largest logit: %.3g", worst)
	assert.Less(t, worst, goKernelTol)
}
