package report

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func changeOf(t *testing.T, cs []Change, key string) Change {
	t.Helper()
	for _, c := range cs {
		if c.Metric.Key == key {
			return c
		}
	}
	require.Failf(t, "no change", "metric %s not judged", key)
	return Change{}
}

// A clear regression of decode throughput is marked, a move of the cold
// prefill time within its run-to-run spread is not, and the direction of
// each metric decides which way is worse.
func TestChangesTellRegressionFromNoise(t *testing.T) {
	old := RunSet{Label: "old", Reports: []*Report{regressRow(
		[]float64{100, 101, 99, 100.5, 99.5}, []float64{10, 12, 11, 13, 9}, []float64{10, 10.1, 9.9, 10.05, 9.95})}}
	slow := RunSet{Label: "new", Reports: []*Report{regressRow(
		[]float64{80, 81, 79, 80.5, 79.5}, []float64{11, 10, 12, 13, 9.5}, []float64{12.5, 12.6, 12.4, 12.55, 12.45})}}

	cs := Changes(old, slow)
	dec := changeOf(t, cs, "decode.tokens_per_sec")
	assert.Equal(t, ChangeRegressed, dec.Verdict, "throughput down 20 %% in every repetition")
	assert.Equal(t, "worse", dec.Verdict)
	assert.Less(t, dec.P, ChangeAlpha)
	assert.Equal(t, 5, dec.Old.N)
	assert.Equal(t, 100.0, dec.Old.Median)
	assert.Equal(t, 80.0, dec.New.Median)
	assert.Equal(t, "-20.0 %", dec.Delta())
	assert.LessOrEqual(t, dec.Old.Lo, dec.Old.Median)
	assert.GreaterOrEqual(t, dec.Old.Hi, dec.Old.Median)

	cold := changeOf(t, cs, "cold_full_prefill.ms")
	assert.Equal(t, ChangeWithinNoise, cold.Verdict, "the medians differ, the repetitions overlap")
	assert.Greater(t, cold.P, ChangeAlpha)
	assert.Equal(t, "~", cold.Delta())

	// Latency is lower-is-better: the inter-token percentiles went up.
	p50 := changeOf(t, cs, "decode.inter_token_ms.p50")
	assert.Equal(t, ChangeRegressed, p50.Verdict)
	assert.Equal(t, 5, p50.New.N, "one p50 per repetition")

	// The same move the other way is better, never worse.
	back := Changes(slow, old)
	assert.Equal(t, ChangeImproved, changeOf(t, back, "decode.tokens_per_sec").Verdict)

	md := ChangesMarkdown([]RunSet{old, slow}, false)
	assert.Contains(t, md, "## Changes beyond run-to-run spread: `old` -> `new`")
	assert.Contains(t, md, "Mann-Whitney U test at alpha 0.05")
	assert.Contains(t, md, "| gokernel | decode tok/s (higher is better) | 100 ±")
	assert.Contains(t, md, "| -20.0 % | p=0.008 n=5 | worse |")
	assert.Regexp(t, `\| gokernel \| cold prefill ms \(lower is better\) \| 11 ±[^|]* \| 11 ±[^|]* \| ~ \| p=[0-9.]+ n=5 \| within noise \|`, md)
	assert.Contains(t, md, "### Regression gate (`--fail-on-regression`)", "the gate's judgement follows")
	assert.Equal(t, "", ChangesMarkdown([]RunSet{old}, false))
}

// With two repetitions no U test can reach alpha 0.05: nothing is called
// a regression, and the section says how many samples it would need.
func TestChangesWithTooFewSamplesAreNotJudged(t *testing.T) {
	old := RunSet{Label: "a", Reports: []*Report{regressRow([]float64{100, 101}, []float64{10, 11}, nil)}}
	slow := RunSet{Label: "b", Reports: []*Report{regressRow([]float64{50, 51}, []float64{20, 21}, nil)}}
	c := changeOf(t, Changes(old, slow), "decode.tokens_per_sec")
	assert.Equal(t, ChangeNotJudged, c.Verdict)
	assert.Contains(t, c.Note, "need >= 4 samples")
	md := ChangesMarkdown([]RunSet{old, slow}, false)
	assert.Contains(t, md, "not judged: need >= 4 samples to detect a difference at alpha level 0.05")
}

// Rows are matched by name; a row only one run has, or metrics without
// kept samples, are not judged.
func TestChangesMatchRowsByName(t *testing.T) {
	a := regressRow([]float64{100, 101, 99, 100.5, 99.5}, nil, nil)
	b := regressRow([]float64{50, 51, 49, 50.5, 49.5}, nil, nil)
	b.Backend = "llamacpp"
	assert.Empty(t, Changes(RunSet{Reports: []*Report{a, nil}}, RunSet{Reports: []*Report{b, nil}}))
	md := ChangesMarkdown([]RunSet{{Label: "x", Reports: []*Report{a}}, {Label: "y", Reports: []*Report{b}}}, false)
	assert.True(t, strings.Contains(md, "No metric with kept samples is in both runs."), md)
}
