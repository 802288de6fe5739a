package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
)

// Better says which direction of a metric is an improvement.
type Better int

// Directions of a metric.
const (
	// Info is a fact, not a figure of merit (token counts, booleans).
	Info Better = iota
	// Higher means larger is better (throughput).
	Higher
	// Lower means smaller is better (latency).
	Lower
)

// String returns "higher", "lower" or "".
func (b Better) String() string {
	switch b {
	case Higher:
		return "higher"
	case Lower:
		return "lower"
	}
	return ""
}

// Metric is one row of the side-by-side table: a named figure read from a
// report.
type Metric struct {
	// Key is the metric's JSON path, e.g. "decode.tokens_per_sec"; it is
	// the key used in Extras.VsReference.
	Key string
	// Name is the row label people read, e.g. "decode tok/s".
	Name string
	// Better is the direction of improvement (Info for facts and checks).
	Better Better
	// Check marks a correctness check (a boolean or hit rate that must hold).
	Check bool
	// value returns the figure and whether the report has it.
	value func(r *Report) (float64, bool)
	// text formats the figure; nil means a number.
	text func(r *Report) string
	// optional rows are shown only when some report has a non-zero value.
	optional bool
}

// Value returns the metric's figure for r and whether r has one (a skipped
// row has none, nor a section that did not run).
func (m Metric) Value(r *Report) (float64, bool) {
	if r == nil || r.Status == StatusSkipped || !r.Ran(m.Key) {
		return 0, false
	}
	return m.value(r)
}

// Format renders the metric's figure for r, "-" when r has none, or "not
// run" for a section that did not run.
func (m Metric) Format(r *Report) string {
	if r == nil || r.Status == StatusSkipped {
		return "-"
	}
	if !r.Ran(m.Key) {
		return "not run"
	}
	if m.text != nil {
		return m.text(r)
	}
	v, ok := m.value(r)
	if !ok {
		return "-"
	}
	return FormatNumber(v)
}

