package parity

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters/conformance/fake"
	"github.com/fakbench/fakbench/transport"
)

// fn is a toy model: the logits after a token at a position. It is a pure
// function of the inputs, so two backends built on the same fn compute
// "the same model".
type fn func(last transport.Token, pos int, vocab int) []float32

func smooth(last transport.Token, pos int, vocab int) []float32 {
	out := make([]float32, vocab)
	for v := range out {
		out[v] = float32(math.Sin(0.7*float64(v+1)+0.37*float64(last)+0.11*float64(pos)) * 4)
	}
	return out
}

// logitModel is a minimal transport.Backend whose sessions implement
// transport.LogitsReader over a fn.
type logitModel struct {
	name  string
	vocab int
	ctx   int
	f     fn
	// perturb changes the logits of a given step before they are used.
	perturb func(step int, l []float32)
}

func (m *logitModel) Name() string                { return m.name }
func (m *logitModel) Version() string             { return m.name + "-v1" }
func (m *logitModel) Settings() map[string]string { return nil }
func (m *logitModel) Close() error                { return nil }
func (m *logitModel) Info() transport.ModelInfo {
	return transport.ModelInfo{Name: "toy", ContextLength: m.ctx, VocabSize: m.vocab}
}
func (m *logitModel) NewSession(context.Context) (transport.Session, error) {
	return &logitSession{m: m}, nil
}

type logitSession struct {
	m      *logitModel
	toks   []transport.Token
	logits []float32
	step   int
}

func argmax(l []float32) transport.Token {
	best := 0
	for i, v := range l {
		if v > l[best] {
			best = i
		}
	}
	return transport.Token(best)
}

func (s *logitSession) eval() transport.Token {
	last := s.toks[len(s.toks)-1]
	s.logits = s.m.f(last, len(s.toks)-1, s.m.vocab)
	if s.m.perturb != nil {
		s.m.perturb(s.step, s.logits)
	}
	s.step++
	return argmax(s.logits)
}

func (s *logitSession) EnsurePrefix(_ context.Context, in transport.PrefixInput) (transport.PrefixResult, error) {
	s.toks = append(s.toks[:0], in.Tokens...)
	return transport.PrefixResult{ComputedTokens: len(in.Tokens)}, nil
}

func (s *logitSession) PrefillSuffix(_ context.Context, in transport.SuffixInput) (transport.SuffixResult, error) {
	s.toks = append(s.toks, in.Tokens...)
	return transport.SuffixResult{FirstToken: s.eval(), SuffixTokens: len(in.Tokens)}, nil
}

func (s *logitSession) Decode(_ context.Context, n int) (transport.DecodeResult, error) {
	var out []transport.Token
	for range n {
		s.toks = append(s.toks, argmax(s.logits))
		out = append(out, s.eval())
	}
	return transport.DecodeResult{Tokens: out}, nil
}

func (s *logitSession) LastLogits() ([]float32, error) {
	return append([]float32(nil), s.logits...), nil
}

func (s *logitSession) Close() error { return nil }

func toy(name string) *logitModel {
	return &logitModel{name: name, vocab: 64, ctx: 128, f: smooth}
}

var prompt = []transport.Token{3, 1, 4, 1, 5, 9, 2, 6}

func TestRunIdenticalBackendsAgree(t *testing.T) {
	r, err := Run(context.Background(), toy("a"), toy("b"), prompt, 16)
	require.NoError(t, err)
	assert.True(t, r.Agree)
	assert.True(t, r.LogitsCompared)
	assert.Equal(t, 16, r.GreedyAgree)
	assert.Equal(t, 16, r.StepsCompared)
	assert.Equal(t, -1, r.FirstDivergence)
	assert.Zero(t, r.MaxAbsLogitDiff)
	assert.InDelta(t, 1, r.CosineLast, 1e-12)
	assert.InDelta(t, 1, r.MinCosine, 1e-12)
	assert.Equal(t, r.TokensA, r.TokensB)
	assert.Len(t, r.PerStep, 16)
	assert.Equal(t, "a-v1", r.VersionA)
	assert.Equal(t, len(prompt), r.PromptTokens)
}

