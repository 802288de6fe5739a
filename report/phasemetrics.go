package report

import (
	"fmt"
	"strings"
)

// ttftSections are the sections whose TTFT repetitions a Dist summarizes,
// with the table's name for each.
var ttftSections = []struct {
	key, name string
	dist      func(r *Report) *Dist
}{
	{"cold_full_prefill", "cold TTFT", func(r *Report) *Dist { return r.ColdFullPrefill.TTFTPercentilesMS }},
	{"warm_same_prefix", "warm same: TTFT", func(r *Report) *Dist { return r.WarmSamePrefix.TTFTPercentilesMS }},
	{"warm_changed_suffix", "warm changed: TTFT", func(r *Report) *Dist { return r.WarmChangedSuffix.TTFTPercentilesMS }},
	{"edited_stable_segment", "edited: TTFT", func(r *Report) *Dist { return r.EditedStable.TTFTPercentilesMS }},
}

// percentileMetric is the p-th percentile of a distribution: the figure
// where the Dist states it, else its shortfall ("n=32 < 100").
func percentileMetric(key, name string, p int, dist func(r *Report) *Dist) Metric {
	return Metric{Key: key, Name: name, Better: Lower,
		value: func(r *Report) (float64, bool) { return dist(r).Get(p) },
		text: func(r *Report) string {
			if v, ok := dist(r).Get(p); ok {
				return FormatNumber(v)
			}
			if s := dist(r).Shortfall(p); s != "" {
				return s
			}
			return "-"
		}}
}

func anyReport(reports []*Report, has func(r *Report) bool) bool {
	for _, r := range reports {
		if r != nil && r.Status != StatusSkipped && has(r) {
			return true
		}
	}
	return false
}

// phaseMetrics are the rows of the latency distributions, the memory per
// phase and the Go runtime's facts, each group present when some report
// carries it: the decode's inter-token percentiles (every one, stating the
// count where a report has too few samples), the TTFT percentiles a report
// states, resident memory per phase with the KV check, and the Go
// runtime's GC figures.
func phaseMetrics(reports []*Report) []Metric {
	var ms []Metric
	itl := func(r *Report) *Dist { return r.Decode.InterTokenMS }
	if anyReport(reports, func(r *Report) bool { return itl(r) != nil }) {
		for _, p := range Percentiles {
			ms = append(ms, percentileMetric(fmt.Sprintf("%s.p%d", interTokenKey, p), fmt.Sprintf("decode ITL p%d ms", p), p, itl))
		}
		ms = append(ms,
			metric(interTokenKey+".max", "decode ITL max ms", Lower, distValue(itl, func(d *Dist) float64 { return d.Max })),
			metric(interTokenKey+".stddev", "decode ITL stddev ms", Lower, distValue(itl, func(d *Dist) float64 { return d.Stddev })))
	}
	for _, s := range ttftSections {
		for _, p := range Percentiles[1:] {
			if anyReport(reports, func(r *Report) bool { _, ok := s.dist(r).Get(p); return ok }) {
				ms = append(ms, percentileMetric(fmt.Sprintf("%s.ttft_percentiles_ms.p%d", s.key, p), fmt.Sprintf("%s p%d ms", s.name, p), p, s.dist))
			}
		}
	}
	mem := func(f func(m *Memory) float64) func(r *Report) (float64, bool) {
		return func(r *Report) (float64, bool) {
			if r.Memory == nil || f(r.Memory) == 0 {
				return 0, false
			}
			return f(r.Memory), true
		}
	}
	if anyReport(reports, func(r *Report) bool { return r.Memory != nil }) {
		kv := func(f func(k *KVCache) int64) func(r *Report) (float64, bool) {
			return func(r *Report) (float64, bool) {
				if r.Memory == nil || r.Memory.KV == nil || r.Memory.KV.BytesPerPosition == 0 {
					return 0, false
				}
				return float64(f(r.Memory.KV)) / (1 << 20), true
			}
		}
		ms = append(ms,
			metric("memory.rss_after_load_mb", "RSS after load MiB", Lower, mem(func(m *Memory) float64 { return m.RSSAfterLoadMB })),
			metric("memory.rss_after_prefill_mb", "RSS after prefill MiB", Lower, mem(func(m *Memory) float64 { return m.RSSAfterPrefillMB })),
			metric("memory.rss_end_of_decode_mb", "RSS end of decode MiB", Lower, mem(func(m *Memory) float64 { return m.RSSEndOfDecodeMB })),
			metric("memory.kv_cache.bytes_at_context", "KV cache at context MiB", Info, kv(func(k *KVCache) int64 { return k.BytesAtContext })),
			metric("memory.kv_cache.bytes_filled", "KV cache filled MiB", Info, kv(func(k *KVCache) int64 { return k.BytesFilled })),
			metric("memory.kv_cache.measured_growth_bytes", "session growth measured MiB", Info, kv(func(k *KVCache) int64 { return k.MeasuredGrowthBytes })),
			Metric{Key: "memory.kv_cache.verdict", Name: "KV check", Better: Info,
				value: func(r *Report) (float64, bool) {
					if r.Memory == nil || r.Memory.KV == nil {
						return 0, false
					}
					return map[bool]float64{true: 1}[r.Memory.KV.Verdict == KVConsistent], true
				},
				text: func(r *Report) string {
					if r.Memory == nil || r.Memory.KV == nil {
						return "-"
					}
					return strings.ReplaceAll(r.Memory.KV.Verdict, "_", " ")
				}},
		)
	}
	if anyReport(reports, func(r *Report) bool { return r.GoRuntime != nil }) {
		gr := func(f func(g *GoRuntime) float64) func(r *Report) (float64, bool) {
			return func(r *Report) (float64, bool) {
				if r.GoRuntime == nil {
					return 0, false
				}
				return f(r.GoRuntime), true
			}
		}
		ms = append(ms,
			metric("go_runtime.decode.gc_cycles", "Go GC cycles in decode", Lower, gr(func(g *GoRuntime) float64 { return float64(g.Decode.GCCycles) })),
			metric("go_runtime.decode.gc_pause_total_ms", "Go GC pause in decode ms", Lower, gr(func(g *GoRuntime) float64 { return g.Decode.GCPauseTotalMS })),
			metric("go_runtime.decode.gc_pause_max_ms", "Go GC max pause in decode ms", Lower, gr(func(g *GoRuntime) float64 { return g.Decode.GCPauseMaxMS })),
			metric("go_runtime.prefill.heap_alloc_bytes", "Go heap alloc in prefill KiB", Lower, gr(func(g *GoRuntime) float64 { return float64(g.Prefill.HeapAllocBytes) / 1024 })),
			metric("go_runtime.decode.heap_alloc_bytes", "Go heap alloc in decode KiB", Lower, gr(func(g *GoRuntime) float64 { return float64(g.Decode.HeapAllocBytes) / 1024 })),
			Metric{Key: "go_runtime.outliers_with_gc", Name: "ITL outliers with a GC cycle", Better: Info,
				value: gr(func(g *GoRuntime) float64 { return float64(g.OutliersWithGC) }),
				text: func(r *Report) string {
					if r.GoRuntime == nil {
						return "-"
					}
					return fmt.Sprintf("%d of %d", r.GoRuntime.OutliersWithGC, len(r.GoRuntime.Outliers))
				}},
		)
	}
	return ms
}

