package harness_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters/conformance/fake"
	"github.com/fakbench/fakbench/report"
)

// edited_stable_segment keeps its TTFT samples and statistics, as
// cold_full_prefill does: ttft_ms is a headline figure.
func TestRunKeepsEditedTTFTSamples(t *testing.T) {
	rep := runFake(t, fake.Config{}) // 2 kept repetitions
	e := rep.EditedStable
	require.Len(t, e.SamplesMS, 2)
	require.Len(t, e.TTFTSamplesMS, 2, "one TTFT per kept repetition")
	assert.Equal(t, report.Median(e.TTFTSamplesMS), e.TTFTMS)
	for i := range e.TTFTSamplesMS {
		assert.GreaterOrEqual(t, e.TTFTSamplesMS[i], e.SamplesMS[i], "repetition %d: TTFT includes the prefix", i)
	}
	require.NotNil(t, e.Stats)
	assert.Equal(t, 2, e.Stats.N)
	assert.Equal(t, e.MS, e.Stats.Median)
}
