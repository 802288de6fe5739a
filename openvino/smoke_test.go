package openvino

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gokernel/gguf"
	"github.com/fakbench/fakbench/transport"
)

// maxRelDiff is max|a-b| / max|b| over the vector.
func maxRelDiff(a []float32, b []float64) float64 {
	num, den := 0.0, 0.0
	for i := range b {
		num = math.Max(num, math.Abs(float64(a[i])-b[i]))
		den = math.Max(den, math.Abs(b[i]))
	}
	return num / den
}

// The IR's logits match a float64 reference at every step of a prefill
// followed by decode (so the KV cache, rope positions and mask are right).
// f32 weights and f32 inference: only summation order differs, so the gap
// stays at float32 rounding level; 1e-4 of the largest logit leaves room
// for accumulation over 64-192 terms per dot product and nothing more.
func TestLogitsMatchReference(t *testing.T) {
	b, path := openTiny(t, gguf.TypeF32)
	ref := loadRef(t, path)
	toks := []transport.Token{3, 17, 200, 511, 0, 42, 42, 9}
	want := ref.logits(append(append([]transport.Token{}, toks...), 0))
	s, err := b.NewSession(context.Background())
	require.NoError(t, err)
	defer s.Close()
	ls := s.(transport.LogitsReader)
	_, err = s.EnsurePrefix(context.Background(), transport.PrefixInput{Tokens: toks[:5]})
	require.NoError(t, err)
	got, err := ls.LastLogits()
	require.NoError(t, err)
	assert.Less(t, maxRelDiff(got, want[4]), 1e-4, "after the prefix")
	r, err := s.PrefillSuffix(context.Background(), transport.SuffixInput{Tokens: toks[5:]})
	require.NoError(t, err)
	got, err = ls.LastLogits()
	require.NoError(t, err)
	assert.Less(t, maxRelDiff(got, want[7]), 1e-4, "after the suffix")
	assert.Equal(t, argmax64(want[7]), r.FirstToken)
}

func argmax64(x []float64) transport.Token {
	best := 0
	for i := range x {
		if x[i] > x[best] {
			best = i
		}
	}
	return transport.Token(best)
}
