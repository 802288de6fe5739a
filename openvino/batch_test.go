package openvino

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/transport"
)

// openBatched opens the registry's openvino row (the stateful writer with
// batched decode) on a tiny model.
func openBatched(t *testing.T, extra map[string]string) *Batched {
	t.Helper()
	requireStateful(t)
	path := writeTinyGGUF(t, t.TempDir(), tiny, gguf.TypeF32, 13, false)
	b, err := adapters.Open(bg, Name, adapters.Options{ModelPath: path, Threads: 2, ContextLength: 128, Extra: extra})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	bb, ok := b.(*Batched)
	require.True(t, ok, "the stateful row decodes in batches: %T", b)
	var _ transport.BatchDecoder = bb
	return bb
}

// TestDecodeBatchEqualsSessions: B prompts of different lengths decoded
// together (left-padded, one inference per step) give each prompt's own
// greedy continuation, as a session gives it; the explicit-kv ablation and
// the GGUF frontend's row have no batched decode.
func TestDecodeBatchEqualsSessions(t *testing.T) {
	b := openBatched(t, exact())
	prompts := [][]transport.Token{
		{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
		{40, 41, 42},
		{300, 17, 5, 9, 9, 250, 12},
		{7},
	}
	const steps = 12
	res, err := b.DecodeBatch(bg, prompts, steps)
	require.NoError(t, err)
	assert.Equal(t, len(prompts), res.Sequences)
	assert.Equal(t, 11, res.PromptTokens, "the longest prompt")
	assert.Equal(t, steps, res.Steps)
	assert.Positive(t, res.PrefillElapsed)
	assert.Positive(t, res.DecodeElapsed)
	require.Len(t, res.Tokens, len(prompts))
	for i, p := range prompts {
		s, err := b.NewSession(bg)
		require.NoError(t, err)
		_, err = s.PrefillSuffix(bg, transport.SuffixInput{Tokens: p})
		require.NoError(t, err)
		d, err := s.Decode(bg, steps)
		require.NoError(t, err)
		require.NoError(t, s.Close())
		assert.Equal(t, d.Tokens, res.Tokens[i], "sequence %d (prompt of %d tokens)", i, len(p))
	}

	// B = 1 and a prefill longer than one chunk (batch 4 tokens per call in
	// all: one token per sequence per call at B = 4).
	small := openBatched(t, map[string]string{ExtraBatch: "4", ExtraInferencePrecision: "f32",
		ExtraDynamicQuantGroupSize: "0", ExtraKVCachePrecision: "f32", ExtraExecutionMode: "ACCURACY"})
	one, err := small.DecodeBatch(bg, prompts[:1], steps)
	require.NoError(t, err)
	assert.Equal(t, res.Tokens[0], one.Tokens[0], "B=1 with 3 prefill chunks")
	four, err := small.DecodeBatch(bg, prompts, steps)
	require.NoError(t, err)
	assert.Equal(t, res.Tokens, four.Tokens, "11 prefill calls of one token per sequence")

	for _, extra := range []map[string]string{{ExtraKVCache: kvExplicit}} {
		requireRuntime(t)
		path := writeTinyGGUF(t, t.TempDir(), tiny, gguf.TypeF32, 13, false)
		other, err := adapters.Open(bg, Name, adapters.Options{ModelPath: path, Threads: 1, Extra: extra})
		require.NoError(t, err)
		_, ok := other.(transport.BatchDecoder)
		assert.False(t, ok, "%v has no batched decode", extra)
		require.NoError(t, other.Close())
	}
	path := writeTinyGGUF(t, t.TempDir(), tiny, gguf.TypeF32, 13, false)
	g, err := adapters.Open(bg, NameGGUF, adapters.Options{ModelPath: path, Threads: 1})
	require.NoError(t, err)
	_, ok := g.(transport.BatchDecoder)
	assert.False(t, ok, "the GGUF frontend's graph takes one sequence")
	require.NoError(t, g.Close())
}

// TestDecodeBatchRefuses: bad input is an error and leaves the backend
// usable; a cancelled context stops it; a closed backend refuses.
func TestDecodeBatchRefuses(t *testing.T) {
	b := openBatched(t, nil)
	_, err := b.DecodeBatch(bg, nil, 1)
	assert.ErrorContains(t, err, "no prompts")
	_, err = b.DecodeBatch(bg, [][]transport.Token{{1}}, -1)
	assert.ErrorContains(t, err, "negative steps")
	_, err = b.DecodeBatch(bg, [][]transport.Token{{1}, {}}, 1)
	assert.ErrorIs(t, err, transport.ErrEmptySuffix)
	_, err = b.DecodeBatch(bg, [][]transport.Token{{1, 512}}, 1)
	assert.ErrorContains(t, err, "outside the vocabulary")
	long := make([]transport.Token, 100)
	_, err = b.DecodeBatch(bg, [][]transport.Token{long}, 29)
	oc, ok := errors.AsType[*transport.OverContextError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, 128, oc.Limit)

	ctx, cancel := context.WithCancel(bg)
	cancel()
	_, err = b.DecodeBatch(ctx, [][]transport.Token{{1, 2}}, 3)
	assert.ErrorIs(t, err, context.Canceled)

	res, err := b.DecodeBatch(bg, [][]transport.Token{{1, 2}, {3}}, 2)
	require.NoError(t, err, "still usable")
	assert.Len(t, res.Tokens[1], 2)

	require.NoError(t, b.Close())
	_, err = b.DecodeBatch(bg, [][]transport.Token{{1}}, 1)
	assert.ErrorIs(t, err, transport.ErrClosed)
}
