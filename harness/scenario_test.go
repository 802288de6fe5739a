package harness

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/transport"
)

func TestBuildScenarioFullDefaults(t *testing.T) {
	sc, err := BuildScenario(ScenarioParams{Vocab: 49152, Context: 2048, Seed: 7})
	require.NoError(t, err)
	assert.Len(t, sc.Stable, 1024)
	assert.Len(t, sc.Suffix, 64)
	assert.Len(t, sc.ChangedSuffix, 64)
	assert.Equal(t, []int{1, 8, 32, 128, 512}, sc.CurveSizes)
	assert.Equal(t, 128, sc.MaxDecode)
	assert.Equal(t, 16, sc.CompareSteps)
	assert.Equal(t, 512, sc.EditAt)
	assert.LessOrEqual(t, sc.MaxPositions(), 2048)
	for i, c := range sc.CurveSuffixes {
		assert.Len(t, c, sc.CurveSizes[i])
	}
}

func TestBuildScenarioShortDefaults(t *testing.T) {
	sc, err := BuildScenario(ScenarioParams{Vocab: 49152, Context: 2048, Short: true, Seed: 7})
	require.NoError(t, err)
	assert.Len(t, sc.Stable, 128)
	assert.Len(t, sc.Suffix, 16)
	assert.Equal(t, []int{1, 16, 64}, sc.CurveSizes)
	assert.Equal(t, 16, sc.MaxDecode)
	assert.Equal(t, 16, sc.CompareSteps)
	shape := sc.Shape()
	assert.Equal(t, 128, shape.StableTokens)
	assert.Equal(t, 64, shape.EditAt)
	assert.Equal(t, []int{1, 16, 64}, shape.SuffixCurve)
}

func TestBuildScenarioScalesToSmallContexts(t *testing.T) {
	for _, ctx := range []int{16, 64, 100, 512, 1024, 2047} {
		for _, short := range []bool{false, true} {
			sc, err := BuildScenario(ScenarioParams{Vocab: 1000, Context: ctx, Short: short})
			require.NoError(t, err, "ctx %d short %v", ctx, short)
			assert.LessOrEqual(t, sc.MaxPositions(), ctx, "ctx %d short %v", ctx, short)
			assert.NotEmpty(t, sc.CurveSizes)
			assert.LessOrEqual(t, sc.CompareSteps, sc.MaxDecode)
			assert.True(t, sc.EditAt >= 1 && sc.EditAt < len(sc.Stable))
		}
	}
	sc, err := BuildScenario(ScenarioParams{Vocab: 1000, Context: 512})
	require.NoError(t, err)
	assert.Equal(t, 256, len(sc.Stable))
	assert.Equal(t, []int{1, 8, 32, 128}, sc.CurveSizes, "512 does not fit next to a 256-token prefix")
}

func TestBuildScenarioDeterministic(t *testing.T) {
	p := ScenarioParams{Vocab: 32000, Context: 1024, Short: true, Seed: 42}
	a, err := BuildScenario(p)
	require.NoError(t, err)
	b, err := BuildScenario(p)
	require.NoError(t, err)
	assert.Equal(t, a, b)
	assert.Equal(t, a.Digest(), b.Digest())
	assert.Len(t, a.Digest(), 64)

	p.Seed = 43
	c, err := BuildScenario(p)
	require.NoError(t, err)
	assert.NotEqual(t, a.Digest(), c.Digest())
	assert.NotEqual(t, a.Stable, c.Stable)
}

// The token IDs are part of every report's provenance: they must never change
// silently between builds. If this digest changes, the generator changed.
func TestBuildScenarioPinnedDigest(t *testing.T) {
	sc, err := BuildScenario(ScenarioParams{Vocab: 49152, Context: 2048, Short: true, Seed: 1})
	require.NoError(t, err)
	// The first IDs were checked against an independent re-implementation of
	// SplitMix64 with rejection sampling.
	assert.Equal(t, "7572d9e2c8c04e511d7d43a7c9b40ec44460d23f9a8c806a69cce863245a1f7b", sc.Digest())
	assert.Equal(t, []transport.Token{29255, 36003, 18127, 46136}, sc.Stable[:4])
}

func TestDigestCoversEveryList(t *testing.T) {
	base, err := BuildScenario(ScenarioParams{Vocab: 5000, Context: 512, Short: true, Seed: 3})
	require.NoError(t, err)
	mutations := map[string]func(*Scenario){
		"stable":  func(s *Scenario) { s.Stable[3]++ },
		"suffix":  func(s *Scenario) { s.Suffix[0]++ },
		"changed": func(s *Scenario) { s.ChangedSuffix[1]++ },
		"edited":  func(s *Scenario) { s.EditedStable[0]++ },
		"curve":   func(s *Scenario) { s.CurveSuffixes[1][0]++ },
		"decode":  func(s *Scenario) { s.MaxDecode++ },
	}
	for name, mut := range mutations {
		s, err := BuildScenario(base.Params)
		require.NoError(t, err)
		mut(&s)
		assert.NotEqual(t, base.Digest(), s.Digest(), name)
	}
}

