package report

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// noisyRun is a run of one row per backend, every section measured with
// reps repetitions whose figures scatter around fixed centres by about
// 3 % (seeded). slow scales chosen metrics' centres: a factor per
// metric key ("decode.tokens_per_sec": 0.8 is a decode 20 % slower).
func noisyRun(label string, seed uint64, reps int, backends []string, slow map[string]float64) RunSet {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	draw := func(key string, centre float64) []float64 {
		if f, ok := slow[key]; ok {
			centre *= f
		}
		xs := make([]float64, reps)
		for i := range xs {
			xs[i] = centre * (1 + 0.03*rng.NormFloat64())
		}
		return xs
	}
	med := func(xs []float64) float64 { return Percentile(xs, 50) }
	run := RunSet{Label: label}
	for _, backend := range backends {
		r := &Report{Model: "m", Backend: backend, Mode: "live_prefix_reuse"}
		r.RowKind, r.Status = KindKernel, StatusOK
		c := &r.ColdFullPrefill
		c.Tokens, c.SamplesMS, c.TTFTSamplesMS = 512, draw("cold_full_prefill.ms", 400), draw("cold_full_prefill.ttft_ms", 410)
		if f, ok := slow["cold_full_prefill.prompt_tps"]; ok {
			for i := range c.SamplesMS {
				c.SamplesMS[i] /= f
			}
		}
		c.MS, c.TTFTMS = med(c.SamplesMS), med(c.TTFTSamplesMS)
		c.PromptTPS = float64(c.Tokens) / (c.MS / 1000)
		w := &r.WarmSamePrefix
		w.CachedTokens, w.HitRate = 512, 1
		w.SamplesMS, w.TTFTSamplesMS = draw("warm_same_prefix.ms", 2), draw("warm_same_prefix.ttft_ms", 30)
		w.MS, w.TTFTMS = med(w.SamplesMS), med(w.TTFTSamplesMS)
		ch := &r.WarmChangedSuffix
		ch.CachedTokens, ch.SuffixTokens, ch.OutputEqualsCold = 512, 64, true
		ch.SamplesMS, ch.TTFTSamplesMS = draw("warm_changed_suffix.ms", 50), draw("warm_changed_suffix.ttft_ms", 60)
		ch.MS, ch.TTFTMS = med(ch.SamplesMS), med(ch.TTFTSamplesMS)
		e := &r.EditedStable
		e.ExpectedCacheMiss, e.ActualCacheMiss, e.OutputEqualsCold, e.ComputedTokens = true, true, true, 256
		e.SamplesMS, e.TTFTSamplesMS = draw("edited_stable_segment.ms", 200), draw("edited_stable_segment.ttft_ms", 210)
		e.MS, e.TTFTMS = med(e.SamplesMS), med(e.TTFTSamplesMS)
		d := &r.Decode
		d.OutputTokens, d.SamplesTPS = 128, draw("decode.tokens_per_sec", 40)
		d.TokensPerSec = med(d.SamplesTPS)
		for range reps {
			tokens := make([]float64, 128)
			for j := range tokens {
				tokens[j] = 25 * (1 + 0.05*rng.NormFloat64())
				if f, ok := slow["decode.inter_token_ms"]; ok {
					tokens[j] *= f
				}
			}
			d.InterTokenSamplesMS = append(d.InterTokenSamplesMS, tokens)
		}
		d.InterTokenMS = NewDist(Pooled(d.InterTokenSamplesMS))
		for _, n := range []int{1, 2, 4, 8, 16, 32, 64} {
			xs := draw("suffix_ttft_curve."+strconv.Itoa(n), 20+float64(n))
			r.SuffixTTFTCurve = append(r.SuffixTTFTCurve, SuffixTTFT{SuffixTokens: n, TTFTMS: med(xs), SamplesMS: xs})
		}
		for _, b := range []int{1, 2, 4} {
			xs := draw("batch_curve."+strconv.Itoa(b), 40*float64(b))
			r.BatchCurve = append(r.BatchCurve, BatchPoint{Batch: b, TokensPerSec: med(xs), SamplesTPS: xs})
		}
		r.FailureCases = FailureCases{OverContext: true, CancelDecode: true}
		run.Reports = append(run.Reports, r)
	}
	return run
}

// anyWorse says whether some metric, judged on its own as benchstat
// judges it, moved to the worse: the old gate's rule.
func anyWorse(old, new RunSet) bool {
	for _, c := range Changes(old, new) {
		if c.Verdict == ChangeRegressed {
			return true
		}
	}
	return false
}

