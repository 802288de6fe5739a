package report

import (
	"math"
	"strconv"
	"strings"
)

// Samples returns the kept samples behind a metric's figure (Metric.Key)
// in r, one per repetition, or nil when r kept none: the raw timings of a
// section, rates derived from them, and for the decode's inter-token
// percentiles each kept repetition's own percentile (PerRep). A comparison
// across runs judges a metric on these, and the benchstat format writes
// them.
func Samples(r *Report, key string) []float64 {
	switch key {
	case "cold_full_prefill.ms":
		return r.ColdFullPrefill.SamplesMS
	case "cold_full_prefill.ttft_ms":
		return r.ColdFullPrefill.TTFTSamplesMS
	case "cold_full_prefill.prompt_tps":
		return Rates(r.ColdFullPrefill.Tokens, r.ColdFullPrefill.SamplesMS)
	case "warm_same_prefix.ms":
		return r.WarmSamePrefix.SamplesMS
	case "warm_same_prefix.ttft_ms":
		return r.WarmSamePrefix.TTFTSamplesMS
	case "warm_changed_suffix.ms":
		return r.WarmChangedSuffix.SamplesMS
	case "warm_changed_suffix.ttft_ms":
		return r.WarmChangedSuffix.TTFTSamplesMS
	case "edited_stable_segment.ms":
		return r.EditedStable.SamplesMS
	case "edited_stable_segment.ttft_ms":
		return r.EditedStable.TTFTSamplesMS
	case "decode.tokens_per_sec":
		return r.Decode.SamplesTPS
	}
	if stat, ok := strings.CutPrefix(key, interTokenKey+"."); ok {
		return interTokenSamples(r.Decode.InterTokenSamplesMS, stat)
	}
	if n, ok := strings.CutPrefix(key, "suffix_ttft_curve."); ok {
		for _, p := range r.SuffixTTFTCurve {
			if strconv.Itoa(p.SuffixTokens) == n {
				return p.SamplesMS
			}
		}
	}
	if n, ok := strings.CutPrefix(key, "batch_curve."); ok {
		for _, p := range r.BatchCurve {
			if strconv.Itoa(p.Batch) == n {
				return p.SamplesTPS
			}
		}
	}
	return nil
}

// interTokenKey heads the metric keys of the decode's inter-token
// latency ("decode.inter_token_ms.p99").
const interTokenKey = "decode.inter_token_ms"

// interTokenSamples is one figure per kept repetition of the inter-token
// statistic stat ("p50", "p90", "p99", "max", "stddev").
func interTokenSamples(reps [][]float64, stat string) []float64 {
	switch stat {
	case "max":
		return PerRep(reps, 100)
	case "stddev":
		var out []float64
		for _, r := range reps {
			if d := NewDist(r); d != nil && d.N > 1 {
				out = append(out, d.Stddev)
			}
		}
		return out
	}
	if p, err := strconv.Atoi(strings.TrimPrefix(stat, "p")); err == nil {
		return PerRep(reps, p)
	}
	return nil
}

// Rates turns millisecond samples of a fixed token count into tokens/s.
func Rates(tokens int, ms []float64) []float64 {
	if tokens <= 0 || len(ms) == 0 {
		return nil
	}
	out := make([]float64, 0, len(ms))
	for _, v := range ms {
		if v > 0 && !math.IsInf(v, 0) {
			out = append(out, float64(tokens)/(v/1000))
		}
	}
	return out
}
