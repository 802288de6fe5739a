package harness_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters/conformance/fake"
	"github.com/fakbench/fakbench/harness"
	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/transport"
)

// shortScenario is the short plan for the fake's default 512-token vocab and
// 256-token context: stable 128, suffix 16, curve 1/16/64, decode 16.
func shortScenario(t *testing.T) harness.Scenario {
	t.Helper()
	sc, err := harness.BuildScenario(harness.ScenarioParams{Vocab: 512, Context: 256, Short: true, Seed: 1})
	require.NoError(t, err)
	return sc
}

func runFake(t *testing.T, cfg fake.Config) *report.Report {
	t.Helper()
	if cfg.TokenCost == 0 {
		cfg.TokenCost = 50 * time.Microsecond
	}
	b := fake.New(cfg)
	rep, err := harness.Run(context.Background(), b, shortScenario(t), harness.Config{Short: true, Reps: 2})
	require.NoError(t, err)
	require.NotNil(t, rep)
	return rep
}

func notes(rep *report.Report) string { return strings.Join(rep.Notes, "\n") }

func TestRunCorrectBackend(t *testing.T) {
	sc := shortScenario(t)
	var steps []string
	b := fake.New(fake.Config{TokenCost: 20 * time.Microsecond})
	rep, err := harness.Run(context.Background(), b, sc, harness.Config{
		Short: true, Reps: 3, Model: "fake-model-spec",
		Progress: func(step string, done, total int) {
			assert.Equal(t, len(harness.Steps), total)
			assert.Equal(t, len(steps), done)
			steps = append(steps, step)
		},
	})
	require.NoError(t, err)
	assert.Equal(t, append(slices.Clone(harness.Steps), "done"), steps)
	assert.Equal(t, report.StatusOK, rep.Status, notes(rep))
	assert.NotContains(t, notes(rep), "check failed")
	assert.Empty(t, report.CorrectnessFailures(rep))

	// Report contract fields (docs/methodology.md).
	assert.Equal(t, "fake-model-spec", rep.Model)
	assert.Equal(t, "fake", rep.Backend)
	assert.Equal(t, harness.DefaultMode, rep.Mode)
	assert.Equal(t, "fake-1", rep.BackendVersion)

	c := rep.ColdFullPrefill
	assert.Equal(t, 128, c.Tokens)
	assert.Positive(t, c.MS)
	assert.Positive(t, c.TTFTMS)
	assert.Greater(t, c.TTFTMS, c.MS, "TTFT includes the suffix after the prefix")
	assert.InDelta(t, 128/(c.MS/1000), c.PromptTPS, 1e-6)
	assert.Len(t, c.SamplesMS, 3)
	assert.Len(t, c.TTFTSamplesMS, 3)
	require.NotNil(t, c.Stats)
	assert.Equal(t, 3, c.Stats.N)
	assert.Equal(t, report.Median(c.SamplesMS), c.MS)

	w := rep.WarmSamePrefix
	assert.Equal(t, 128, w.CachedTokens)
	assert.Equal(t, 0, w.NewTokens)
	assert.Equal(t, 1.0, w.HitRate)
	assert.Positive(t, w.MS)
	assert.Positive(t, w.TTFTMS)
	assert.Len(t, w.SamplesMS, 3)

	ch := rep.WarmChangedSuffix
	assert.Equal(t, 128, ch.CachedTokens)
	assert.Equal(t, 16, ch.SuffixTokens)
	assert.True(t, ch.OutputEqualsCold)
	assert.Equal(t, -1, ch.FirstDivergence)
	assert.Positive(t, ch.MS)
	assert.GreaterOrEqual(t, ch.TTFTMS, ch.MS)

	e := rep.EditedStable
	assert.True(t, e.ExpectedCacheMiss)
	assert.True(t, e.ActualCacheMiss)
	assert.True(t, e.OutputEqualsCold)
	assert.Equal(t, 64, e.EditAt)
	assert.Equal(t, 64, e.ReusedTokens)
	assert.Equal(t, 64, e.ComputedTokens)
	assert.Positive(t, e.MS)
	assert.Contains(t, notes(rep), "precise miss")

	d := rep.Decode
	assert.Equal(t, 16, d.OutputTokens)
	assert.Positive(t, d.TokensPerSec)
	assert.Len(t, d.SamplesTPS, 3)
	assert.Equal(t, 144, d.ContextTokens)

	require.Len(t, rep.SuffixTTFTCurve, 3)
	for i, size := range []int{1, 16, 64} {
		assert.Equal(t, size, rep.SuffixTTFTCurve[i].SuffixTokens)
		assert.Positive(t, rep.SuffixTTFTCurve[i].TTFTMS)
		assert.Len(t, rep.SuffixTTFTCurve[i].SamplesMS, 3)
	}

	assert.True(t, rep.FailureCases.OverContext, rep.FailureCases.Details)
	assert.True(t, rep.FailureCases.CancelDecode, rep.FailureCases.Details)

	// Extras.
	assert.Equal(t, report.SchemaVersion, rep.SchemaVersion)
	assert.Equal(t, 1, rep.Threads, "taken from Settings()[threads]")
	assert.Equal(t, 3, rep.Repetitions)
	assert.Equal(t, 1, rep.Warmup)
	assert.True(t, rep.Short)
	assert.Equal(t, sc.Digest(), rep.TokenDigest)
	assert.Equal(t, sc.Shape(), rep.Scenario)
	require.NotNil(t, rep.ModelInfo)
	assert.Equal(t, 256, rep.ModelInfo.ContextLength)
	assert.Equal(t, "none", rep.Settings["bugs"])
	_, err = time.Parse(time.RFC3339Nano, rep.StartedAt)
	assert.NoError(t, err)
	_, err = time.Parse(time.RFC3339Nano, rep.FinishedAt)
	assert.NoError(t, err)
}

