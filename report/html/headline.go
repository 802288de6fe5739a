package html

import (
	"fmt"
	"strings"

	"github.com/fakbench/fakbench/report"
)

// Gap is one headline metric: the kernel row against the best tuned
// reference row of the same run on that metric (the tuned-reference policy
// of docs/methodology.md: the headline is the remaining gap to the tuned
// reference, never a win over an untuned path).
type Gap struct {
	Metric         string
	HigherIsBetter bool
	// RefName names the reference that was best on this metric.
	RefName   string
	Reference float64
	Kernel    float64
	// Ratio is kernel/reference for higher-is-better metrics and
	// reference/kernel otherwise, so that 1 is parity and below 1 is a gap.
	Ratio float64
	// Others are the kernel's ratios (same convention) to the other
	// references, e.g. "llama.cpp 1.23x".
	Others []string
}

// Verdict says in words where the kernel stands on this metric.
func (g Gap) Verdict() string {
	switch {
	case g.Ratio <= 0:
		return "not measured"
	case g.Ratio >= 0.995 && g.Ratio <= 1.005:
		return "at parity"
	case g.Ratio < 1:
		return fmt.Sprintf("gap %.0f%% to the best tuned reference", (1-g.Ratio)*100)
	default:
		return fmt.Sprintf("%.2fx the best tuned reference", g.Ratio)
	}
}

// headlineKey picks the metrics of the headline (report.Metric keys): the
// throughput and latency figures people quote, and the largest point of the
// suffix curve.
func headlineKey(key string, largestCurve string) bool {
	switch key {
	case "decode.tokens_per_sec", "decode.roofline_fraction", "cold_full_prefill.prompt_tps",
		"cold_full_prefill.ttft_ms", "warm_same_prefix.ttft_ms", "warm_changed_suffix.ttft_ms",
		"edited_stable_segment.ttft_ms":
		return true
	}
	return key == largestCurve
}

// Headline computes the kernel's gap to the best tuned reference per
// metric. It returns nil when the run lacks a kernel or a reference row
// that completed.
func Headline(rows []*report.Report) []Gap {
	st := report.FindStanding(rows)
	if !st.OK() {
		return nil
	}
	ms := report.Metrics(append([]*report.Report{st.Kernel}, st.Refs...))
	largest := ""
	for _, m := range ms {
		if strings.HasPrefix(m.Key, "suffix_ttft_curve.") {
			largest = m.Key // Metrics lists curve points in ascending size
		}
	}
	// People read a gap as "below 1 is behind" whatever the direction.
	oriented := func(m report.Metric, r float64) float64 {
		if m.Better == report.Higher {
			return r
		}
		return 1 / r
	}
	var out []Gap
	for _, m := range ms {
		if m.Better == report.Info || !headlineKey(m.Key, largest) {
			continue
		}
		g := Gap{Metric: m.Name, HigherIsBetter: m.Better == report.Higher}
		g.Kernel, _ = m.Value(st.Kernel)
		r, ref, ok := st.Gap(m)
		if ok {
			g.Ratio = oriented(m, r)
			g.RefName = rowName(ref)
			g.Reference, _ = m.Value(ref)
		}
		for _, o := range st.Refs {
			if o == ref {
				continue
			}
			if r, ok := report.Ratio(m, st.Kernel, o); ok {
				g.Others = append(g.Others, fmt.Sprintf("%s %.2fx", rowName(o), oriented(m, r)))
			}
		}
		out = append(out, g)
	}
	return out
}
