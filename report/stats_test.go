package report

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStatsKnownValues(t *testing.T) {
	xs := []float64{4, 1, 3, 2, 10}
	assert.Equal(t, 3.0, Median(xs))
	assert.Equal(t, []float64{4, 1, 3, 2, 10}, xs, "Median must not reorder its input")
	assert.Equal(t, 4.0, Mean(xs))
	// Sample variance: (0+9+1+4+36)/4 = 12.5.
	assert.InDelta(t, math.Sqrt(12.5), Stddev(xs), 1e-12)

	assert.Equal(t, 2.5, Median([]float64{1, 2, 3, 4}), "even count takes the mean of the middle two")
	assert.Equal(t, 7.0, Median([]float64{7}))
	assert.Equal(t, 0.0, Stddev([]float64{7}), "one sample has no spread")
}

func TestStatsEmpty(t *testing.T) {
	for name, f := range map[string]func([]float64) float64{
		"median": Median, "mean": Mean, "stddev": Stddev,
	} {
		assert.Equal(t, 0.0, f(nil), name)
	}
	assert.Nil(t, Summarize(nil))
}

func TestSummarize(t *testing.T) {
	s := Summarize([]float64{2, 4, 4, 4, 5, 5, 7, 9})
	require.NotNil(t, s)
	assert.Equal(t, 8, s.N)
	assert.Equal(t, 4.5, s.Median)
	assert.Equal(t, 2.0, s.Min)
	assert.Equal(t, 9.0, s.Max)
	assert.Equal(t, 5.0, s.Mean)
	assert.InDelta(t, math.Sqrt(32.0/7), s.Stddev, 1e-12)
}