func TestRunDefaultsAndWarmup(t *testing.T) {
	b := fake.New(fake.Config{})
	rep, err := harness.Run(context.Background(), b, shortScenario(t), harness.Config{Short: true, Warmup: -1, Threads: 4})
	require.NoError(t, err)
	assert.Equal(t, 0, rep.Warmup)
	assert.Equal(t, 2, rep.Repetitions, "short default")
	assert.Equal(t, 4, rep.Threads)
	assert.Len(t, rep.ColdFullPrefill.SamplesMS, 2)

	// Without a per-token cost the decode outruns the cancel timer: the
	// mid-decode case is inconclusive and the pre-cancelled case decides.
	assert.True(t, rep.FailureCases.CancelDecode, rep.FailureCases.Details)
	assert.Contains(t, strings.Join(rep.FailureCases.Details, "\n"), "pre-cancelled")

	rep, err = harness.Run(context.Background(), b, shortScenario(t), harness.Config{})
	require.NoError(t, err)
	assert.Equal(t, 5, rep.Repetitions, "full default")
	assert.Equal(t, 1, rep.Warmup)
}

// A Base row's identity is kept as given; the harness fills only what it
// leaves empty, and the caller's Base is not written to.
func TestRunKeepsBase(t *testing.T) {
	b := fake.New(fake.Config{})
	base := &report.Report{Model: "the model", Profile: "tuned", Notes: []string{"row note"}}
	base.RowKind, base.RowLabel, base.ModelSpec, base.Command = report.KindKernel, "fake-x", "synthetic:tiny", "fakbench run"
	base.Threads, base.Repetitions, base.Warmup = 3, 1, 0
	rep, err := harness.Run(context.Background(), b, shortScenario(t), harness.Config{Short: true, Warmup: -1, Base: base})
	require.NoError(t, err)
	assert.Equal(t, "the model", rep.Model)
	assert.Equal(t, b.Name(), rep.Backend, "filled: Base left it empty")
	assert.Equal(t, harness.DefaultMode, rep.Mode)
	assert.Equal(t, report.KindKernel, rep.RowKind)
	assert.Equal(t, "fake-x", rep.RowLabel)
	assert.Equal(t, "synthetic:tiny", rep.ModelSpec)
	assert.Equal(t, "fakbench run", rep.Command)
	assert.Equal(t, 3, rep.Threads)
	assert.Equal(t, 2, rep.Repetitions, "what ran (the short default), not what Base said")
	assert.Len(t, rep.ColdFullPrefill.SamplesMS, 2)
	assert.Equal(t, report.SchemaVersion, rep.SchemaVersion)
	assert.Equal(t, "row note", rep.Notes[0])
	assert.Greater(t, len(rep.Notes), 1)
	assert.Equal(t, []string{"row note"}, base.Notes, "Base is not written to")
	assert.Empty(t, base.Backend)
}

