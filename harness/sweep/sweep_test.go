package sweep

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/report"
)

// fakeReport is a passing report with the given figures.
func fakeReport(prefillTPS, warmSame, warmChanged, edited, decode float64, curve ...float64) *report.Report {
	r := &report.Report{Backend: "llamacpp", Model: "m"}
	r.Status = report.StatusOK
	r.RowKind = report.KindTunedReference
	r.ColdFullPrefill = report.ColdPrefill{Tokens: 100, PromptTPS: prefillTPS, MS: 100000 / prefillTPS, SamplesMS: []float64{1, 2}}
	r.WarmSamePrefix = report.WarmSame{CachedTokens: 100, TTFTMS: warmSame, HitRate: 1}
	r.WarmChangedSuffix = report.WarmChanged{TTFTMS: warmChanged, OutputEqualsCold: true}
	r.EditedStable = report.EditedStable{ExpectedCacheMiss: true, ActualCacheMiss: true, OutputEqualsCold: true, TTFTMS: edited}
	r.Decode = report.Decode{OutputTokens: 32, TokensPerSec: decode}
	r.FailureCases = report.FailureCases{OverContext: true, CancelDecode: true}
	for i, v := range curve {
		r.SuffixTTFTCurve = append(r.SuffixTTFTCurve, report.SuffixTTFT{SuffixTokens: []int{1, 16, 64}[i], TTFTMS: v})
	}
	r.Settings = map[string]string{"flash_attn": "on", "n_ubatch": "512", "threads": "2", "n_batch": "2048"}
	r.Notes = []string{"base note"}
	return r
}

// testGrid is a two-axis, four-configuration grid the composition tests use.
func testGrid() Grid {
	return Grid{{Key: "flash_attn", Values: []string{"on", "off"}}, {Key: "n_ubatch", Values: []string{"256", "512"}}}
}

func configs(t *testing.T) []Config {
	t.Helper()
	cs := testGrid().Configs()
	require.Len(t, cs, 4)
	return cs
}

func TestGridParseAndConfigs(t *testing.T) {
	g, err := ParseGrid(" flash_attn = on, off ; n_ubatch=256,512;")
	require.NoError(t, err)
	assert.Equal(t, testGrid(), g)
	assert.Equal(t, "flash_attn=on,off;n_ubatch=256,512", g.String())
	cs := g.Configs()
	require.Len(t, cs, 4)
	assert.Equal(t, "flash_attn=on n_ubatch=256", cs[0].Name)
	assert.Equal(t, map[string]string{"flash_attn": "on", "n_ubatch": "256"}, cs[0].Extra)
	assert.Equal(t, "flash_attn=off n_ubatch=512", cs[3].Name)
	assert.Equal(t, map[string]string{"flash_attn": "off", "n_ubatch": "512"}, cs[3].Extra)

	one, err := ParseGrid("type_k=f16")
	require.NoError(t, err)
	assert.Len(t, one.Configs(), 1)

	for in, want := range map[string]string{
		"":                      "grid is empty",
		" ; ":                   "grid is empty",
		"flash_attn":            `grid item "flash_attn": want key=value`,
		"=on":                   "want key=value",
		"flash_attn=":           `grid key "flash_attn" has no values`,
		"a=1;a=2":               `grid names "a" twice`,
		"a=1,1":                 `grid key "a" lists "1" twice`,
		"flash attn=on":         "has a blank or comma",
		"flash_attn=on,off;n_u": `grid item "n_u"`,
	} {
		_, err := ParseGrid(in)
		assert.ErrorContains(t, err, want, "grid %q", in)
	}
}

