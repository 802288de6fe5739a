package workload

import (
	"fmt"
	"io"

	"github.com/fakbench/fakbench/harness/artifact"
	"github.com/fakbench/fakbench/report"
)

// ReplayFilePrefix starts the name of a backend's replay file.
const ReplayFilePrefix = "workload-"

// ReplayFileName is the replay file of a backend ("workload-<backend>.json").
func ReplayFileName(backend string) string { return ReplayFilePrefix + backend + ".json" }

// ReplayFile is workload-<backend>.json: one backend's replay with the
// identity of the run and of the workload it replayed.
type ReplayFile struct {
	// Identity encodes inline: schema, backend, ..., short.
	artifact.Identity
	Reps int `json:"reps"`
	// WorkloadPath and WorkloadDigest name the pinned workload;
	// ReplayedDigest is the digest of what was replayed after caps and
	// short-run trimming (equal when nothing changed it).
	WorkloadPath   string        `json:"workload_path"`
	WorkloadDigest string        `json:"workload_digest"`
	ReplayedDigest string        `json:"replayed_digest"`
	WorkloadTurns  int           `json:"workload_turns"`
	ReplayedTurns  int           `json:"replayed_turns"`
	Caps           Caps          `json:"caps"`
	PrefillCap     CapResult     `json:"prefill_cap_applied"`
	ContextLength  int           `json:"context_length,omitempty"`
	StartedAt      string        `json:"started_at"`
	FinishedAt     string        `json:"finished_at"`
	Result         *ReplayResult `json:"result,omitempty"`
}

// HasResult reports whether the file holds a result with replayed turns.
func (f *ReplayFile) HasResult() bool { return f.Result != nil && len(f.Result.Turns) > 0 }

// ReadReplayFile reads and checks a replay file: the schema, a backend
// name, a known status, and a result with turns when the status is ok.
func ReadReplayFile(path string) (*ReplayFile, error) {
	return artifact.Read[ReplayFile](path, artifact.Kind{Prefix: "workload replay", What: "a replay JSON object", Schema: ReplaySchema, NoResult: "no replayed turns"})
}

// Problems lists, in words, what makes an ok replay implausible: a turn
// without positive timings, a warm turn that reused fewer tokens than the
// token plan guarantees (prefix reuse silently stopped), or decode figures
// missing where tokens were decoded.
func (f *ReplayFile) Problems() []string {
	if f.Status != artifact.StatusOK || f.Result == nil {
		return nil
	}
	var out []string
	for _, t := range f.Result.Turns {
		if t.TTFTMS <= 0 || len(t.TTFTSamplesMS) == 0 {
			out = append(out, fmt.Sprintf("turn %d: ttft_ms = %g, want > 0", t.Index, t.TTFTMS))
		}
		if t.DecodedTokens > 0 && t.DecodeTPS <= 0 {
			out = append(out, fmt.Sprintf("turn %d: decode_tps = %g for %d decoded tokens", t.Index, t.DecodeTPS, t.DecodedTokens))
		}
		if t.Warm && t.ReusedTokens < t.ExpectedMinReused {
			out = append(out, fmt.Sprintf("turn %d: reused %d tokens, the token plan guarantees at least %d (prefix reuse stopped)", t.Index, t.ReusedTokens, t.ExpectedMinReused))
		}
	}
	return out
}

// Describe prints the file as fakbench workload replay does: one line with
// the replay's summary, or why the backend did not run. name is the row's
// name.
func (f *ReplayFile) Describe(w io.Writer, name string) {
	if f.DescribeNotRun(w, name) || f.Result == nil {
		return
	}
	s := f.Result.Summary
	fmt.Fprintf(w, "%-10s %2d turns  TTFT total %9.1f ms  median %8.1f ms  warm median %8.1f ms  hit rate %.3f  decode %7.1f tok/s%s\n",
		name, s.Turns, s.TTFTTotalMS, s.TTFTMedianMS, s.WarmTTFTMedianMS, s.HitRate, s.DecodeTPS, itlText(s.InterTokenMS))
}

// itlText is the inter-token latency's percentiles for the summary line
// ("  ITL p50 1.20 p90 1.31 p99 n=40 < 100 ms"), "" without any.
func itlText(d *report.Dist) string {
	if d == nil {
		return ""
	}
	out := "  ITL"
	for _, p := range report.Percentiles {
		if v, ok := d.Get(p); ok {
			out += fmt.Sprintf(" p%d %.3f", p, v)
		} else {
			out += fmt.Sprintf(" p%d %s", p, d.Shortfall(p))
		}
	}
	return out + fmt.Sprintf(" max %.3f ms", d.Max)
}