func TestScenarioTokenRanges(t *testing.T) {
	sc, err := BuildScenario(ScenarioParams{Vocab: 49152, Context: 2048, Seed: 9})
	require.NoError(t, err)
	assert.Equal(t, ReservedLowTokens, sc.TokenMin)
	assert.Equal(t, 49152, sc.TokenMax)
	all := slices.Concat(sc.Stable, sc.Suffix, sc.ChangedSuffix, sc.EditedStable, sc.OverflowTokens(3000))
	for _, c := range sc.CurveSuffixes {
		all = append(all, c...)
	}
	for _, tok := range all {
		require.GreaterOrEqual(t, tok, transport.Token(ReservedLowTokens))
		require.Less(t, tok, transport.Token(49152))
	}

	small, err := BuildScenario(ScenarioParams{Vocab: 100, Context: 256, Short: true})
	require.NoError(t, err)
	assert.Equal(t, 0, small.TokenMin, "a vocabulary this small cannot avoid the low IDs")
	for _, tok := range small.Stable {
		assert.Less(t, tok, transport.Token(100))
	}
}

func TestScenarioVariants(t *testing.T) {
	sc, err := BuildScenario(ScenarioParams{Vocab: 300, Context: 2048, Seed: 5})
	require.NoError(t, err)
	require.Len(t, sc.ChangedSuffix, len(sc.Suffix))
	for i := range sc.Suffix {
		assert.NotEqual(t, sc.Suffix[i], sc.ChangedSuffix[i], "position %d", i)
	}
	require.Len(t, sc.EditedStable, len(sc.Stable))
	for i := range sc.Stable {
		if i == sc.EditAt {
			assert.NotEqual(t, sc.Stable[i], sc.EditedStable[i])
		} else {
			assert.Equal(t, sc.Stable[i], sc.EditedStable[i], "position %d", i)
		}
	}
	assert.NotEqual(t, sc.StableKey(), sc.EditedKey())
	assert.Equal(t, sc.OverflowTokens(10), sc.OverflowTokens(10))
	assert.Len(t, sc.OverflowTokens(2049), 2049)
	assert.Nil(t, sc.OverflowTokens(0))
}

func TestBuildScenarioOverrides(t *testing.T) {
	sc, err := BuildScenario(ScenarioParams{Vocab: 1000, Context: 100, StableTokens: 40, SuffixTokens: 5,
		CurveSizes: []int{2, 9}, MaxDecode: 12, CompareSteps: 6, EditAt: 3})
	require.NoError(t, err)
	assert.Len(t, sc.Stable, 40)
	assert.Len(t, sc.Suffix, 5)
	assert.Equal(t, []int{2, 9}, sc.CurveSizes)
	assert.Equal(t, 12, sc.MaxDecode)
	assert.Equal(t, 6, sc.CompareSteps)
	assert.Equal(t, 3, sc.EditAt)
}

func TestBuildScenarioErrors(t *testing.T) {
	cases := map[string]struct {
		p    ScenarioParams
		want string
	}{
		"vocab":         {ScenarioParams{Vocab: 1, Context: 512}, "vocab size 1"},
		"context":       {ScenarioParams{Vocab: 1000, Context: 8}, "context length 8"},
		"too big":       {ScenarioParams{Vocab: 1000, Context: 512, StableTokens: 400, MaxDecode: 100}, "exceed the context length 512"},
		"curve too big": {ScenarioParams{Vocab: 1000, Context: 512, CurveSizes: []int{1, 400}}, "max suffix 400"},
		"compare":       {ScenarioParams{Vocab: 1000, Context: 512, MaxDecode: 4, CompareSteps: 8}, "compare steps 8 exceed max decode 4"},
		"curve order":   {ScenarioParams{Vocab: 1000, Context: 512, CurveSizes: []int{8, 4}}, "strictly ascending"},
		"curve zero":    {ScenarioParams{Vocab: 1000, Context: 512, CurveSizes: []int{0, 4}}, "must be at least 1"},
		"curve empty":   {ScenarioParams{Vocab: 1000, Context: 512, CurveSizes: []int{}}, "no sizes"},
		"edit":          {ScenarioParams{Vocab: 1000, Context: 512, StableTokens: 10, EditAt: 10}, "edit index 10"},
		"stable":        {ScenarioParams{Vocab: 1000, Context: 512, StableTokens: 1}, "too short"},
		"suffix":        {ScenarioParams{Vocab: 1000, Context: 512, SuffixTokens: -1}, "suffix of -1"},
		"decode":        {ScenarioParams{Vocab: 1000, Context: 512, MaxDecode: -2}, "max decode -2"},
	}
	for name, c := range cases {
		_, err := BuildScenario(c.p)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), c.want, name)
	}
}

