package report

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Sections that did not run keep their place in the JSON (the contract's
// zero values) with not_run saying why, are shown as "not run", left out of
// checks and headlines, and listed in report.md with why.
func TestNotRunSections(t *testing.T) {
	r := &Report{Backend: "b", Decode: Decode{TokensPerSec: 5}}
	r.Status = StatusInterrupted
	r.NotRun = map[string]string{"decode": "interrupted", "failure_cases.cancel_decode": "interrupted"}
	r.WarmSamePrefix.HitRate = 1
	r.WarmChangedSuffix.OutputEqualsCold = true
	r.EditedStable = EditedStable{ExpectedCacheMiss: true, ActualCacheMiss: true, OutputEqualsCold: true}
	r.FailureCases.OverContext = true

	// The contract keeps the section, zero-valued; not_run says why.
	data, err := json.Marshal(r)
	require.NoError(t, err)
	var back Report
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, r.NotRun, back.NotRun)
	assert.Contains(t, string(data), `"decode":{`)
	assert.Contains(t, string(data), `"cancel_decode":false`)

	assert.Empty(t, CorrectnessFailures(r), "cancel_decode false but not run: no failure")
	r.FailureCases.OverContext = false
	assert.Equal(t, []string{"failure_cases.over_context = false"}, CorrectnessFailures(r), "what ran still counts")

	m := decodeMetric(t)
	_, ok := m.Value(r)
	assert.False(t, ok, "a section that did not run has no figure")
	assert.Equal(t, "not run", m.Format(r))
	assert.False(t, completed(r), "an interrupted row enters no headline")

	md := Markdown([]*Report{r})
	assert.Contains(t, md, "## Interrupted rows")
	assert.Contains(t, md, "- b: interrupted; not run: decode (interrupted), failure_cases.cancel_decode (interrupted)")
}

func decodeMetric(t *testing.T) Metric {
	for _, m := range Metrics(nil) {
		if m.Key == "decode.tokens_per_sec" {
			return m
		}
	}
	t.Fatal("no decode.tokens_per_sec metric")
	return Metric{}
}