func TestComposePicksBestPerSection(t *testing.T) {
	cs := configs(t)
	s := &Sweep{Backend: "llamacpp", Threads: 2, Grid: testGrid(), ThreadsNote: "threads fixed at 2"}
	// Config 0 wins decode and the first curve point, config 1 prefill,
	// config 2 the warm TTFTs and the last curve point, config 3 edited.
	s.Results = []Result{
		Evaluate(cs[0], fakeReport(400, 5, 20, 300, 120, 1.0, 30, 90), nil),
		Evaluate(cs[1], fakeReport(500, 6, 21, 280, 100, 2.0, 25, 95), nil),
		Evaluate(cs[2], fakeReport(450, 4, 18, 290, 110, 1.5, 28, 80), nil),
		Evaluate(cs[3], fakeReport(420, 7, 22, 250, 90, 3.0, 26, 85), nil),
	}
	s.Compose()
	require.NotNil(t, s.Composite)
	tr := s.Composite
	assert.Equal(t, 500.0, tr.ColdFullPrefill.PromptTPS)
	assert.Equal(t, 4.0, tr.WarmSamePrefix.TTFTMS)
	assert.Equal(t, 18.0, tr.WarmChangedSuffix.TTFTMS)
	assert.Equal(t, 250.0, tr.EditedStable.TTFTMS)
	assert.Equal(t, 120.0, tr.Decode.TokensPerSec)
	require.Len(t, tr.SuffixTTFTCurve, 3)
	assert.Equal(t, []float64{1.0, 25, 80}, []float64{tr.SuffixTTFTCurve[0].TTFTMS, tr.SuffixTTFTCurve[1].TTFTMS, tr.SuffixTTFTCurve[2].TTFTMS})
	assert.Empty(t, report.CorrectnessFailures(tr), "the composed row passes the checks its sections passed")

	// The sources' reports are untouched.
	assert.Equal(t, 400.0, s.Results[0].Report.ColdFullPrefill.PromptTPS)
	assert.Equal(t, []string{"base note"}, s.Results[0].Report.Notes)

	byID := map[string]Choice{}
	for _, c := range s.CompositeChoices {
		byID[c.Section] = c
	}
	assert.Equal(t, cs[1].Name, byID["cold_full_prefill"].Config)
	assert.Equal(t, "highest prompt_tps", byID["cold_full_prefill"].Criterion)
	assert.Equal(t, map[string]float64{cs[0].Name: 400, cs[2].Name: 450, cs[3].Name: 420}, byID["cold_full_prefill"].Others)
	assert.Equal(t, cs[2].Name, byID["warm_same_prefix"].Config)
	assert.Equal(t, cs[2].Name, byID["warm_changed_suffix"].Config)
	assert.Equal(t, cs[3].Name, byID["edited_stable_segment"].Config)
	assert.Equal(t, cs[0].Name, byID["decode"].Config)
	assert.Equal(t, cs[0].Name, byID["suffix_ttft_curve[1]"].Config)
	assert.Equal(t, cs[1].Name, byID["suffix_ttft_curve[16]"].Config)
	assert.Equal(t, cs[2].Name, byID["suffix_ttft_curve[64]"].Config)

	notes := strings.Join(tr.Notes, "\n")
	assert.Contains(t, notes, "composite: cold_full_prefill from flash_attn=on n_ubatch=512 (highest prompt_tps: 500")
	assert.Contains(t, notes, "composite: decode from flash_attn=on n_ubatch=256 (highest tokens_per_sec: 120")
	assert.Contains(t, notes, "suffix_ttft_curve at 64 suffix tokens from flash_attn=off n_ubatch=256")
	assert.Contains(t, notes, "composed from a sweep of 4 configurations (flash_attn=on,off;n_ubatch=256,512), 4 eligible; threads fixed at 2")
	assert.Contains(t, notes, "[flash_attn=on n_ubatch=256] base note")

	// Settings say which settings won where.
	st := tr.Settings
	assert.Equal(t, "per section: off (edited_stable_segment, warm_changed_suffix, warm_same_prefix); on (cold_full_prefill, decode)", st["flash_attn"])
	assert.Equal(t, "per section: 256 (decode, warm_changed_suffix, warm_same_prefix); 512 (cold_full_prefill, edited_stable_segment)", st["n_ubatch"])
	assert.Equal(t, cs[1].Name, st["sweep.cold_full_prefill"])
	assert.Contains(t, st["sweep.suffix_ttft_curve"], "flash_attn=off n_ubatch=256 (1 points)")
	assert.Contains(t, st["sweep"], "best of 4 configurations per section; not one measured configuration")
	assert.Equal(t, "2048", st["n_batch"], "unswept settings stay")

	table := s.Table()
	assert.Contains(t, table, "500 *")
	assert.Contains(t, table, "cold_full_prefill: flash_attn=on n_ubatch=512 (highest prompt_tps 500)")
}

