package bench

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/fakbench/fakbench/models"
	"github.com/fakbench/fakbench/report"
)

// A row that never reached the harness (skipped, failed to load, its
// process died) compared nothing: first_divergence is -1 (none), never 0
// (a divergence at the first token).
func TestBaseReportComparedNothing(t *testing.T) {
	r := baseReport(Options{}, models.Resolved{Name: "m"}, &opened{name: "gokernel", kind: report.KindKernel})
	assert.Equal(t, report.NoDivergence, r.WarmChangedSuffix.FirstDivergence)
	assert.Equal(t, report.NoDivergence, r.EditedStable.FirstDivergence)
}