// Reruns without any change, of many metrics with seeded noise, pass the
// gate, which holds its false failures to GateAlpha, while the old rule
// (fail when any metric on its own is worse at 0.05) fails about every
// other rerun.
func TestGatePassesRerunsOfOneDistribution(t *testing.T) {
	const pairs, reps = 200, 10
	backends := []string{"gokernel", "llamacpp"}
	judged := len(Changes(noisyRun("a", 1, reps, backends, nil), noisyRun("b", 2, reps, backends, nil)))
	require.GreaterOrEqual(t, judged, 2*17, "many metrics a row are judged")
	var oldRule, headline, all int
	firstFlagged := -1
	for i := range pairs {
		a := noisyRun("a", uint64(2*i+1), reps, backends, nil)
		b := noisyRun("b", uint64(2*i+2), reps, backends, nil)
		runs := []RunSet{a, b}
		if anyWorse(a, b) {
			oldRule++
			if firstFlagged < 0 {
				firstFlagged = i
			}
		}
		for _, g := range []struct {
			all bool
			n   *int
		}{{false, &headline}, {true, &all}} {
			gate := JudgeGate(runs, g.all)
			require.Empty(t, gate.Blind, "10 repetitions a side can reach Holm's levels")
			if gate.Failed() {
				*g.n++
			}
		}
	}
	t.Logf("%d reruns of %d metrics: the old rule failed %d, the gate %d (headline) and %d (all metrics)", pairs, judged, oldRule, headline, all)
	assert.Greater(t, oldRule, pairs/4, "the old rule fails on noise: the test can tell")
	// A false failure is at most GateAlpha likely (a worse move is half of
	// the two-sided rejections): 10 of 200 is its expectation at worst.
	assert.LessOrEqual(t, headline, 10)
	assert.LessOrEqual(t, all, 10)

	// The first rerun in which a metric on its own came out worse, as in
	// the report that made the gate: it passes, and the Markdown says so.
	require.GreaterOrEqual(t, firstFlagged, 0)
	a := noisyRun("a", uint64(2*firstFlagged+1), reps, backends, nil)
	b := noisyRun("b", uint64(2*firstFlagged+2), reps, backends, nil)
	for _, allMetrics := range []bool{false, true} {
		gate := JudgeGate([]RunSet{a, b}, allMetrics)
		assert.False(t, gate.Failed(), "all metrics: %v", allMetrics)
		var w strings.Builder
		assert.False(t, gate.Fails(&w))
		assert.Empty(t, w.String())
		md := ChangesMarkdown([]RunSet{a, b}, allMetrics)
		assert.Contains(t, md, "| worse |", "the line on its own is still shown")
		assert.Contains(t, md, "**Gate: passed**")
	}
}

// A clearly slowed metric fails the gate, named with its test; a slowed
// metric outside the headline fails only the widened gate.
func TestGateCatchesASlowedMetric(t *testing.T) {
	backends := []string{"gokernel", "llamacpp"}
	base := noisyRun("base", 1, 10, backends, nil)
	slow := noisyRun("slow", 2, 10, backends, map[string]float64{"decode.tokens_per_sec": 0.8})
	for _, allMetrics := range []bool{false, true} {
		gate := JudgeGate([]RunSet{base, slow}, allMetrics)
		require.Empty(t, gate.Blind)
		require.True(t, gate.Failed(), "all metrics: %v", allMetrics)
		require.Len(t, gate.Regressions, 2, "decode of both rows")
		for _, c := range gate.Regressions {
			assert.Equal(t, "decode.tokens_per_sec", c.Metric.Key)
			assert.InDelta(t, 0.8, c.New.Median/c.Old.Median, 0.05)
		}
		var w strings.Builder
		assert.True(t, gate.Fails(&w))
		assert.Contains(t, w.String(), "fakbench compare: regression gate: gokernel decode tok/s -")
		assert.Contains(t, w.String(), "fakbench compare: regression gate: llamacpp decode tok/s -")
		md := gate.Markdown()
		assert.Contains(t, md, "**Gate: FAILED**, 2 regression(s):")
		assert.Regexp(t, `\| 1 \| (gokernel|llamacpp) \| decode tok/s \| -[0-9.]+ % \| 1\.08e-05 \| [0-9.e-]+ \| \*\*REGRESSION\*\* \|`, md)
	}

	// Suffix TTFT at 16 tokens up 30 %: not a headline metric.
	slow = noisyRun("slow", 2, 10, backends, map[string]float64{"suffix_ttft_curve.16": 1.3})
	headline := JudgeGate([]RunSet{base, slow}, false)
	assert.False(t, headline.Failed())
	for _, s := range headline.Steps {
		assert.Contains(t, HeadlineMetrics, s.Metric.Key)
	}
	all := JudgeGate([]RunSet{base, slow}, true)
	require.True(t, all.Failed())
	require.Len(t, all.Regressions, 2)
	assert.Equal(t, "suffix_ttft_curve.16", all.Regressions[0].Metric.Key)
	assert.Contains(t, all.Markdown(), "every metric of the table above (--gate-all-metrics)")
}