func TestComposeAgreeingSettingsAndTies(t *testing.T) {
	cs := configs(t)
	s := &Sweep{Grid: testGrid()}
	// Identical figures: ties go to the first configuration everywhere.
	for _, c := range cs {
		s.Results = append(s.Results, Evaluate(c, fakeReport(400, 5, 20, 300, 100, 1, 2, 3), nil))
	}
	s.Compose()
	require.NotNil(t, s.Composite)
	for _, c := range s.CompositeChoices {
		assert.Equal(t, cs[0].Name, c.Config, c.Section)
	}
	assert.Equal(t, "on", s.Composite.Settings["flash_attn"])
	assert.Equal(t, "256", s.Composite.Settings["n_ubatch"])
}

func TestComposeExcludesFailedConfigs(t *testing.T) {
	cs := configs(t)
	bad := fakeReport(9000, 0.1, 0.1, 0.1, 9000, 0.1, 0.1, 0.1) // fastest everywhere, but wrong
	bad.WarmChangedSuffix.OutputEqualsCold = false
	failed := fakeReport(9000, 0.1, 0.1, 0.1, 9000)
	failed.Status = report.StatusFailed
	s := &Sweep{Grid: testGrid()}
	s.Results = []Result{
		Evaluate(cs[0], bad, nil),
		Evaluate(cs[1], fakeReport(400, 5, 20, 300, 100, 1, 2, 3), nil),
		Evaluate(cs[2], nil, errors.New("open: out of memory")),
		Evaluate(cs[3], failed, nil),
	}
	assert.True(t, s.Results[0].Excluded)
	assert.Contains(t, s.Results[0].ExcludedReason, "correctness check failed: warm_changed_suffix.output_equals_cold = false")
	assert.Equal(t, "not measured: open: out of memory", s.Results[2].ExcludedReason)
	assert.Contains(t, s.Results[3].ExcludedReason, `the run failed (status "failed"`)
	assert.False(t, s.Results[1].Excluded)

	s.Compose()
	require.NotNil(t, s.Composite)
	assert.Equal(t, 400.0, s.Composite.ColdFullPrefill.PromptTPS, "the excluded configuration's figures are not used")
	assert.Equal(t, 100.0, s.Composite.Decode.TokensPerSec)
	for _, c := range s.CompositeChoices {
		assert.Equal(t, cs[1].Name, c.Config)
		assert.Empty(t, c.Others, "excluded configurations are not candidates")
	}
	notes := strings.Join(s.Composite.Notes, "\n")
	assert.Contains(t, notes, "configuration flash_attn=on n_ubatch=256 excluded: correctness check failed")
	assert.Contains(t, notes, "configuration flash_attn=off n_ubatch=256 excluded: not measured: open: out of memory")
	assert.Contains(t, notes, "4 configurations (flash_attn=on,off;n_ubatch=256,512), 1 eligible")
	assert.Len(t, s.Notes, 3)
	assert.NotContains(t, s.Table(), "9000 *")
	assert.Contains(t, s.Table(), "excluded: not measured: open: out of memory")
}

func TestComposeNothingEligible(t *testing.T) {
	cs := configs(t)
	s := &Sweep{Grid: testGrid()}
	bad := fakeReport(1, 1, 1, 1, 1)
	bad.FailureCases.CancelDecode = false
	s.Results = []Result{Evaluate(cs[0], bad, nil), Evaluate(cs[1], nil, nil)}
	s.Compose()
	assert.Nil(t, s.Composite)
	assert.Empty(t, s.CompositeChoices)
	assert.Contains(t, strings.Join(s.Notes, "\n"), "no configuration of the 2 swept passed its correctness checks")
	assert.Equal(t, "not measured: no report", s.Results[1].ExcludedReason)
}

