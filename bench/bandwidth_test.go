package bench

import (
	"io"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/internal/host"
	"github.com/fakbench/fakbench/report"
)

// fakbench run and tune measure the bandwidth as the node bench does (the
// median of 5 single passes) and the host section says so, with every
// sample; a bandwidth given with --membw says it was given.
func TestMeasureHostBandwidth(t *testing.T) {
	h := measureHost(Options{Short: true, Threads: 1}, "run", io.Discard)
	require.Len(t, h.MemBWSamplesGBs, host.BandwidthPasses)
	assert.Equal(t, host.BandwidthStatistic, h.MemBWStatistic)
	sorted := slices.Clone(h.MemBWSamplesGBs)
	slices.Sort(sorted)
	assert.Equal(t, sorted[len(sorted)/2], h.MemBWGBs, "the median, not the best pass")
	assert.Positive(t, h.MemBWGBs)

	h = measureHost(Options{MemBW: 12.5}, "run", io.Discard)
	assert.Equal(t, 12.5, h.MemBWGBs)
	assert.Equal(t, report.GivenBandwidth, h.MemBWStatistic)
	assert.Empty(t, h.MemBWSamplesGBs)

	h = measureHost(Options{MemBW: -1}, "run", io.Discard)
	assert.Zero(t, h.MemBWGBs)
	assert.Empty(t, h.MemBWStatistic)
}