// Each contract violation must turn the matching report flag false.
func TestRunDetectsBugs(t *testing.T) {
	t.Run("no reuse", func(t *testing.T) {
		rep := runFake(t, fake.Config{Bugs: fake.Bugs{NoReuse: true}})
		assert.Equal(t, 0.0, rep.WarmSamePrefix.HitRate)
		assert.Equal(t, 128, rep.WarmSamePrefix.NewTokens)
		assert.Equal(t, 0, rep.WarmChangedSuffix.CachedTokens)
		assert.True(t, rep.EditedStable.ActualCacheMiss, "a full recompute is a miss too")
		assert.Contains(t, notes(rep), "miss by full recompute")
		assert.Contains(t, notes(rep), "not fully reused")
		assert.True(t, rep.WarmChangedSuffix.OutputEqualsCold)
		assert.Equal(t, []string{"warm_same_prefix.hit_rate = 0, want 1"}, report.CorrectnessFailures(rep))
	})
	t.Run("false hit", func(t *testing.T) {
		rep := runFake(t, fake.Config{Bugs: fake.Bugs{FalseHit: true}})
		assert.False(t, rep.EditedStable.ActualCacheMiss)
		assert.False(t, rep.EditedStable.OutputEqualsCold)
		assert.Equal(t, 128, rep.EditedStable.ReusedTokens)
		assert.Equal(t, report.StatusOK, rep.Status, "a flag shows it; the run itself completed")
		assert.Contains(t, report.CorrectnessFailures(rep), "edited_stable_segment.actual_cache_miss = false although a miss was expected")
		assert.Contains(t, notes(rep), "past the edit")
	})
	t.Run("warm diverges", func(t *testing.T) {
		rep := runFake(t, fake.Config{Bugs: fake.Bugs{WarmDiverges: true}})
		assert.False(t, rep.WarmChangedSuffix.OutputEqualsCold)
		assert.Equal(t, 0, rep.WarmChangedSuffix.FirstDivergence)
		assert.False(t, rep.EditedStable.OutputEqualsCold)
		assert.True(t, rep.EditedStable.ActualCacheMiss, "the counts are right, the output is not")
		assert.Equal(t, report.StatusOK, rep.Status, "a flag shows it; the run itself completed")
		assert.Contains(t, report.CorrectnessFailures(rep), "warm_changed_suffix.output_equals_cold = false")
		assert.Contains(t, notes(rep), "first divergence at token 0")
	})
	t.Run("ignore cancel", func(t *testing.T) {
		rep := runFake(t, fake.Config{Bugs: fake.Bugs{IgnoreCancel: true}})
		assert.False(t, rep.FailureCases.CancelDecode)
		assert.True(t, rep.FailureCases.OverContext)
		assert.Equal(t, report.StatusOK, rep.Status, "a flag shows it; the run itself completed")
		assert.Contains(t, report.CorrectnessFailures(rep), "failure_cases.cancel_decode = false")
	})
	t.Run("cancel loses token", func(t *testing.T) {
		rep := runFake(t, fake.Config{TokenCost: 200 * time.Microsecond, Bugs: fake.Bugs{CancelLosesToken: true}})
		assert.False(t, rep.FailureCases.CancelDecode, rep.FailureCases.Details)
		assert.Contains(t, strings.Join(rep.FailureCases.Details, "\n"), "does not continue the uncancelled sequence")
	})
	t.Run("cancel observed mid-decode", func(t *testing.T) {
		rep := runFake(t, fake.Config{TokenCost: 200 * time.Microsecond})
		assert.True(t, rep.FailureCases.CancelDecode, rep.FailureCases.Details)
		details := strings.Join(rep.FailureCases.Details, "\n")
		assert.Contains(t, details, "cancelled after")
		assert.Contains(t, details, "continued the sequence correctly")
	})
	t.Run("untyped over context", func(t *testing.T) {
		rep := runFake(t, fake.Config{Bugs: fake.Bugs{UntypedOverContext: true}})
		assert.False(t, rep.FailureCases.OverContext)
		assert.Contains(t, strings.Join(rep.FailureCases.Details, "\n"), "not a *transport.OverContextError")
		assert.True(t, rep.FailureCases.CancelDecode)
	})
	t.Run("over context clears the cache", func(t *testing.T) {
		rep := runFake(t, fake.Config{Bugs: fake.Bugs{OverContextClears: true}})
		assert.False(t, rep.FailureCases.OverContext)
		assert.Contains(t, strings.Join(rep.FailureCases.Details, "\n"), "lost its cache")
	})
	t.Run("shared cache makes cold not cold", func(t *testing.T) {
		rep := runFake(t, fake.Config{Bugs: fake.Bugs{SharedCache: true}})
		assert.Contains(t, notes(rep), "not provably empty")
		assert.Equal(t, report.StatusFailed, rep.Status)
	})
}