func distValue(dist func(r *Report) *Dist, f func(d *Dist) float64) func(r *Report) (float64, bool) {
	return func(r *Report) (float64, bool) {
		d := dist(r)
		if d == nil {
			return 0, false
		}
		return f(d), true
	}
}

// WithheldTTFT says, in one line, which TTFT percentiles no row of
// reports states and why (the repetitions kept per section against
// MinSamples), or "" when there is nothing to say.
func WithheldTTFT(reports []*Report) string {
	n := 0
	for _, r := range reports {
		if r == nil || r.Status == StatusSkipped {
			continue
		}
		for _, s := range ttftSections {
			if d := s.dist(r); d != nil {
				n = max(n, d.N)
			}
		}
	}
	if n == 0 || n >= MinSamples(Percentiles[len(Percentiles)-1]) {
		return ""
	}
	var need []string
	for _, p := range Percentiles[1:] {
		if n < MinSamples(p) {
			need = append(need, fmt.Sprintf("p%d needs %d", p, MinSamples(p)))
		}
	}
	return fmt.Sprintf("TTFT percentiles withheld: at most %d repetitions kept per section (%s; --reps sets the count)", n, strings.Join(need, ", "))
}

// PhaseNotes is the Markdown section that says in words what the
// latency, memory and Go runtime rows of the table rest on: the
// percentile rule, each row's KV check and the Go runtime's verdict, with
// its GC settings; "" when no report carries any of them.
func PhaseNotes(reports []*Report) string {
	var b strings.Builder
	for _, r := range reports {
		if r == nil || r.Status == StatusSkipped {
			continue
		}
		if d := r.Decode.InterTokenMS; d != nil && len(d.Withheld) > 0 {
			fmt.Fprintf(&b, "- %s: decode inter-token latency: %s.\n", RowName(r), strings.Join(d.Withheld, "; "))
		}
		if r.Memory != nil && r.Memory.KV != nil {
			fmt.Fprintf(&b, "- %s: KV cache %s (%s x %s, %d layers x %d KV heads x %d head dim, %d positions from %s): %s.\n",
				RowName(r), strings.ReplaceAll(r.Memory.KV.Verdict, "_", " "), r.Memory.KV.TypeK, r.Memory.KV.TypeV,
				r.Memory.KV.Layers, r.Memory.KV.KVHeads, r.Memory.KV.HeadDim, r.Memory.KV.Context, r.Memory.KV.ContextFrom, r.Memory.KV.Check)
		}
		if g := r.GoRuntime; g != nil {
			fmt.Fprintf(&b, "- %s: Go runtime (GOGC %s, GOMEMLIMIT %s, GOMAXPROCS %d): %s.\n", RowName(r), g.GOGC, g.GOMEMLIMIT, g.GOMAXPROCS, g.Verdict)
		}
	}
	line := WithheldTTFT(reports)
	if b.Len() == 0 && line == "" {
		return ""
	}
	var out strings.Builder
	out.WriteString("## Latency, memory and the Go runtime\n\n")
	fmt.Fprintf(&out, "Inter-token latency (ITL) is the time between two tokens as a streaming client receives them, every token of every kept repetition kept in the JSON; %s. Memory is the resident set of the process that ran the backend (after load, after the decode session's first prefill, after its last decode).\n\n", PercentileRule)
	if line != "" {
		out.WriteString("- " + line + ".\n")
	}
	out.WriteString(b.String())
	out.WriteString("\n")
	return out.String()
}
