package report

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Sections that did not run are null in the JSON (keys in their order),
// shown as "not run", left out of checks and headlines, and listed in
// report.md with why.
func TestNotRunSections(t *testing.T) {
	r := &Report{Backend: "b", Decode: Decode{TokensPerSec: 5}}
	r.Status = StatusInterrupted
	r.NotRun = map[string]string{"decode": "interrupted", "failure_cases.cancel_decode": "interrupted"}
	r.WarmSamePrefix.HitRate = 1
	r.WarmChangedSuffix.OutputEqualsCold = true
	r.EditedStable = EditedStable{ExpectedCacheMiss: true, ActualCacheMiss: true, OutputEqualsCold: true}
	r.FailureCases.OverContext = true

	data, err := json.Marshal(r)
	require.NoError(t, err)
	s := string(data)
	assert.Contains(t, s, `"decode":null`)
	assert.Contains(t, s, `"cancel_decode":null`)
	assert.Contains(t, s, `"over_context":true`)
	assert.Less(t, strings.Index(s, `"model"`), strings.Index(s, `"decode"`), "the keys keep their order")
	assert.Less(t, strings.Index(s, `"decode"`), strings.Index(s, `"failure_cases"`))
	indented, err := json.MarshalIndent(r, "", "  ")
	require.NoError(t, err)
	assert.Contains(t, string(indented), "\"decode\": null")

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