// FormatNumber prints a figure with a precision suited to its size.
func FormatNumber(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return strconv.FormatFloat(v, 'f', -1, 64)
	case v == math.Trunc(v) && math.Abs(v) < 1e9:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case math.Abs(v) >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

func num(f func(r *Report) float64) func(r *Report) (float64, bool) {
	return func(r *Report) (float64, bool) { return f(r), true }
}

func integer(f func(r *Report) int) func(r *Report) (float64, bool) {
	return func(r *Report) (float64, bool) { return float64(f(r)), true }
}

func boolean(f func(r *Report) bool) (func(r *Report) (float64, bool), func(r *Report) string) {
	return func(r *Report) (float64, bool) {
			if f(r) {
				return 1, true
			}
			return 0, true
		}, func(r *Report) string {
			return strconv.FormatBool(f(r))
		}
}

func metric(key, name string, better Better, value func(r *Report) (float64, bool)) Metric {
	return Metric{Key: key, Name: name, Better: better, value: value}
}

func check(key, name string, f func(r *Report) bool) Metric {
	v, t := boolean(f)
	return Metric{Key: key, Name: name, Check: true, value: v, text: t}
}

// info is a boolean fact that is no check: a constant of the scenario
// (the edited segment is always expected to miss), shown, never judged.
func info(key, name string, f func(r *Report) bool) Metric {
	v, t := boolean(f)
	return Metric{Key: key, Name: name, Better: Info, value: v, text: t}
}

// Metrics returns the rows of the side-by-side table for reports: every seed
// figure, the extras that some report carries (edited-segment timings,
// roofline, peak memory), one row per suffix-curve point and one per batch
// size found in any report.
func Metrics(reports []*Report) []Metric {
	ms := []Metric{
		metric("cold_full_prefill.tokens", "cold prefill tokens", Info, integer(func(r *Report) int { return r.ColdFullPrefill.Tokens })),
		metric("cold_full_prefill.ms", "cold prefill ms", Lower, num(func(r *Report) float64 { return r.ColdFullPrefill.MS })),
		metric("cold_full_prefill.prompt_tps", "cold prefill tok/s", Higher, num(func(r *Report) float64 { return r.ColdFullPrefill.PromptTPS })),
		metric("cold_full_prefill.ttft_ms", "cold TTFT ms", Lower, num(func(r *Report) float64 { return r.ColdFullPrefill.TTFTMS })),

		metric("warm_same_prefix.cached_tokens", "warm same: cached tokens", Info, integer(func(r *Report) int { return r.WarmSamePrefix.CachedTokens })),
		metric("warm_same_prefix.new_tokens", "warm same: new tokens", Info, integer(func(r *Report) int { return r.WarmSamePrefix.NewTokens })),
		metric("warm_same_prefix.ms", "warm same: ms", Lower, num(func(r *Report) float64 { return r.WarmSamePrefix.MS })),
		metric("warm_same_prefix.ttft_ms", "warm same: TTFT ms", Lower, num(func(r *Report) float64 { return r.WarmSamePrefix.TTFTMS })),
		{Key: "warm_same_prefix.hit_rate", Name: "warm same: hit rate", Check: true,
			value: num(func(r *Report) float64 { return r.WarmSamePrefix.HitRate })},

		metric("warm_changed_suffix.cached_tokens", "warm changed: cached tokens", Info, integer(func(r *Report) int { return r.WarmChangedSuffix.CachedTokens })),
		metric("warm_changed_suffix.suffix_tokens", "warm changed: suffix tokens", Info, integer(func(r *Report) int { return r.WarmChangedSuffix.SuffixTokens })),
		metric("warm_changed_suffix.ms", "warm changed: ms", Lower, num(func(r *Report) float64 { return r.WarmChangedSuffix.MS })),
		metric("warm_changed_suffix.ttft_ms", "warm changed: TTFT ms", Lower, num(func(r *Report) float64 { return r.WarmChangedSuffix.TTFTMS })),
		check("warm_changed_suffix.output_equals_cold", "warm changed: output = cold", func(r *Report) bool { return r.WarmChangedSuffix.OutputEqualsCold }),

		info("edited_stable_segment.expected_cache_miss", "edited: miss expected", func(r *Report) bool { return r.EditedStable.ExpectedCacheMiss }),
		check("edited_stable_segment.actual_cache_miss", "edited: miss actual", func(r *Report) bool { return r.EditedStable.ActualCacheMiss }),
		check("edited_stable_segment.output_equals_cold", "edited: output = cold", func(r *Report) bool { return r.EditedStable.OutputEqualsCold }),
		optionalMetric("edited_stable_segment.computed_tokens", "edited: recomputed tokens", Info, integer(func(r *Report) int { return r.EditedStable.ComputedTokens })),
		optionalMetric("edited_stable_segment.ms", "edited: ms", Lower, num(func(r *Report) float64 { return r.EditedStable.MS })),
		optionalMetric("edited_stable_segment.ttft_ms", "edited: TTFT ms", Lower, num(func(r *Report) float64 { return r.EditedStable.TTFTMS })),

		metric("decode.output_tokens", "decode tokens", Info, integer(func(r *Report) int { return r.Decode.OutputTokens })),
		metric("decode.tokens_per_sec", "decode tok/s", Higher, num(func(r *Report) float64 { return r.Decode.TokensPerSec })),
		optionalMetric("decode.roofline_tps", "decode roofline tok/s", Info, num(func(r *Report) float64 { return r.Decode.RooflineTPS })),
		optionalMetric("decode.roofline_fraction", "decode roofline fraction", Higher, num(func(r *Report) float64 { return r.Decode.RooflineFrac })),
	}

	ms = append(ms, curveMetrics(reports, "suffix_ttft_curve.%d", "suffix TTFT ms @%d tok", Lower,
		func(r *Report) []SuffixTTFT { return r.SuffixTTFTCurve },
		func(p SuffixTTFT) (int, float64) { return p.SuffixTokens, p.TTFTMS })...)
	ms = append(ms,
		check("failure_cases.over_context", "failure: over context", func(r *Report) bool { return r.FailureCases.OverContext }),
		check("failure_cases.cancel_decode", "failure: cancel decode", func(r *Report) bool { return r.FailureCases.CancelDecode }),
	)
	ms = append(ms, curveMetrics(reports, "batch_curve.%d", "batch %d decode tok/s", Higher,
		func(r *Report) []BatchPoint { return r.BatchCurve },
		func(p BatchPoint) (int, float64) { return p.Batch, p.TokensPerSec })...)
	ms = append(ms, phaseMetrics(reports)...)
	ms = append(ms, optionalMetric("peak_rss_mb", "peak RSS MB", Lower, num(func(r *Report) float64 { return r.PeakRSSMB })))

	// Drop optional rows no report carries.
	out := ms[:0]
	for _, m := range ms {
		if m.optional && !anyNonZero(m, reports) {
			continue
		}
		out = append(out, m)
	}
	return out
}

func optionalMetric(key, name string, better Better, value func(r *Report) (float64, bool)) Metric {
	// An optional figure of zero was not measured: it reads as absent.
	m := metric(key, name, better, func(r *Report) (float64, bool) {
		v, ok := value(r)
		return v, ok && v != 0
	})
	m.optional = true
	return m
}

func anyNonZero(m Metric, reports []*Report) bool {
	for _, r := range reports {
		if v, ok := m.Value(r); ok && v != 0 {
			return true
		}
	}
	return false
}

// curveMetrics are the rows of a curve (the suffix TTFT curve, the batch
// curve): one per point x (suffix length, batch size) that any report
// has, in increasing order, its key and name made from x with the formats
// key and name, its figure the y of the report's point at x. xy gives a
// point's x and y.
func curveMetrics[P any](reports []*Report, key, name string, better Better, curve func(r *Report) []P, xy func(P) (int, float64)) []Metric {
	xs := map[int]bool{}
	for _, r := range reports {
		if r == nil {
			continue
		}
		for _, p := range curve(r) {
			x, _ := xy(p)
			xs[x] = true
		}
	}
	var out []Metric
	for _, x := range slices.Sorted(maps.Keys(xs)) {
		out = append(out, metric(fmt.Sprintf(key, x), fmt.Sprintf(name, x), better, func(r *Report) (float64, bool) {
			for _, p := range curve(r) {
				if px, y := xy(p); px == x {
					return y, true
				}
			}
			return 0, false
		}))
	}
	return out
}

// Ratio returns kernel's figure over ref's for m, and whether both exist, m
// has a direction, and ref's figure is non-zero.
func Ratio(m Metric, kernel, ref *Report) (float64, bool) {
	if m.Better == Info {
		return 0, false
	}
	kv, ok1 := m.Value(kernel)
	rv, ok2 := m.Value(ref)
	if !ok1 || !ok2 || rv == 0 || kv == 0 {
		return 0, false
	}
	return kv / rv, true
}

// Ratios returns kernel / reference for every metric with a direction that
// both rows carry, keyed by Metric.Key.
func Ratios(kernel, ref *Report) map[string]float64 {
	out := map[string]float64{}
	for _, m := range Metrics([]*Report{kernel, ref}) {
		if v, ok := Ratio(m, kernel, ref); ok {
			out[m.Key] = v
		}
	}
	return out
}

// Standing is what a run's headline compares: its kernel row and every
// tuned-reference row (llama.cpp, OpenVINO, any vendor's) that completed.
// The headline is, per metric, the kernel against the best of the
// references on that metric, since which engine leads depends on the node
// (on an AMX Xeon OpenVINO prefills fastest, llama.cpp decodes fastest).
type Standing struct {
	// Kernel is the first kernel row that completed, or nil.
	Kernel *Report
	// Refs are the tuned-reference rows that completed, in run order.
	Refs []*Report
}

// completed says r ran to the end: not skipped, not failed, not
// interrupted. Only such rows enter a headline.
func completed(r *Report) bool {
	return r != nil && r.Status != StatusSkipped && r.Status != StatusFailed && r.Status != StatusInterrupted
}

// FindStanding picks the headline rows of one run: the first kernel row and
// every tuned-reference row that completed.
func FindStanding(reports []*Report) Standing {
	var s Standing
	for _, r := range reports {
		if !completed(r) {
			continue
		}
		switch r.RowKind {
		case KindTunedReference:
			s.Refs = append(s.Refs, r)
		case KindKernel:
			if s.Kernel == nil {
				s.Kernel = r
			}
		}
	}
	return s
}

// OK says the run has both a kernel row and at least one reference row.
func (s Standing) OK() bool { return s.Kernel != nil && len(s.Refs) > 0 }

// Best returns the reference row with the best figure on m (the highest
// for Higher metrics, the lowest for Lower ones), or nil when m has no
// direction or no reference carries it. Ties go to the earlier row.
func (s Standing) Best(m Metric) *Report {
	if m.Better == Info {
		return nil
	}
	var best *Report
	var bv float64
	for _, r := range s.Refs {
		v, ok := m.Value(r)
		if !ok || v == 0 {
			continue
		}
		if best == nil || (m.Better == Higher && v > bv) || (m.Better == Lower && v < bv) {
			best, bv = r, v
		}
	}
	return best
}

// Gap returns the kernel's figure over the best reference's on m, and that
// reference; ok is false when either row lacks the figure.
func (s Standing) Gap(m Metric) (ratio float64, ref *Report, ok bool) {
	if s.Kernel == nil {
		return 0, nil, false
	}
	ref = s.Best(m)
	if ref == nil {
		return 0, nil, false
	}
	ratio, ok = Ratio(m, s.Kernel, ref)
	return ratio, ref, ok
}

// Gaps returns the kernel / best-reference ratio of every metric both sides
// carry and the name of the reference that was best on it, keyed by
// Metric.Key (the content of Extras.VsReference and Extras.BestReference).
func (s Standing) Gaps() (ratios map[string]float64, best map[string]string) {
	ratios, best = map[string]float64{}, map[string]string{}
	if !s.OK() {
		return ratios, best
	}
	for _, m := range Metrics(append([]*Report{s.Kernel}, s.Refs...)) {
		if v, ref, ok := s.Gap(m); ok {
			ratios[m.Key] = v
			best[m.Key] = RowName(ref)
		}
	}
	return ratios, best
}

// Annotate records the run's standing in its kernel row: VsReference (the
// ratio to the best reference per metric), BestReference (which one) and
// VsReferences (the ratio to each reference). It does nothing without a
// kernel and a reference row.
func (s Standing) Annotate() {
	if !s.OK() {
		return
	}
	s.Kernel.VsReference, s.Kernel.BestReference = s.Gaps()
	s.Kernel.VsReferences = map[string]map[string]float64{}
	for _, ref := range s.Refs {
		s.Kernel.VsReferences[RowName(ref)] = Ratios(s.Kernel, ref)
	}
}

// RowName is the name a row goes by in tables and maps: its label, or its
// backend when it has none.
func RowName(r *Report) string {
	if r.RowLabel != "" {
		return r.RowLabel
	}
	return r.Backend
}

// DisplayName is the name people know a row's backend by: the registry's
// display name the run recorded (BackendDisplay, "llama.cpp" for
// "llamacpp"), else the backend's name.
func DisplayName(r *Report) string {
	if r.BackendDisplay != "" {
		return r.BackendDisplay
	}
	return r.Backend
}