func TestRunSmallNoiseAgreesAndIsMeasured(t *testing.T) {
	b := toy("b")
	b.perturb = func(step int, l []float32) {
		if step == 5 {
			for i := range l {
				l[i] += 0.001 * float32(i%3-1)
			}
		}
	}
	r, err := Run(context.Background(), toy("a"), b, prompt, 12)
	require.NoError(t, err)
	assert.True(t, r.Agree)
	assert.InDelta(t, 0.001, r.MaxAbsLogitDiff, 1e-6)
	assert.Equal(t, 5, r.MaxAbsLogitDiffStep)
	assert.Equal(t, 5, r.MinCosineStep)
	assert.Less(t, r.MinCosine, 1.0)
	assert.Greater(t, r.MinCosine, 0.9999)
}

func TestRunStopsAtFirstDivergence(t *testing.T) {
	b := toy("b")
	b.perturb = func(step int, l []float32) {
		if step == 3 {
			// Make the worst token the best.
			worst := 0
			for i, v := range l {
				if v < l[worst] {
					worst = i
				}
			}
			l[worst] = 100
		}
	}
	r, err := Run(context.Background(), toy("a"), b, prompt, 20)
	require.NoError(t, err)
	assert.False(t, r.Agree)
	assert.Equal(t, 3, r.FirstDivergence)
	assert.Equal(t, 3, r.GreedyAgree)
	assert.Equal(t, 4, r.StepsCompared)
	assert.Len(t, r.PerStep, 4)
	assert.NotEqual(t, r.PerStep[3].TokenA, r.PerStep[3].TokenB)
	assert.Greater(t, r.MaxAbsLogitDiff, 90.0)
	assert.Greater(t, r.PerStep[3].MarginB, 90.0)
}

func TestRunNonFiniteLogitsDisagreeAndStillSerialise(t *testing.T) {
	b := toy("b")
	b.perturb = func(step int, l []float32) {
		if step == 1 {
			l[7] = float32(math.NaN())
			l[8] = float32(math.Inf(1))
		}
	}
	r, err := Run(context.Background(), toy("a"), b, prompt, 4)
	require.NoError(t, err)
	assert.Equal(t, 2, r.NonFiniteLogits)
	assert.False(t, r.Agree, "NaN/Inf logits must not count as agreement")
	out, err := json.Marshal(r)
	require.NoError(t, err, "the result must serialise even with non-finite logits")
	var back Result
	require.NoError(t, json.Unmarshal(out, &back))
	assert.Equal(t, r.NonFiniteLogits, back.NonFiniteLogits)
	assert.Equal(t, r.PerStep, back.PerStep)
}

func TestRunWithoutLogitsComparesGreedyTokens(t *testing.T) {
	a := fake.New(fake.Config{Vocab: 64, Context: 128})
	b := fake.New(fake.Config{Vocab: 64, Context: 128})
	r, err := Run(context.Background(), a, b, prompt, 10)
	require.NoError(t, err)
	assert.False(t, r.LogitsCompared)
	assert.True(t, r.Agree)
	assert.Equal(t, 10, r.GreedyAgree)
	assert.Zero(t, r.MinCosine)
}

func TestRunRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	_, err := Run(ctx, toy("a"), nil, prompt, 4)
	assert.Error(t, err)
	_, err = Run(ctx, toy("a"), toy("b"), nil, 4)
	assert.ErrorContains(t, err, "no prompt tokens")
	_, err = Run(ctx, toy("a"), toy("b"), prompt, 0)
	assert.ErrorContains(t, err, "steps must be at least 1")
	other := toy("b")
	other.vocab = 65
	_, err = Run(ctx, toy("a"), other, prompt, 4)
	assert.ErrorContains(t, err, "vocabulary sizes differ")
	_, err = Run(ctx, toy("a"), toy("b"), prompt, 128)
	assert.True(t, transport.IsOverContext(err), "got %v", err)
}

