package sweep

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/report"
)

// scoredReport is fakeReport with the cold TTFT set (fakeReport leaves it
// zero), so that every headline metric of the objective is present.
func scoredReport(prefillTPS, warmSame, warmChanged, edited, decode float64) *report.Report {
	r := fakeReport(prefillTPS, warmSame, warmChanged, edited, decode)
	r.ColdFullPrefill.TTFTMS = r.ColdFullPrefill.MS + 1
	return r
}

// geoScore is the objective written out independently of Choose: the
// geometric mean of each metric's figure relative to the best of others.
func geoScore(r *report.Report, all []*report.Report) float64 {
	type m struct {
		v      func(*report.Report) float64
		higher bool
	}
	ms := []m{
		{func(r *report.Report) float64 { return r.Decode.TokensPerSec }, true},
		{func(r *report.Report) float64 { return r.ColdFullPrefill.PromptTPS }, true},
		{func(r *report.Report) float64 { return r.ColdFullPrefill.TTFTMS }, false},
		{func(r *report.Report) float64 { return r.WarmChangedSuffix.TTFTMS }, false},
		{func(r *report.Report) float64 { return r.WarmSamePrefix.TTFTMS }, false},
		{func(r *report.Report) float64 { return r.EditedStable.TTFTMS }, false},
	}
	prod := 1.0
	for _, x := range ms {
		best := x.v(all[0])
		for _, o := range all[1:] {
			if (x.higher && x.v(o) > best) || (!x.higher && x.v(o) < best) {
				best = x.v(o)
			}
		}
		if x.higher {
			prod *= x.v(r) / best
		} else {
			prod *= best / x.v(r)
		}
	}
	return math.Pow(prod, 1/float64(len(ms)))
}

// The chosen configuration is the objective's argmax over the eligible
// configurations, which is not the per-section composite: a configuration
// best on one section only (here decode) does not win by it.
func TestChooseIsTheObjectivesArgmax(t *testing.T) {
	cs := configs(t)
	a := scoredReport(1000, 5, 20, 250, 60) // best on every metric but decode
	b := scoredReport(800, 6, 22, 260, 100) // best decode, close elsewhere
	c := scoredReport(400, 12, 40, 500, 99) // behind nearly everywhere
	wrong := scoredReport(9000, 1, 1, 1, 9000)
	wrong.EditedStable.OutputEqualsCold = false // fastest, but wrong
	s := &Sweep{Grid: testGrid()}
	s.Results = []Result{Evaluate(cs[0], c, nil), Evaluate(cs[1], b, nil), Evaluate(cs[2], wrong, nil), Evaluate(cs[3], a, nil)}
	s.Compose()
	s.Choose()

	eligible := []*report.Report{c, b, a}
	want, wantScore := -1, 0.0
	for i, r := range s.Results {
		if r.Excluded {
			continue
		}
		g := geoScore(r.Report, eligible)
		assert.InDelta(t, g, r.Score, 1e-12, r.Config.Name)
		if want < 0 || g > wantScore {
			want, wantScore = i, g
		}
	}
	require.NotNil(t, s.Chosen)
	assert.Equal(t, cs[3], s.Results[want].Config)
	assert.Equal(t, cs[3], s.Chosen.Config, "a's score %.4f beats b's %.4f", s.Results[3].Score, s.Results[1].Score)
	assert.InDelta(t, math.Pow(0.6, 1.0/6), s.Chosen.Score, 1e-12, "a is best everywhere but decode, where it has 60 of 100")
	assert.Equal(t, []string{"decode.tokens_per_sec", "cold_full_prefill.prompt_tps", "cold_full_prefill.ttft_ms",
		"warm_changed_suffix.ttft_ms", "warm_same_prefix.ttft_ms", "edited_stable_segment.ttft_ms"}, s.Chosen.Metrics)
	assert.Zero(t, s.Results[2].Score, "an excluded configuration is not scored")
	assert.Nil(t, s.Results[2].Relative)
	assert.InDelta(t, 0.8, s.Results[1].Relative["cold_full_prefill.prompt_tps"], 1e-12)
	assert.InDelta(t, 5.0/6, s.Results[1].Relative["warm_same_prefix.ttft_ms"], 1e-12)
	assert.Equal(t, 1.0, s.Results[1].Relative["decode.tokens_per_sec"])

	// The composite takes decode from b: it is not the chosen configuration.
	require.NotNil(t, s.Composite)
	assert.Equal(t, 100.0, s.Composite.Decode.TokensPerSec)
	assert.Equal(t, 1000.0, s.Composite.ColdFullPrefill.PromptTPS)
	assert.Equal(t, CompositeLabel(3), s.CompositeLabel)
	assert.Equal(t, "best of 3 configurations per section; not one measured configuration", s.CompositeLabel)
	assert.Contains(t, s.Composite.Notes[0], "composite: best of 3 configurations per section; not one measured configuration")
	assert.Contains(t, s.Composite.Notes[0], "never a row of a run")
	assert.Contains(t, s.Composite.Settings["sweep"], "not one measured configuration")

	obj := s.Objective
	assert.Equal(t, Objective(), obj)
	assert.Contains(t, obj, "geometric mean")
	assert.Contains(t, obj, "decode.tokens_per_sec, cold_full_prefill.prompt_tps")
	assert.Contains(t, obj, "only configurations that pass every correctness check are eligible")
	assert.Contains(t, obj, "a tie goes to the earlier configuration")
	assert.NotContains(t, obj, "roofline", "the roofline fraction would count decode twice")

	table := s.Table()
	assert.Contains(t, table, "CHOSEN")
	assert.Contains(t, table, "chosen: "+cs[3].Name+" (score 0.918)")
	assert.Contains(t, table, "objective: the highest geometric mean")
	assert.Contains(t, table, "composite (best of 3 configurations per section; not one measured configuration; kept in the sweep file, never a row)")
	assert.Contains(t, table, "  decode: "+cs[1].Name+" (highest tokens_per_sec 100)")
}

