package bench

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/harness/workload"
	"github.com/fakbench/fakbench/tokenizer"
)

func TestTokenizeWorkload(t *testing.T) {
	m, err := ResolveModel(context.Background(), "synthetic:tiny", nil)
	require.NoError(t, err)
	w := workload.Workload{Version: workload.Version, Provenance: workload.Provenance{Source: "s", Method: "m"},
		Turns: []workload.Turn{{StableText: "a b", SuffixText: " c", CompletionTokens: 1}}}
	require.NoError(t, w.Validate())
	got, err := tokenizeWorkload(w, "w.json", m)
	require.NoError(t, err)
	assert.Positive(t, got.Turns[0].StableTokens)
	assert.Positive(t, got.Turns[0].SuffixTokens)

	nt, err := ResolveModel(context.Background(), noTokenizerModel(t), nil)
	require.NoError(t, err)
	_, err = tokenizeWorkload(w, "w.json", nt)
	assert.ErrorIs(t, err, tokenizer.ErrNoTokenizer)
	assert.ErrorContains(t, err, "workload w.json has text")

	ids := workload.Workload{Turns: []workload.Turn{{StableTokens: 3, SuffixTokens: 1, CompletionTokens: 1}}}
	same, err := tokenizeWorkload(ids, "w.json", nt)
	require.NoError(t, err, "a workload of token counts needs no tokenizer")
	assert.Equal(t, ids, same)
}
