package report

import (
	"math"
	"slices"
)

// Median returns the middle value of xs (the mean of the two middle values
// for an even count), or 0 for no samples. xs is not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// Mean returns the arithmetic mean of xs, or 0 for no samples.
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// Stddev returns the sample standard deviation of xs (divisor n-1), or 0 for
// fewer than two samples.
func Stddev(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	m := Mean(xs)
	var ss float64
	for _, x := range xs {
		d := x - m
		ss += d * d
	}
	return math.Sqrt(ss / float64(len(xs)-1))
}

// Summarize returns the statistics of xs for a report, or nil for no samples.
func Summarize(xs []float64) *Stats {
	if len(xs) == 0 {
		return nil
	}
	return &Stats{
		N:      len(xs),
		Median: Median(xs),
		Min:    slices.Min(xs),
		Max:    slices.Max(xs),
		Mean:   Mean(xs),
		Stddev: Stddev(xs),
	}
}
