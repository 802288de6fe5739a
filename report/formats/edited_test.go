package formats

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/report"
)

// The edited-segment TTFT, a headline metric, carries its samples as the
// other TTFTs do.
func TestEditedTTFTCarriesSamples(t *testing.T) {
	r := row("gokernel", report.KindKernel, 1)
	r.EditedStable.TTFTMS, r.EditedStable.TTFTSamplesMS = 40, []float64{38, 40, 45}
	var got *Measurement
	ms := Measurements([]*report.Report{r})
	for i := range ms {
		if ms[i].Key == "edited_stable_segment.ttft_ms" {
			got = &ms[i]
		}
	}
	require.NotNil(t, got, "edited_stable_segment.ttft_ms is a measurement")
	assert.Equal(t, 40.0, got.Value)
	assert.Equal(t, []float64{38, 40, 45}, got.Samples)
}
