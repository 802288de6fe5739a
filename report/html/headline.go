package html

import (
	"fmt"
	"strings"

	"github.com/fakbench/fakbench/report"
)

// Gap is one headline metric: the kernel row against the tuned reference
// row of the same run (seed 000's policy: the headline is the remaining gap
// to the tuned reference, never a win over an untuned path).
type Gap struct {
	Metric         string
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

// FindRows picks the tuned reference row and the kernel row of one run.
// Either may be nil.
func FindRows(rows []*report.Report) (ref, kernel *report.Report) {
	kernel, ref = report.Pair(rows)
	return ref, kernel
}

// Headline computes the kernel's gap to the tuned reference per metric. It
// returns nil when the run lacks either row.
func Headline(rows []*report.Report) []Gap {
	ref, k := FindRows(rows)
	if ref == nil || k == nil {
		return nil
	}
	pair := []*report.Report{k, ref}
	ms := report.Metrics(pair)
	largest := ""
	for _, m := range ms {
		if strings.HasPrefix(m.Key, "suffix_ttft_curve.") {
			largest = m.Key // Metrics lists curve points in ascending size
		}
	}
	var out []Gap
	for _, m := range ms {
		if m.Better == report.Info || !headlineKey(m.Key, largest) {
			continue
		}
		g := Gap{Metric: m.Name, HigherIsBetter: m.Better == report.Higher}
		g.Kernel, _ = m.Value(k)
		g.Reference, _ = m.Value(ref)
		if r, ok := report.Ratio(m, k, ref); ok {
			if g.HigherIsBetter {
				g.Ratio = r
			} else {
				g.Ratio = 1 / r
			}
		}
		out = append(out, g)
	}
	return out
}
