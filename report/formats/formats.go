// Package formats writes fakbench reports in the formats people already
// feed to their tools: CSV and JSON lines (one record per measurement, in the
// spirit of llama-bench's outputs), Markdown (the side-by-side table), and
// Go's benchmark format so that `benchstat old.txt new.txt` compares runs.
package formats

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/fakbench/fakbench/report"
)

// Names lists the supported formats.
var Names = []string{"json", "md", "csv", "jsonl", "benchstat"}

// Extension is the file extension used for a format's file.
func Extension(format string) string {
	switch format {
	case "benchstat":
		return ".txt"
	case "md":
		return ".md"
	}
	return "." + format
}

// Parse checks a comma-separated --format value and returns its formats.
func Parse(v string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		ok := false
		for _, n := range Names {
			ok = ok || n == f
		}
		if !ok {
			return nil, fmt.Errorf("unknown format %q (known: %s)", f, strings.Join(Names, ", "))
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty --format (known: %s)", strings.Join(Names, ", "))
	}
	return out, nil
}

// Measurement is one figure of one report, with its raw samples when the
// report kept them.
type Measurement struct {
	Backend     string    `json:"backend"`
	RowKind     string    `json:"row_kind,omitempty"`
	Profile     string    `json:"profile,omitempty"`
	Model       string    `json:"model"`
	ModelDigest string    `json:"model_digest,omitempty"`
	TokenDigest string    `json:"token_ids_digest,omitempty"`
	Threads     int       `json:"threads,omitempty"`
	Reps        int       `json:"repetitions,omitempty"`
	Version     string    `json:"backend_version,omitempty"`
	Key         string    `json:"key"`
	Metric      string    `json:"metric"`
	Better      string    `json:"better,omitempty"`
	Value       float64   `json:"value"`
	Samples     []float64 `json:"samples,omitempty"`
}

// samplesFor maps a metric key to the raw samples behind its figure
// (report.Samples).
func samplesFor(r *report.Report, key string) []float64 { return report.Samples(r, key) }

// rate turns millisecond samples of a fixed token count into tokens/s.
func rate(tokens int, ms []float64) []float64 { return report.Rates(tokens, ms) }

// Measurements flattens reports into one record per measured figure.
// Skipped rows contribute nothing.
func Measurements(reports []*report.Report) []Measurement {
	var out []Measurement
	ms := report.Metrics(reports)
	for _, r := range reports {
		if r == nil || r.Status == report.StatusSkipped {
			continue
		}
		for _, m := range ms {
			v, ok := m.Value(r)
			if !ok {
				continue
			}
			out = append(out, Measurement{
				Backend: r.Backend, RowKind: r.RowKind, Profile: r.Profile, Model: r.Model,
				ModelDigest: r.ModelDigest, TokenDigest: r.TokenDigest, Threads: r.Threads,
				Reps: r.Repetitions, Version: r.BackendVersion,
				Key: m.Key, Metric: m.Name, Better: m.Better.String(), Value: v,
				Samples: samplesFor(r, m.Key),
			})
		}
	}
	return out
}