func TestParamsFor(t *testing.T) {
	p, err := ParamsFor(true, 11,
		transport.ModelInfo{VocabSize: 49152, ContextLength: 4096},
		transport.ModelInfo{VocabSize: 32000, ContextLength: 8192},
		transport.ModelInfo{VocabSize: 50000, ContextLength: 2048})
	require.NoError(t, err)
	assert.Equal(t, ScenarioParams{Vocab: 32000, Context: 2048, Short: true, Seed: 11}, p)
	_, err = ParamsFor(false, 0)
	assert.Error(t, err)
}

// promptIDs is a stand-in for a tokenized text: n IDs in [300, 1300) that
// never repeat within 1000 positions.
func promptIDs(n int) []transport.Token {
	out := make([]transport.Token, n)
	for i := range out {
		out[i] = transport.Token(300 + (i*7)%1000)
	}
	return out
}

// A prompt's tokens are cut into consecutive pieces: the stable prefix,
// the suffix, the changed suffix; the curve's suffixes continue the
// stable prefix.
func TestBuildScenarioFromPrompt(t *testing.T) {
	text := promptIDs(2000)
	p := ScenarioParams{Vocab: 49152, Context: 2048, Short: true, Seed: 7, Prompt: text,
		PromptFile: "p.txt", PromptSHA256: "abcd", Tokenizer: "gpt2/smollm"}
	sc, err := BuildScenario(p)
	require.NoError(t, err)
	assert.Equal(t, text[:128], sc.Stable)
	assert.Equal(t, text[128:144], sc.Suffix)
	assert.Equal(t, text[144:160], sc.ChangedSuffix)
	require.Equal(t, []int{1, 16, 64}, sc.CurveSizes)
	for i, n := range sc.CurveSizes {
		assert.Equal(t, text[128:128+n], sc.CurveSuffixes[i])
	}
	assert.Equal(t, 64, sc.EditAt)
	assert.NotEqual(t, sc.Stable[64], sc.EditedStable[64])
	assert.Equal(t, sc.Stable[:64], sc.EditedStable[:64])
	shape := sc.Shape()
	assert.Equal(t, "p.txt", shape.PromptFile)
	assert.Equal(t, "abcd", shape.PromptSHA256)
	assert.Equal(t, "gpt2/smollm", shape.Tokenizer)

	again, err := BuildScenario(p)
	require.NoError(t, err)
	assert.Equal(t, sc.Digest(), again.Digest())
	drawn, err := BuildScenario(ScenarioParams{Vocab: 49152, Context: 2048, Short: true, Seed: 7})
	require.NoError(t, err)
	assert.NotEqual(t, drawn.Digest(), sc.Digest())
	assert.Empty(t, drawn.Shape().PromptFile)
}

// A short prompt gives up stable tokens, down to 2.
func TestBuildScenarioFromShortPrompt(t *testing.T) {
	// short sizes: suffix 16 (twice: 32), longest curve suffix 64.
	sc, err := BuildScenario(ScenarioParams{Vocab: 49152, Context: 2048, Short: true, Prompt: promptIDs(100)})
	require.NoError(t, err)
	assert.Len(t, sc.Stable, 36, "100 tokens less the 64 the curve needs")
	assert.Equal(t, 18, sc.EditAt)
	assert.Equal(t, promptIDs(100)[36:100], sc.CurveSuffixes[2])

	_, err = BuildScenario(ScenarioParams{Vocab: 49152, Context: 2048, Short: true, Prompt: promptIDs(65)})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the prompt gives 65 tokens; the scenarios need at least 66")
}

func TestBuildScenarioPromptErrors(t *testing.T) {
	text := promptIDs(300)
	text[5] = 60000
	_, err := BuildScenario(ScenarioParams{Vocab: 49152, Context: 2048, Short: true, Prompt: text})
	assert.ErrorContains(t, err, "prompt token 5 is 60000, outside the vocabulary of 49152")

	// A text that repeats itself with the suffix's period.
	rep := make([]transport.Token, 300)
	for i := range rep {
		rep[i] = transport.Token(300 + i%16)
	}
	_, err = BuildScenario(ScenarioParams{Vocab: 49152, Context: 2048, Short: true, Prompt: rep})
	assert.ErrorContains(t, err, "its changed suffix (tokens 144 to 159) equals its suffix")
}