func TestRunPropagatesBackendErrors(t *testing.T) {
	// A backend whose decode is cancelled surfaces the error with its name.
	a := fake.New(fake.Config{Vocab: 64, Context: 128, TokenCost: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, a, fake.New(fake.Config{Vocab: 64, Context: 128}), prompt, 4)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled), "got %v", err)
	assert.Contains(t, err.Error(), "fake")
}

func TestCompare(t *testing.T) {
	d, c, nf := Compare([]float32{1, 2, 3}, []float32{1, 2, 3})
	assert.Zero(t, d)
	assert.InDelta(t, 1, c, 1e-12)
	assert.Zero(t, nf)

	d, c, _ = Compare([]float32{1, 0}, []float32{0, 1})
	assert.InDelta(t, 1, d, 1e-12)
	assert.InDelta(t, 0, c, 1e-12)

	_, c, _ = Compare([]float32{1, 2}, []float32{-1, -2})
	assert.InDelta(t, -1, c, 1e-12)

	_, c, _ = Compare([]float32{0, 0}, []float32{0, 0})
	assert.Equal(t, 1.0, c)
	_, c, _ = Compare([]float32{0, 0}, []float32{0, 1})
	assert.Equal(t, 0.0, c)

	d, _, nf = Compare([]float32{float32(math.NaN()), 1}, []float32{5, 1.5})
	assert.Equal(t, 1, nf)
	assert.InDelta(t, 0.5, d, 1e-12)

	_, _, nf = Compare([]float32{1, 2, 3}, []float32{1})
	assert.Equal(t, 2, nf, "a length mismatch counts as non-comparable entries")
}

func TestMargin(t *testing.T) {
	assert.InDelta(t, 2, Margin([]float32{1, 5, 3}), 1e-12)
	assert.Zero(t, Margin([]float32{4, 4, 1}), "a tie has no margin")
	assert.Zero(t, Margin([]float32{7}))
	assert.InDelta(t, 1, Margin([]float32{float32(math.Inf(1)), 2, 1}), 1e-12)
}

func TestTokens(t *testing.T) {
	a := Tokens(64, 100, 7)
	require.Len(t, a, 64)
	assert.Equal(t, a, Tokens(64, 100, 7), "deterministic")
	assert.NotEqual(t, a, Tokens(64, 100, 8), "the seed matters")
	seen := map[transport.Token]bool{}
	for _, v := range a {
		assert.GreaterOrEqual(t, v, transport.Token(0))
		assert.Less(t, v, transport.Token(100))
		seen[v] = true
	}
	assert.Greater(t, len(seen), 30, "spread over the vocabulary")
	assert.Nil(t, Tokens(0, 100, 1))
	assert.Nil(t, Tokens(5, 0, 1))
	// Pinned so a change of the stream is noticed (it changes every
	// recorded parity prompt).
	assert.Equal(t, []transport.Token{533, 765, 531, 681}, Tokens(4, 1000, 1))
}

func TestJudge(t *testing.T) {
	agree := Result{BackendA: "a", BackendB: "b", FirstDivergence: -1, LogitsCompared: true, MinCosine: 0.999, MaxAbsLogitDiff: 0.01}
	v, why := Judge(agree, 0, 0)
	assert.Equal(t, "agree", v)
	assert.Empty(t, why)
	v, _ = Judge(agree, 0.99, 0.1)
	assert.Equal(t, "agree", v)

	v, why = Judge(agree, 0.9999, 0.001)
	assert.Equal(t, "disagree", v)
	require.Len(t, why, 2)
	assert.Contains(t, why[0], "min cosine 0.999000000 < 0.9999")
	assert.Contains(t, why[1], "max abs logit diff 0.01 > 0.001")

	div := Result{BackendA: "a", BackendB: "b", FirstDivergence: 1, TokensA: []transport.Token{1, 2}, TokensB: []transport.Token{1, 3}, NonFiniteLogits: 2}
	v, why = Judge(div, 0.5, 0)
	assert.Equal(t, "disagree", v)
	assert.Equal(t, []string{
		"greedy tokens differ at step 1 (a 2, b 3)",
		"2 non-finite logits",
		"a threshold was given but a backend does not expose its logits",
	}, why)
}