// faultySession wraps the fake and fails PrefillSuffix for one suffix length.
type faultySession struct {
	transport.Session
	failLen int
}

func (s *faultySession) PrefillSuffix(ctx context.Context, in transport.SuffixInput) (transport.SuffixResult, error) {
	if len(in.Tokens) == s.failLen {
		return transport.SuffixResult{}, errors.New("injected fault")
	}
	return s.Session.PrefillSuffix(ctx, in)
}

func TestRunSectionErrorStaysZero(t *testing.T) {
	b := fake.WrapSessions(fake.New(fake.Config{}), func(s transport.Session) transport.Session {
		return &faultySession{Session: s, failLen: 64}
	})
	rep, err := harness.Run(context.Background(), b, shortScenario(t), harness.Config{Short: true})
	require.NoError(t, err)
	assert.Nil(t, rep.SuffixTTFTCurve, "the curve section failed and stays zero-valued")
	assert.Contains(t, notes(rep), "suffix_ttft_curve: not measured: size 64: PrefillSuffix: injected fault")
	assert.Equal(t, report.StatusFailed, rep.Status)
	// The other sections still ran.
	assert.Equal(t, 1.0, rep.WarmSamePrefix.HitRate)
	assert.True(t, rep.EditedStable.OutputEqualsCold)
	assert.True(t, rep.FailureCases.CancelDecode)
}

func TestRunRefusesUnfitScenario(t *testing.T) {
	sc := shortScenario(t)
	rep, err := harness.Run(context.Background(), fake.New(fake.Config{Context: 128}), sc, harness.Config{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "needs 208 positions but backend fake has a context of 128")
	assert.Equal(t, report.StatusFailed, rep.Status)

	_, err = harness.Run(context.Background(), fake.New(fake.Config{Vocab: 300}), sc, harness.Config{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "vocabulary of 300")

	_, err = harness.Run(context.Background(), fake.New(fake.Config{}), harness.Scenario{}, harness.Config{})
	require.Error(t, err)
}

func TestRunUnusableBackend(t *testing.T) {
	b := fake.New(fake.Config{})
	require.NoError(t, b.Close())
	rep, err := harness.Run(context.Background(), b, shortScenario(t), harness.Config{})
	require.Error(t, err)
	assert.ErrorIs(t, err, transport.ErrClosed)
	assert.Contains(t, err.Error(), "cannot open a session")
	require.NotNil(t, rep)
	assert.Equal(t, report.StatusFailed, rep.Status)
}

func TestRunInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	b := fake.New(fake.Config{})
	rep, err := harness.Run(ctx, b, shortScenario(t), harness.Config{Progress: func(step string, _, _ int) {
		if step == "decode" {
			cancel()
		}
	}})
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, report.StatusInterrupted, rep.Status)
	assert.True(t, rep.EditedStable.ActualCacheMiss, "sections before the interruption are kept")
	// What did not run is said so, and is no correctness failure.
	assert.Equal(t, map[string]string{
		"decode":                      "not run: the run was interrupted first",
		"suffix_ttft_curve":           "not run: the run was interrupted first",
		"failure_cases.over_context":  "not run: the run was interrupted first",
		"failure_cases.cancel_decode": "not run: the run was interrupted first",
	}, rep.NotRun)
	assert.True(t, rep.Ran("edited_stable_segment.actual_cache_miss"))
	assert.False(t, rep.Ran("failure_cases.cancel_decode"))
	assert.Empty(t, report.CorrectnessFailures(rep), "sections that did not run are not checks")

	// In JSON the contract keeps them zero-valued; not_run says so.
	data, err := json.Marshal(rep)
	require.NoError(t, err)
	var back report.Report
	require.NoError(t, json.Unmarshal(data, &back), "a report with null sections reads back")
	assert.Equal(t, rep.NotRun, back.NotRun)
	assert.Equal(t, report.StatusInterrupted, back.Status)
}