func TestChooseTiesMissingMetricsAndNothingEligible(t *testing.T) {
	cs := configs(t)
	// Identical figures: the earlier configuration.
	s := &Sweep{Grid: testGrid()}
	for _, c := range cs {
		s.Results = append(s.Results, Evaluate(c, scoredReport(400, 5, 20, 300, 100), nil))
	}
	s.Choose()
	require.NotNil(t, s.Chosen)
	assert.Equal(t, cs[0], s.Chosen.Config)
	assert.Equal(t, 1.0, s.Chosen.Score)

	// A metric one configuration did not measure (no edited TTFT) is left
	// out of every score; the others still decide.
	s = &Sweep{Grid: testGrid()}
	s.Results = []Result{
		Evaluate(cs[0], scoredReport(400, 5, 20, 0, 100), nil),
		Evaluate(cs[1], scoredReport(400, 5, 20, 1, 101), nil), // would win edited by far
		Evaluate(cs[2], scoredReport(400, 5, 20, 300, 102), nil),
	}
	s.Choose()
	require.NotNil(t, s.Chosen)
	assert.NotContains(t, s.Chosen.Metrics, "edited_stable_segment.ttft_ms")
	assert.Len(t, s.Chosen.Metrics, 5)
	assert.Equal(t, cs[2], s.Chosen.Config, "decode decides when everything else ties")

	// Nothing measured in common: every score 1, the first eligible one.
	s = &Sweep{Grid: testGrid()}
	unmeasured := func() *report.Report {
		r := scoredReport(400, 5, 20, 0, 100) // passes every check, no figures
		r.ColdFullPrefill.PromptTPS, r.ColdFullPrefill.TTFTMS, r.Decode.TokensPerSec = 0, 0, 0
		r.WarmSamePrefix.TTFTMS, r.WarmChangedSuffix.TTFTMS = 0, 0
		return r
	}
	s.Results = []Result{Evaluate(cs[0], nil, nil), Evaluate(cs[1], unmeasured(), nil), Evaluate(cs[2], unmeasured(), nil)}
	s.Choose()
	require.NotNil(t, s.Chosen)
	assert.Equal(t, cs[1], s.Chosen.Config)
	assert.Contains(t, strings.Join(s.Notes, "\n"), "no headline metric was measured by every eligible configuration")

	// No eligible configuration: nothing is chosen.
	bad := scoredReport(400, 5, 20, 300, 100)
	bad.FailureCases.OverContext = false
	s = &Sweep{Grid: testGrid(), Results: []Result{Evaluate(cs[0], bad, nil)}}
	s.Compose()
	s.Choose()
	assert.Nil(t, s.Chosen)
	assert.Nil(t, s.Composite)
	assert.Contains(t, s.Table(), "excluded: correctness check failed")
	assert.NotContains(t, s.Table(), "chosen:")
}

// The sweep file carries the chosen configuration, the objective and the
// composite under its own, labelled key: no "tuned" row.
func TestSweepFileLabelsTheComposite(t *testing.T) {
	cs := configs(t)
	s := &Sweep{Schema: Schema, Backend: "llamacpp", Grid: testGrid()}
	s.Results = []Result{
		Evaluate(cs[0], scoredReport(1000, 5, 20, 250, 60), nil),
		Evaluate(cs[1], scoredReport(800, 6, 22, 260, 100), nil),
	}
	s.Compose()
	s.Choose()
	path := filepath.Join(t.TempDir(), "sweep-llamacpp.json")
	require.NoError(t, s.WriteFile(path))

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(data, &raw))
	assert.Equal(t, "fakbench.sweep/v2", raw["schema"])
	assert.NotContains(t, raw, "tuned", "the composite is not presented as the tuned row")
	assert.Equal(t, "best of 2 configurations per section; not one measured configuration", raw["composite_label"])
	assert.Contains(t, raw, "composite")
	assert.Contains(t, raw, "composite_choices")
	chosen, ok := raw["chosen"].(map[string]any)
	require.True(t, ok, "chosen is an object")
	assert.Equal(t, cs[0].Name, chosen["config"].(map[string]any)["name"])
	assert.Contains(t, raw["objective"], "geometric mean")

	back, err := ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, s.Chosen, back.Chosen)
	assert.InDelta(t, s.Results[1].Score, back.Results[1].Score, 1e-12)
}
