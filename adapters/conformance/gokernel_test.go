package conformance_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/adapters/conformance"
	_ "github.com/fakbench/fakbench/gokernel"
	"github.com/fakbench/fakbench/harness"
	"github.com/fakbench/fakbench/models"
	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/transport"
)

// openTiny opens the Go kernel on the synthetic tiny model through the registry.
func openTiny(t *testing.T) transport.Backend {
	t.Helper()
	path, err := models.Path("synthetic:tiny")
	require.NoError(t, err)
	b, err := adapters.Open(context.Background(), "gokernel", adapters.Options{ModelPath: path, Threads: 2})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// The Go kernel passes the whole kit.
func TestGokernelConformance(t *testing.T) {
	conformance.Run(t, openTiny, conformance.Options{})
}

// End to end: the harness on the Go kernel gives every flag of the report
// contract (docs/methodology.md) true and every timing positive.
func TestGokernelHarnessEndToEnd(t *testing.T) {
	b := openTiny(t)
	params, err := harness.ParamsFor(true, 1, b.Info())
	require.NoError(t, err)
	sc, err := harness.BuildScenario(params)
	require.NoError(t, err)
	rep, err := harness.Run(context.Background(), b, sc, harness.Config{Short: true, Reps: 2, Model: "synthetic:tiny"})
	require.NoError(t, err)

	assert.Equal(t, report.StatusOK, rep.Status, rep.Notes)
	assert.Empty(t, report.CorrectnessFailures(rep), rep.Notes)
	assert.Equal(t, "gokernel", rep.Backend)
	assert.Equal(t, 1.0, rep.WarmSamePrefix.HitRate)
	assert.True(t, rep.WarmChangedSuffix.OutputEqualsCold)
	assert.True(t, rep.EditedStable.ExpectedCacheMiss)
	assert.True(t, rep.EditedStable.ActualCacheMiss)
	assert.Equal(t, sc.EditAt, rep.EditedStable.ReusedTokens, "the Go kernel reuses exactly up to the edit")
	assert.True(t, rep.EditedStable.OutputEqualsCold)
	assert.True(t, rep.FailureCases.OverContext, rep.FailureCases.Details)
	assert.True(t, rep.FailureCases.CancelDecode, rep.FailureCases.Details)

	for name, v := range map[string]float64{
		"cold ms": rep.ColdFullPrefill.MS, "cold ttft": rep.ColdFullPrefill.TTFTMS, "cold tps": rep.ColdFullPrefill.PromptTPS,
		"warm same ms": rep.WarmSamePrefix.MS, "warm same ttft": rep.WarmSamePrefix.TTFTMS,
		"warm changed ms": rep.WarmChangedSuffix.MS, "warm changed ttft": rep.WarmChangedSuffix.TTFTMS,
		"edited ms": rep.EditedStable.MS, "edited ttft": rep.EditedStable.TTFTMS,
		"decode tps": rep.Decode.TokensPerSec,
	} {
		assert.Positive(t, v, name)
	}
	require.Len(t, rep.SuffixTTFTCurve, len(sc.CurveSizes))
	for _, p := range rep.SuffixTTFTCurve {
		assert.Positive(t, p.TTFTMS, "curve at %d", p.SuffixTokens)
	}
	assert.Equal(t, sc.Digest(), rep.TokenDigest)
	assert.Equal(t, 2, rep.Threads)
}
