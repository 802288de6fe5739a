package report

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMinSamples(t *testing.T) {
	assert.Equal(t, 2, MinSamples(50))
	assert.Equal(t, 10, MinSamples(90))
	assert.Equal(t, 100, MinSamples(99))
	assert.Equal(t, 4, MinSamples(75))
	assert.Equal(t, math.MaxInt, MinSamples(100), "no finite sample states the 100th percentile as a percentile")
	assert.Equal(t, math.MaxInt, MinSamples(0))
}

func TestPercentileInterpolates(t *testing.T) {
	xs := []float64{4, 1, 3, 2} // sorted: 1 2 3 4
	assert.InDelta(t, 2.5, Percentile(xs, 50), 1e-12)
	assert.InDelta(t, 1.0, Percentile(xs, 0), 1e-12)
	assert.InDelta(t, 4.0, Percentile(xs, 100), 1e-12)
	assert.InDelta(t, 3.7, Percentile(xs, 90), 1e-12) // h = 2.7: 3 + 0.7
	assert.Equal(t, []float64{4, 1, 3, 2}, xs, "the input is not modified")
	assert.Equal(t, 0.0, Percentile(nil, 50))
	assert.Equal(t, 7.0, Percentile([]float64{7}, 99))
}

func TestNewDistWithholdsWhatTooFewSamplesCannotSay(t *testing.T) {
	assert.Nil(t, NewDist(nil))

	// 32 samples: p50 and p90 stated, p99 withheld with the count.
	var xs []float64
	for i := range 32 {
		xs = append(xs, float64(i+1))
	}
	d := NewDist(xs)
	require.NotNil(t, d)
	assert.Equal(t, 32, d.N)
	assert.InDelta(t, 16.5, d.P50, 1e-12)
	assert.InDelta(t, 28.9, d.P90, 1e-9) // h = 27.9
	assert.Zero(t, d.P99)
	assert.Equal(t, 32.0, d.Max)
	assert.InDelta(t, 16.5, d.Mean, 1e-12)
	assert.InDelta(t, math.Sqrt(32*33/12.0), d.Stddev, 1e-9)
	assert.Equal(t, []string{"p99: 32 samples, needs 100"}, d.Withheld)
	v, ok := d.Get(90)
	assert.True(t, ok)
	assert.InDelta(t, 28.9, v, 1e-9)
	_, ok = d.Get(99)
	assert.False(t, ok)
	assert.Equal(t, "n=32 < 100", d.Shortfall(99))
	assert.Equal(t, "", d.Shortfall(50))

	// One sample: a maximum and a mean, no percentile, no spread.
	one := NewDist([]float64{3})
	assert.Equal(t, 3.0, one.Max)
	assert.Zero(t, one.Stddev)
	assert.Len(t, one.Withheld, 3)
	_, ok = one.Get(50)
	assert.False(t, ok)

	// A nil Dist answers as one with nothing.
	var none *Dist
	_, ok = none.Get(50)
	assert.False(t, ok)
	assert.Equal(t, "", none.Shortfall(99))
}

func TestPerRep(t *testing.T) {
	reps := [][]float64{{1, 2, 3}, {10}, {4, 5, 6, 7}}
	assert.Equal(t, []float64{2, 5.5}, PerRep(reps, 50), "a repetition of one sample states no median")
	assert.Equal(t, []float64{3, 10, 7}, PerRep(reps, 100), "every repetition has a maximum")
	assert.Empty(t, PerRep(reps, 90), "no repetition has 10 samples")
	assert.Equal(t, []float64{1, 2, 3, 10, 4, 5, 6, 7}, Pooled(reps))
}

func TestSamplesOfInterTokenPercentiles(t *testing.T) {
	r := &Report{}
	var rep []float64
	for i := range 20 {
		rep = append(rep, float64(i))
	}
	r.Decode.InterTokenSamplesMS = [][]float64{rep, rep}
	assert.Equal(t, []float64{9.5, 9.5}, Samples(r, "decode.inter_token_ms.p50"))
	assert.Len(t, Samples(r, "decode.inter_token_ms.p90"), 2)
	assert.Empty(t, Samples(r, "decode.inter_token_ms.p99"), "20 tokens per repetition state no p99")
	assert.Equal(t, []float64{19, 19}, Samples(r, "decode.inter_token_ms.max"))
	assert.Len(t, Samples(r, "decode.inter_token_ms.stddev"), 2)
	assert.Nil(t, Samples(r, "decode.inter_token_ms.p12x"))
	assert.Equal(t, []float64{1000, 500}, Rates(10, []float64{10, 20, 0}))
}
