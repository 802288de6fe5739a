package models

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/gokernel/kernels"
	"github.com/fakbench/fakbench/internal/env"
	"github.com/fakbench/fakbench/models/modeltest"
	"github.com/fakbench/fakbench/transport"
)

func genParsed(t *testing.T, p Preset, typ kernels.Type) *gguf.File {
	var buf bytes.Buffer
	require.NoError(t, Generate(&buf, p, typ))
	f, err := gguf.Parse(p.Name+"-"+typ.String()+".gguf", buf.Bytes())
	require.NoError(t, err)
	return f
}

// TestMargins runs the float64 reference forward pass over the tiny model:
// the top-1 logit must lead clearly at almost every position, the greedy
// choice must depend on the context (replacing the earlier tokens changes
// it often), and the f16/q8_0 files must agree with f32 on every argmax.
func TestMargins(t *testing.T) {
	checkMargins(t, "tiny", kernels.TypeF32, 6, 40, true)
}

// TestMarginsPreset measures another preset when FAK_SYNTH_MARGIN_PRESET
// names it (e.g. smol135m-untied:q8_0:4:32 = preset, type, sequences, length); it
// takes minutes and about 2 GB for smol135m-untied, so it is opt-in. The figures
// in docs/models.md come from it.
func TestMarginsPreset(t *testing.T) {
	spec := env.SynthMarginPreset.Value()
	if spec == "" {
		t.Skip("set FAK_SYNTH_MARGIN_PRESET=preset:type:seqs:len to measure")
	}
	parts := strings.Split(spec, ":")
	require.Len(t, parts, 4)
	typ, err := ParseType(parts[1])
	require.NoError(t, err)
	seqs, err := strconv.Atoi(parts[2])
	require.NoError(t, err)
	n, err := strconv.Atoi(parts[3])
	require.NoError(t, err)
	checkMargins(t, parts[0], typ, seqs, n, false)
}

func checkMargins(t *testing.T, preset string, typ kernels.Type, seqs, n int, others bool) {
	p, err := LookupPreset(preset)
	require.NoError(t, err)
	ref := modeltest.Load(t, genParsed(t, p, typ))
	var margins []float64
	changed, compared := 0, 0
	argmax := map[[2]int]int{}
	for s := 0; s < seqs; s++ {
		toks := randomTokens(uint64(1000+s), n, p.Vocab)
		other := randomTokens(uint64(5000+s), n, p.Vocab)
		logits := ref.Logits(toks)
		for i, l := range logits {
			a, mg := top2(l)
			margins = append(margins, mg)
			argmax[[2]int{s, i}] = a
		}
		// Same current token, different earlier context.
		for i := 2; i < n; i += 3 {
			alt := append(append([]transport.Token(nil), other[:i]...), toks[i])
			la := ref.Logits(alt)
			a, _ := top2(la[i])
			if a != argmax[[2]int{s, i}] {
				changed++
			}
			compared++
		}
	}
	low := 0
	for _, m := range margins {
		if m < 1 {
			low++
		}
	}
	t.Logf("%s %v: %d positions, margin min %.2f p1 %.2f p10 %.2f median %.2f; context changed argmax at %d/%d",
		preset, typ, len(margins), quantile(margins, 0), quantile(margins, 0.01), quantile(margins, 0.1), quantile(margins, 0.5), changed, compared)
	assert.LessOrEqual(t, float64(low), 0.01*float64(len(margins)), "positions with a top-1 lead under 1 logit")
	assert.GreaterOrEqual(t, float64(changed), 0.25*float64(compared), "the prediction must depend on the context")

	if !others {
		return
	}
	for _, typ := range []kernels.Type{kernels.TypeF16, kernels.TypeQ8_0} {
		q := modeltest.Load(t, genParsed(t, p, typ))
		agree, total := 0, 0
		for s := 0; s < seqs; s++ {
			for i, l := range q.Logits(randomTokens(uint64(1000+s), n, p.Vocab)) {
				a, _ := top2(l)
				if a == argmax[[2]int{s, i}] {
					agree++
				}
				total++
			}
		}
		t.Logf("%s %v: argmax agrees with f32 at %d/%d positions", preset, typ, agree, total)
		assert.Equal(t, total, agree, "%v argmax must match f32", typ)
	}
}