func TestComposeUnmeasuredSection(t *testing.T) {
	cs := configs(t)
	s := &Sweep{Grid: testGrid()}
	a := fakeReport(400, 5, 20, 0, 100)
	b := fakeReport(500, 6, 21, 0, 90)
	s.Results = []Result{Evaluate(cs[0], a, nil), Evaluate(cs[1], b, nil)}
	s.Compose()
	require.NotNil(t, s.Composite)
	assert.Contains(t, strings.Join(s.Composite.Notes, "\n"), "edited_stable_segment was measured by no eligible configuration")
	assert.Empty(t, s.Composite.SuffixTTFTCurve)
	assert.Equal(t, 500.0, s.Composite.ColdFullPrefill.PromptTPS)
}

func TestRunKeepsEveryConfigAndWritesFile(t *testing.T) {
	var seen []string
	s, err := Run(context.Background(), "llamacpp", testGrid(), 2, func(ctx context.Context, c Config) (*report.Report, error) {
		seen = append(seen, c.Name)
		switch c.Extra["flash_attn"] + "/" + c.Extra["n_ubatch"] {
		case "on/512":
			return nil, errors.New("device lost")
		case "off/256":
			return fakeReport(800, 3, 10, 100, 150), nil
		}
		return fakeReport(400, 5, 20, 300, 100), nil
	})
	require.NoError(t, err)
	assert.Len(t, seen, 4)
	require.Len(t, s.Results, 4)
	assert.True(t, s.Results[1].Excluded)
	require.NotNil(t, s.Composite)
	assert.Equal(t, 800.0, s.Composite.ColdFullPrefill.PromptTPS)
	require.NotNil(t, s.Chosen, "Run chooses a configuration")
	assert.Equal(t, "flash_attn=off n_ubatch=256", s.Chosen.Config.Name)
	assert.Contains(t, s.ThreadsNote, "threads fixed at 2")
	assert.NotEmpty(t, s.StartedAt)
	assert.NotEmpty(t, s.FinishedAt)

	path := filepath.Join(t.TempDir(), "sweep-llamacpp.json")
	require.NoError(t, s.WriteFile(path))
	back, err := ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, s.CompositeChoices, back.CompositeChoices)
	assert.Len(t, back.Results, 4)
	assert.Equal(t, "llamacpp", back.Backend)
	// The sweep file is not mistaken for a backend report.
	_, err = report.ReadJSON(path)
	assert.ErrorContains(t, err, `has no "backend" field`)

	_, err = ReadFile(filepath.Join(t.TempDir(), "none.json"))
	assert.ErrorContains(t, err, "none.json")
	other := filepath.Join(t.TempDir(), "other.json")
	require.NoError(t, report.WriteFileAtomic(other, []byte(`{"schema":"x"}`)))
	_, err = ReadFile(other)
	assert.ErrorContains(t, err, `schema "x"`)
	require.NoError(t, report.WriteFileAtomic(other, []byte(`[1,2]`)))
	_, err = ReadFile(other)
	assert.ErrorContains(t, err, "not a sweep JSON object")
}

func TestRunInterruptedAndEmpty(t *testing.T) {
	_, err := Run(context.Background(), "x", nil, 1, nil)
	assert.ErrorContains(t, err, "empty grid")

	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	s, err := Run(ctx, "llamacpp", testGrid(), 2, func(ctx context.Context, c Config) (*report.Report, error) {
		n++
		if n == 2 {
			cancel()
			return nil, ctx.Err()
		}
		return fakeReport(400, 5, 20, 300, 100), nil
	})
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "sweep interrupted in flash_attn=on n_ubatch=512")
	require.NotNil(t, s)
	assert.Len(t, s.Results, 2)
	assert.Nil(t, s.Composite, "an interrupted sweep composes nothing")
	assert.Nil(t, s.Chosen, "an interrupted sweep chooses nothing")
}
