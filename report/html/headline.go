package html

import (
	"fmt"

	"github.com/fakbench/fakbench/report"
)

// Gap is one headline metric: the kernel row against the tuned reference
// row of the same run (seed 000's policy: the headline is the remaining gap
// to the tuned reference, never a win over an untuned path).
type Gap struct {
	Metric         string
	Unit           string
	HigherIsBetter bool
	Reference      float64
	Kernel         float64
	// Ratio is kernel/reference for higher-is-better metrics and
	// reference/kernel otherwise, so that 1 is parity and below 1 is a gap.
	Ratio float64
}

// Verdict says in words where the kernel stands on this metric.
func (g Gap) Verdict() string {
	switch {
	case g.Ratio <= 0:
		return "not measured"
	case g.Ratio >= 0.995 && g.Ratio <= 1.005:
		return "at parity"
	case g.Ratio < 1:
		return fmt.Sprintf("gap %.0f%% to the tuned reference", (1-g.Ratio)*100)
	default:
		return fmt.Sprintf("%.2fx the tuned reference", g.Ratio)
	}
}

// metric extracts one comparable number from a report.
type metric struct {
	name, unit string
	higher     bool
	get        func(*report.Report) float64
}

var headlineMetrics = []metric{
	{"decode", "tok/s", true, func(r *report.Report) float64 { return r.Decode.TokensPerSec }},
	{"cold prefill", "tok/s", true, func(r *report.Report) float64 { return r.ColdFullPrefill.PromptTPS }},
	{"cold full-prefill TTFT", "ms", false, func(r *report.Report) float64 { return r.ColdFullPrefill.TTFTMS }},
	{"warm same-prefix TTFT", "ms", false, func(r *report.Report) float64 { return r.WarmSamePrefix.TTFTMS }},
	{"warm changed-suffix TTFT", "ms", false, func(r *report.Report) float64 { return r.WarmChangedSuffix.TTFTMS }},
	{"edited-segment TTFT", "ms", false, func(r *report.Report) float64 { return r.EditedStable.TTFTMS }},
	{"largest suffix-curve TTFT", "ms", false, func(r *report.Report) float64 {
		if n := len(r.SuffixTTFTCurve); n > 0 {
			return r.SuffixTTFTCurve[n-1].TTFTMS
		}
		return 0
	}},
}

// FindRows picks the tuned reference row and the kernel row of one run.
// Either may be nil.
func FindRows(rows []*report.Report) (ref, kernel *report.Report) {
	for _, r := range rows {
		if r.Status == "skipped" || r.Status == "failed" {
			continue
		}
		switch {
		case r.RowKind == "tuned_reference" && ref == nil:
			ref = r
		case r.RowKind == "kernel" && kernel == nil:
			kernel = r
		}
	}
	return ref, kernel
}

// Headline computes the kernel's gap to the tuned reference per metric. It
// returns nil when the run lacks either row.
func Headline(rows []*report.Report) []Gap {
	ref, k := FindRows(rows)
	if ref == nil || k == nil {
		return nil
	}
	var out []Gap
	for _, m := range headlineMetrics {
		g := Gap{Metric: m.name, Unit: m.unit, HigherIsBetter: m.higher, Reference: m.get(ref), Kernel: m.get(k)}
		if g.Reference > 0 && g.Kernel > 0 {
			if m.higher {
				g.Ratio = g.Kernel / g.Reference
			} else {
				g.Ratio = g.Reference / g.Kernel
			}
		}
		out = append(out, g)
	}
	return out
}