// WriteCSV writes one line per measurement with a header line.
func WriteCSV(w io.Writer, reports []*report.Report) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"backend", "row_kind", "profile", "model", "model_digest", "token_ids_digest",
		"threads", "repetitions", "backend_version", "key", "metric", "better", "value", "samples"})
	for _, m := range Measurements(reports) {
		samples := make([]string, len(m.Samples))
		for i, s := range m.Samples {
			samples[i] = strconv.FormatFloat(s, 'g', -1, 64)
		}
		_ = cw.Write([]string{m.Backend, m.RowKind, m.Profile, m.Model, m.ModelDigest, m.TokenDigest,
			strconv.Itoa(m.Threads), strconv.Itoa(m.Reps), m.Version, m.Key, m.Metric, m.Better,
			strconv.FormatFloat(m.Value, 'g', -1, 64), strings.Join(samples, ";")})
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSONL writes one JSON object per measurement per line.
func WriteJSONL(w io.Writer, reports []*report.Report) error {
	enc := json.NewEncoder(w)
	for _, m := range Measurements(reports) {
		if err := enc.Encode(m); err != nil {
			return err
		}
	}
	return nil
}

// benchLine is one benchmark of the Go benchmark format.
type benchLine struct {
	name   string
	unit   string // "ns/op" lines carry time; others a rate
	values []float64
	rate   string // optional second unit, e.g. "tok/s", same length as values
	rates  []float64
	// more are further units, each with one value per line (the decode's
	// inter-token percentiles per repetition); a unit is written only when
	// it has a value for every line.
	more []extraUnit
}

type extraUnit struct {
	unit   string
	values []float64
}

// benchName makes a metric key a benchmark name: "warm_changed_suffix.ttft_ms"
// -> "WarmChangedSuffixTTFT".
var benchNames = map[string]string{
	"cold_full_prefill.ms":        "ColdPrefill",
	"cold_full_prefill.ttft_ms":   "ColdTTFT",
	"warm_same_prefix.ttft_ms":    "WarmSamePrefixTTFT",
	"warm_changed_suffix.ttft_ms": "WarmChangedSuffixTTFT",
	"edited_stable_segment.ms":    "EditedStablePrefix",
	"decode.tokens_per_sec":       "Decode",
}

// WriteBenchstat writes the reports in Go's benchmark format: configuration
// lines (model, digests, threads, backend, version) and, per backend and
// scenario, one line per repetition with ns/op and, for throughput
// scenarios, tok/s. benchstat then compares two such files.
func WriteBenchstat(w io.Writer, reports []*report.Report) error {
	var buf bytes.Buffer
	first := true
	for _, r := range reports {
		if r == nil || r.Status == report.StatusSkipped {
			continue
		}
		if first {
			buf.WriteString("goos: linux\n")
			if r.Host != nil {
				fmt.Fprintf(&buf, "goarch: %s\n", r.Host.Arch)
				if r.Host.CPUModel != "" {
					fmt.Fprintf(&buf, "cpu: %s\n", r.Host.CPUModel)
				}
			}
			buf.WriteString("pkg: github.com/fakbench/fakbench\n")
			first = false
		}
		fmt.Fprintf(&buf, "model: %s\n", oneLine(r.Model))
		if r.ModelDigest != "" {
			fmt.Fprintf(&buf, "model_digest: %s\n", r.ModelDigest)
		}
		if r.TokenDigest != "" {
			fmt.Fprintf(&buf, "token_ids_digest: %s\n", r.TokenDigest)
		}
		fmt.Fprintf(&buf, "threads: %d\n", r.Threads)
		fmt.Fprintf(&buf, "backend: %s\n", r.Backend)
		if r.BackendVersion != "" {
			fmt.Fprintf(&buf, "backend_version: %s\n", oneLine(r.BackendVersion))
		}
		for _, l := range benchLines(r) {
			procs := ""
			if r.Threads > 0 {
				procs = "-" + strconv.Itoa(r.Threads)
			}
			for i, v := range l.values {
				fmt.Fprintf(&buf, "Benchmark%s/backend=%s%s\t1\t%.0f %s", l.name, r.Backend, procs, v, l.unit)
				if l.rate != "" && i < len(l.rates) {
					fmt.Fprintf(&buf, "\t%.3f %s", l.rates[i], l.rate)
				}
				for _, u := range l.more {
					if len(u.values) == len(l.values) {
						fmt.Fprintf(&buf, "\t%.0f %s", u.values[i], u.unit)
					}
				}
				buf.WriteString("\n")
			}
		}
	}
	if first {
		return fmt.Errorf("benchstat: no measured report to write")
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// samplesOr returns the samples, or the median alone when none were kept.
func samplesOr(samples []float64, median float64) []float64 {
	if len(samples) > 0 {
		return samples
	}
	if median > 0 {
		return []float64{median}
	}
	return nil
}

func msToNs(ms []float64) []float64 {
	out := make([]float64, len(ms))
	for i, v := range ms {
		out[i] = v * 1e6
	}
	return out
}

func benchLines(r *report.Report) []benchLine {
	var out []benchLine
	add := func(key string, ms []float64, tokens int) {
		if len(ms) == 0 {
			return
		}
		l := benchLine{name: benchNames[key], unit: "ns/op", values: msToNs(ms)}
		if tokens > 0 {
			l.rate, l.rates = "tok/s", rate(tokens, ms)
		}
		out = append(out, l)
	}
	add("cold_full_prefill.ms", samplesOr(r.ColdFullPrefill.SamplesMS, r.ColdFullPrefill.MS), r.ColdFullPrefill.Tokens)
	add("cold_full_prefill.ttft_ms", samplesOr(r.ColdFullPrefill.TTFTSamplesMS, r.ColdFullPrefill.TTFTMS), 0)
	add("warm_same_prefix.ttft_ms", samplesOr(r.WarmSamePrefix.TTFTSamplesMS, r.WarmSamePrefix.TTFTMS), 0)
	add("warm_changed_suffix.ttft_ms", samplesOr(r.WarmChangedSuffix.TTFTSamplesMS, r.WarmChangedSuffix.TTFTMS), r.WarmChangedSuffix.SuffixTokens)
	add("edited_stable_segment.ms", samplesOr(r.EditedStable.SamplesMS, r.EditedStable.MS), 0)
	if tps := samplesOr(r.Decode.SamplesTPS, r.Decode.TokensPerSec); len(tps) > 0 {
		l := benchLine{name: "Decode", unit: "ns/op", rate: "tok/s"}
		for _, v := range tps {
			if v > 0 {
				l.values = append(l.values, 1e9/v) // ns per generated token
				l.rates = append(l.rates, v)
			}
		}
		l.more = interTokenUnits(r.Decode.InterTokenSamplesMS, len(l.values))
		out = append(out, l)
	}
	curve := append([]report.SuffixTTFT(nil), r.SuffixTTFTCurve...)
	sort.Slice(curve, func(i, j int) bool { return curve[i].SuffixTokens < curve[j].SuffixTokens })
	for _, p := range curve {
		if ms := samplesOr(p.SamplesMS, p.TTFTMS); len(ms) > 0 {
			out = append(out, benchLine{name: fmt.Sprintf("SuffixTTFT/suffix=%d", p.SuffixTokens), unit: "ns/op", values: msToNs(ms)})
		}
	}
	for _, b := range r.BatchCurve {
		tps := samplesOr(b.SamplesTPS, b.TokensPerSec)
		l := benchLine{name: fmt.Sprintf("BatchDecode/B=%d", b.Batch), unit: "ns/op", rate: "tok/s"}
		for _, v := range tps {
			if v > 0 {
				l.values = append(l.values, 1e9/v)
				l.rates = append(l.rates, v)
			}
		}
		if len(l.values) > 0 {
			out = append(out, l)
		}
	}
	return out
}

// interTokenUnits are the decode line's extra units: per kept repetition,
// its inter-token latency's p50, p90, p99 and maximum in ns, each only
// when every one of the lines' repetitions states it (report.PerRep), so
// benchstat compares the tail across runs.
func interTokenUnits(reps [][]float64, lines int) []extraUnit {
	if len(reps) != lines || lines == 0 {
		return nil
	}
	var out []extraUnit
	for _, p := range append(slices.Clone(report.Percentiles), 100) {
		vals := report.PerRep(reps, p)
		if len(vals) != lines {
			continue
		}
		name := fmt.Sprintf("p%d-itl-ns", p)
		if p == 100 {
			name = "max-itl-ns"
		}
		out = append(out, extraUnit{unit: name, values: msToNs(vals)})
	}
	return out
}

// Write renders reports in format to w ("json" writes a JSON array of the
// reports; "md" the side-by-side Markdown).
func Write(w io.Writer, format string, reports []*report.Report) error {
	switch format {
	case "csv":
		return WriteCSV(w, reports)
	case "jsonl":
		return WriteJSONL(w, reports)
	case "benchstat":
		return WriteBenchstat(w, reports)
	case "md":
		_, err := io.WriteString(w, report.Markdown(reports))
		return err
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(reports)
	}
	return fmt.Errorf("unknown format %q (known: %s)", format, strings.Join(Names, ", "))
}