// Holm's procedure: levels GateAlpha/m, /(m-1), ... in order of p; the
// first test above its level stops it and every later one stands; an
// improvement is rejected but fails nothing.
func TestGateStepsDown(t *testing.T) {
	for k, want := range map[int]float64{1: 0.05, 2: 0.025, 3: 0.0166, 4: 0.0125, 5: 0.01, 6: 0.00833, 15: 0.00333, 23: 0.00217, 40: 0.00125, 85: 0.000588} {
		assert.Equal(t, want, holmLevel(k), "k=%d", k)
		assert.LessOrEqual(t, holmLevel(k), GateAlpha/float64(k))
	}

	// One row, 5 repetitions: decode slower and prefill faster in every
	// repetition (p = 0.0079 each), the rest noise.
	old := noisyRun("old", 3, 5, []string{"gokernel"}, nil)
	mixed := noisyRun("new", 4, 5, []string{"gokernel"}, map[string]float64{"decode.tokens_per_sec": 0.5, "cold_full_prefill.prompt_tps": 2})
	gate := JudgeGate([]RunSet{old, mixed}, false)
	require.Empty(t, gate.Blind)
	require.Len(t, gate.Steps, len(HeadlineMetrics), "5 headline tests of one row")
	for i, s := range gate.Steps {
		assert.Equal(t, holmLevel(len(gate.Steps)-i), s.Level)
		if i > 0 {
			assert.LessOrEqual(t, gate.Steps[i-1].P, s.P, "in order of p")
		}
	}
	require.True(t, gate.Steps[0].Rejected && gate.Steps[1].Rejected, "p=0.0079 <= 0.01, then <= 0.0125")
	keys := []string{gate.Steps[0].Metric.Key, gate.Steps[1].Metric.Key}
	assert.ElementsMatch(t, []string{"decode.tokens_per_sec", "cold_full_prefill.prompt_tps"}, keys)
	require.Len(t, gate.Regressions, 1, "the faster prefill is no regression")
	assert.Equal(t, "decode.tokens_per_sec", gate.Regressions[0].Metric.Key)
	stopped := false
	for _, s := range gate.Steps[2:] {
		if stopped {
			assert.False(t, s.Reached)
			assert.False(t, s.Rejected, "after the first test that stands, every later one stands")
		}
		stopped = stopped || !s.Rejected
	}
	md := gate.Markdown()
	assert.Contains(t, md, "| improvement |")
	assert.Contains(t, md, "**Gate: FAILED**, 1 regression(s):\n\n- gokernel decode tok/s -")
	assert.Regexp(t, `- gokernel decode tok/s -[0-9.]+ % \([0-9.]+ -> [0-9.]+, p=0\.00794 <= 0\.01(25)? at step [12] of 5\)`, md)
}

// A gate that cannot reject anything fails rather than pass: too few
// repetitions for its number of tests, or no test at all. One run has
// nothing to judge and passes.
func TestBlindGateFails(t *testing.T) {
	backends := []string{"gokernel", "llamacpp", "openvino"}
	a, b := noisyRun("a", 5, 5, backends, nil), noisyRun("b", 6, 5, backends, nil)
	gate := JudgeGate([]RunSet{a, b}, false)
	require.Len(t, gate.Steps, 15, "5 headline metrics of 3 rows")
	assert.Contains(t, gate.Blind, "none of its 15 tests can reach Holm's first level, p <= 0.00333 (0.05 / 15, rounded down)")
	assert.Contains(t, gate.Blind, "need >= 6 samples to detect a difference at alpha level 0.00333")
	assert.True(t, gate.Failed())
	var w strings.Builder
	assert.True(t, gate.Fails(&w))
	assert.Contains(t, w.String(), "fakbench compare: regression gate: cannot judge, so it fails: none of its 15 tests")
	assert.Contains(t, gate.Markdown(), "**Gate: cannot judge, so it fails**")
	// One row of the same runs: 5 tests, and 0.0079 <= 0.01 can be reached.
	one := JudgeGate([]RunSet{{Label: "a", Reports: a.Reports[:1]}, {Label: "b", Reports: b.Reports[:1]}}, false)
	assert.Empty(t, one.Blind)

	// Two repetitions: no test at all.
	few := JudgeGate([]RunSet{noisyRun("a", 7, 2, backends[:1], nil), noisyRun("b", 8, 2, backends[:1], nil)}, false)
	assert.Empty(t, few.Steps)
	assert.Len(t, few.LeftOut, len(HeadlineMetrics))
	assert.Contains(t, few.Blind, "no headline metric of a row both runs have is judged: too few samples (need >= 4 samples")
	assert.Contains(t, few.Markdown(), "Not tests of the gate, too few samples for a U test at 0.05")
	assert.True(t, few.Failed())

	// Rows that do not match by name: nothing to judge.
	other := noisyRun("c", 9, 10, []string{"llamacpp"}, nil)
	none := JudgeGate([]RunSet{noisyRun("a", 10, 10, backends[:1], nil), other}, true)
	assert.Contains(t, none.Blind, "no metric with kept samples is in a row both runs have (rows are matched by name)")
	assert.True(t, none.Failed())

	single := JudgeGate([]RunSet{a}, false)
	assert.False(t, single.Failed())
	assert.False(t, single.Fails(&w))
	assert.Equal(t, "", single.Markdown())
}
