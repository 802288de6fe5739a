package html

import (
	"fmt"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/fakbench/fakbench/report"
)

// latencyChart draws each row's inter-token latency distribution as an
// empirical CDF over every kept decode token, with its p50, p90 and p99
// marked where the row states them.
func latencyChart(rows []*report.Report) (Chart, error) {
	ch := Chart{ID: "itl-cdf", Title: "Inter-token latency distribution (decode)",
		Caption: "Cumulative distribution of the time between two decoded tokens as a streaming client receives them, every token of every kept repetition; the marks are p50, p90 and p99 where the row has the samples for them (" + report.PercentileRule + "). Further left is faster; a long flat tail to the right is jitter."}
	p := newPlot("inter-token latency (ms)", "fraction of tokens")
	lo, hi := 0.0, 0.0
	for i, r := range rows {
		xs := report.Pooled(r.Decode.InterTokenSamplesMS)
		if len(xs) == 0 {
			continue
		}
		slices.Sort(xs)
		pts := make(plotter.XYs, 0, 2*len(xs))
		for k, v := range xs {
			// A step per sample: the fraction rises at each value.
			pts = append(pts, plotter.XY{X: v, Y: float64(k) / float64(len(xs))}, plotter.XY{X: v, Y: float64(k+1) / float64(len(xs))})
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return ch, fmt.Errorf("inter-token latency of %s: %w", rowName(r), err)
		}
		l.Color = colorFor(i)
		l.Width = vg.Points(1.5)
		p.Add(l)
		var marks plotter.XYs
		for _, q := range report.Percentiles {
			if v, ok := r.Decode.InterTokenMS.Get(q); ok {
				marks = append(marks, plotter.XY{X: v, Y: float64(q) / 100})
			}
		}
		if len(marks) > 0 {
			s, err := plotter.NewScatter(marks)
			if err != nil {
				return ch, fmt.Errorf("inter-token percentiles of %s: %w", rowName(r), err)
			}
			s.Color = colorFor(i)
			s.Shape = draw.CircleGlyph{}
			s.Radius = vg.Points(3)
			p.Add(s)
			p.Legend.Add(rowName(r), l, s)
		} else {
			p.Legend.Add(rowName(r), l)
		}
		if ch.Points == 0 || xs[0] < lo {
			lo = xs[0]
		}
		hi = max(hi, xs[len(xs)-1])
		ch.Points += len(xs)
	}
	// A logarithmic axis when the tail reaches far past the body, so both
	// stay readable.
	if lo > 0 && hi/lo > 20 {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		p.X.Label.Text += ", log scale"
	}
	p.Y.Min, p.Y.Max = 0, 1.25
	p.Legend.Left = false
	return ch.render(p, "No backend in this run kept inter-token latencies.")
}

// memoryChart draws each row's resident memory per phase, with the KV
// cache computed from its settings beside the session's measured growth.
func memoryChart(rows []*report.Report) (Chart, error) {
	cats := []string{"after load", "after prefill", "end of decode", "peak", "KV computed", "KV measured"}
	var with []*report.Report
	for _, r := range rows {
		if r.Memory != nil || r.PeakRSSMB > 0 {
			with = append(with, r)
		}
	}
	ch, err := groupedBars("memory", "Memory per phase",
		"Resident memory (MiB) of the process that ran each backend: with the model loaded, after the decode session's first prefill, after its last decode, and the peak; then the KV cache its settings give at its context (KV computed) beside what the decode session grew by in anonymous memory (KV measured), which the KV check compares. Lower is better.",
		"MiB", cats, with, func(r *report.Report, c int) float64 {
			m := r.Memory
			if c == 3 {
				return r.PeakRSSMB
			}
			if m == nil {
				return 0
			}
			switch c {
			case 0:
				return m.RSSAfterLoadMB
			case 1:
				return m.RSSAfterPrefillMB
			case 2:
				return m.RSSEndOfDecodeMB
			}
			if m.KV == nil {
				return 0
			}
			if c == 4 {
				return float64(m.KV.BytesAtContext) / (1 << 20)
			}
			return max(0, float64(m.KV.MeasuredGrowthBytes)/(1<<20))
		})
	if err == nil && len(with) == 0 {
		ch.Caption = "No backend in this run measured its memory per phase."
	}
	return ch, err
}
