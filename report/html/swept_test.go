package html

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/report"
)

// The page's headline names the configuration a swept reference is and
// where its sweep is kept.
func TestRenderNamesTheChosenConfiguration(t *testing.T) {
	run := fixtureRun()
	for _, r := range run.Rows {
		if r.RowKind == report.KindTunedReference {
			r.Swept = &report.Swept{Config: "flash_attn=off", Objective: "the highest geometric mean", Score: 1,
				Configurations: 2, Eligible: 2, File: "sweep-llamacpp.json"}
		}
	}
	var buf bytes.Buffer
	require.NoError(t, Render(&buf, Page{Title: "t", Runs: []Run{run}}))
	page := buf.String()
	assert.Contains(t, page, "every row one configuration, measured in this run")
	assert.Contains(t, page, `<p class="note">llamacpp is one configuration, flash_attn=off, chosen from a sweep of 2 configurations (2 passed every check) by the objective: the highest geometric mean (its score 1); it was measured in this run like every row. Every configuration&#39;s report is kept in sweep-llamacpp.json`)
}
