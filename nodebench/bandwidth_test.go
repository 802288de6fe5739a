package nodebench

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/internal/host"
	"github.com/fakbench/fakbench/report"
)

// The node bench measures the bandwidth with the measurer and statistic
// fakbench run uses, and records the statistic and every sample in the
// manifest's host section as well as in its memory_bandwidth.
func TestMeasureBandwidthOneStatistic(t *testing.T) {
	var h report.Host
	b := measureBandwidth(1, true, &h)
	require.Len(t, b.SamplesGB, host.BandwidthPasses)
	sorted := slices.Clone(b.SamplesGB)
	slices.Sort(sorted)
	assert.Equal(t, sorted[len(sorted)/2], b.GBs, "the median of the samples")
	assert.Equal(t, host.BandwidthBytes(true), b.Bytes)
	assert.Contains(t, b.Method, host.BandwidthStatistic)
	assert.Equal(t, b.GBs, h.MemBWGBs)
	assert.Equal(t, host.BandwidthStatistic, h.MemBWStatistic)
	assert.Equal(t, b.SamplesGB, h.MemBWSamplesGBs)
}
