package report

import (
	"fmt"
	"math"
	"slices"
)

// Percentiles are the latency percentiles a Dist states (p50, p90, p99).
var Percentiles = []int{50, 90, 99}

// MinSamples is the fewest samples from which the p-th percentile is
// stated: ceil(100/(100-p)), so that at least one sample lies above it
// (p50: 2, p90: 10, p99: 100). With fewer, a Dist withholds the percentile
// and says how many samples it had: a p99 of 20 samples is their maximum
// under another name.
func MinSamples(p int) int {
	if p <= 0 || p >= 100 {
		return math.MaxInt
	}
	return (100 + (100 - p) - 1) / (100 - p)
}

// PercentileRule states MinSamples in words, for reports and documents.
const PercentileRule = "a percentile p is stated only from at least ceil(100/(100-p)) samples (p50: 2, p90: 10, p99: 100), so that at least one sample lies above it; with fewer it is withheld and the sample count is given; percentiles interpolate linearly between the closest ranks"

// Dist summarizes a latency distribution (in the unit its JSON key names,
// milliseconds throughout the report): the count, the percentiles the
// count supports (PercentileRule), the maximum, mean and sample standard
// deviation.
type Dist struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50,omitempty"`
	P90 float64 `json:"p90,omitempty"`
	P99 float64 `json:"p99,omitempty"`
	Max float64 `json:"max"`
	// Mean and Stddev (divisor n-1; 0 for one sample).
	Mean   float64 `json:"mean"`
	Stddev float64 `json:"stddev"`
	// Withheld names each percentile too few samples support, with the
	// count: "p99: 32 samples, needs 100".
	Withheld []string `json:"withheld,omitempty"`
}

// Percentile returns the p-th percentile (0 <= p <= 100) of xs, linearly
// interpolated between the closest ranks (the definition of numpy's and
// R's default), or 0 for no samples. xs is not modified.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return sortedPercentile(s, p)
}

func sortedPercentile(s []float64, p float64) float64 {
	h := (float64(len(s)) - 1) * math.Max(0, math.Min(100, p)) / 100
	lo := int(math.Floor(h))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}

// NewDist summarizes xs, or returns nil for no samples.
func NewDist(xs []float64) *Dist {
	if len(xs) == 0 {
		return nil
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	d := &Dist{N: len(s), Max: s[len(s)-1]}
	for _, p := range Percentiles {
		if len(s) < MinSamples(p) {
			d.Withheld = append(d.Withheld, fmt.Sprintf("p%d: %d sample%s, needs %d", p, len(s), plural(len(s)), MinSamples(p)))
			continue
		}
		*d.field(p) = sortedPercentile(s, float64(p))
	}
	d.Mean, d.Stddev = Mean(s), Stddev(s)
	return d
}

func (d *Dist) field(p int) *float64 {
	switch p {
	case 50:
		return &d.P50
	case 90:
		return &d.P90
	case 99:
		return &d.P99
	}
	return nil
}

// Get returns the p-th percentile (one of Percentiles) and whether d
// states it.
func (d *Dist) Get(p int) (float64, bool) {
	if d == nil || d.N < MinSamples(p) {
		return 0, false
	}
	f := d.field(p)
	if f == nil {
		return 0, false
	}
	return *f, true
}

// Shortfall says why d does not state the p-th percentile, in a table
// cell's few words ("n=32 < 100"), or "" when it does or d is nil.
func (d *Dist) Shortfall(p int) string {
	if d == nil || d.N >= MinSamples(p) {
		return ""
	}
	return fmt.Sprintf("n=%d < %d", d.N, MinSamples(p))
}

// Pooled concatenates per-repetition samples into one slice.
func Pooled(reps [][]float64) []float64 {
	var out []float64
	for _, r := range reps {
		out = append(out, r...)
	}
	return out
}

// PerRep returns the p-th percentile of each repetition's samples, for
// the repetitions that have enough samples to state it (MinSamples); p
// 100 is each repetition's maximum. These are the samples a comparison
// across runs judges a percentile on, and the benchstat format's extra
// units.
func PerRep(reps [][]float64, p int) []float64 {
	var out []float64
	for _, r := range reps {
		if len(r) == 0 || (p < 100 && len(r) < MinSamples(p)) {
			continue
		}
		out = append(out, Percentile(r, float64(p)))
	}
	return out
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
