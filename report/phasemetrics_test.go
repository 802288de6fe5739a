package report

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// regressRow is a measured kernel row with five repetitions of decode
// throughput, cold prefill time and inter-token latency (128 tokens each,
// every token of repetition k at itl[k]).
func regressRow(tps, coldMS, itl []float64) *Report {
	r := &Report{Model: "m", Backend: "gokernel", Mode: "live_prefix_reuse"}
	r.RowKind, r.Status = KindKernel, StatusOK
	r.Decode = Decode{OutputTokens: 128, TokensPerSec: Percentile(tps, 50), SamplesTPS: tps}
	r.ColdFullPrefill = ColdPrefill{Tokens: 128, MS: Percentile(coldMS, 50), SamplesMS: coldMS, TTFTMS: Percentile(coldMS, 50)}
	r.ColdFullPrefill.PromptTPS = 128 / (r.ColdFullPrefill.MS / 1000)
	for k, v := range itl {
		rep := make([]float64, 128)
		for i := range rep {
			rep[i] = v * (1 + 0.001*float64(i%7+k))
		}
		r.Decode.InterTokenSamplesMS = append(r.Decode.InterTokenSamplesMS, rep)
	}
	r.Decode.InterTokenMS = NewDist(Pooled(r.Decode.InterTokenSamplesMS))
	return r
}

// phaseRows are a kernel row with 2 repetitions of 16 decode tokens (p99
// withheld), memory per phase and Go runtime facts, and a reference row
// with 5 repetitions of 128 tokens and no Go runtime.
func phaseRows() []*Report {
	k := regressRow([]float64{50, 51}, []float64{20, 21}, nil)
	k.Decode.InterTokenSamplesMS = [][]float64{make([]float64, 16), make([]float64, 16)}
	for _, rep := range k.Decode.InterTokenSamplesMS {
		for i := range rep {
			rep[i] = 20 + float64(i%4)
		}
	}
	k.Decode.InterTokenMS = NewDist(Pooled(k.Decode.InterTokenSamplesMS))
	k.ColdFullPrefill.TTFTPercentilesMS = NewDist(k.ColdFullPrefill.SamplesMS)
	k.Memory = &Memory{RSSAfterLoadMB: 300, RSSAfterPrefillMB: 340, RSSEndOfDecodeMB: 345, AnonBeforeSessionMB: 100, AnonEndOfDecodeMB: 130, Positions: 1216}
	k.Memory.CheckKV(smolShape, map[string]string{"type_k": "f16", "type_v": "f16", "n_ctx": "2048"}, 2048)
	k.GoRuntime = &GoRuntime{GOGC: "100", GOMEMLIMIT: "none", GOMAXPROCS: 2, Verdict: "no GC cycle ended during the 32 kept decode tokens",
		Decode:   GCPhase{GCCycles: 0, HeapAllocBytes: 4096},
		Prefill:  GCPhase{HeapAllocBytes: 2048},
		Outliers: []TokenEvent{{Rep: 0, Token: 3, MS: 90}}}
	ref := regressRow([]float64{100, 101, 99, 100.5, 99.5}, []float64{10, 12, 11, 13, 9}, []float64{10, 10.1, 9.9, 10.05, 9.95})
	ref.Backend, ref.RowKind = "llamacpp", KindTunedReference
	ref.ColdFullPrefill.TTFTPercentilesMS = NewDist(ref.ColdFullPrefill.SamplesMS)
	return []*Report{ref, k}
}

func TestTableShowsLatencyMemoryAndGoRuntime(t *testing.T) {
	table := Table(phaseRows())
	for _, want := range []string{
		"decode ITL p50 ms", "decode ITL p90 ms", "decode ITL max ms", "decode ITL stddev ms",
		"RSS after load MiB", "RSS after prefill MiB", "RSS end of decode MiB",
		"KV cache at context MiB", "session growth measured MiB", "KV check",
		"Go GC cycles in decode", "Go heap alloc in decode KiB", "ITL outliers with a GC cycle",
		"n=32 < 100", // the kernel's p99: too few tokens, the count stated
		"consistent",
		"0 of 1",
		"TTFT percentiles withheld: at most 5 repetitions kept per section (p90 needs 10, p99 needs 100; --reps sets the count)",
	} {
		assert.Contains(t, table, want)
	}
	assert.NotContains(t, table, "cold TTFT p90 ms", "no row states a TTFT p90")
}

func TestPhaseMetricsOnlyWhenSomeRowHasThem(t *testing.T) {
	rows := phaseRows()
	for _, r := range rows {
		r.Memory, r.GoRuntime, r.Decode.InterTokenMS = nil, nil, nil
		r.ColdFullPrefill.TTFTPercentilesMS = nil
	}
	table := Table(rows)
	assert.NotContains(t, table, "decode ITL")
	assert.NotContains(t, table, "RSS after load")
	assert.NotContains(t, table, "Go GC")
	assert.NotContains(t, table, "TTFT percentiles withheld")
	assert.Equal(t, "", PhaseNotes(rows))

	// With enough repetitions a TTFT percentile gets its row.
	var xs []float64
	for i := range 12 {
		xs = append(xs, float64(10+i))
	}
	rows[0].ColdFullPrefill.TTFTPercentilesMS = NewDist(xs)
	table = Table(rows)
	assert.Contains(t, table, "cold TTFT p90 ms")
	assert.NotContains(t, table, "cold TTFT p99 ms")
}

func TestMarkdownSaysWhatThePhaseRowsRestOn(t *testing.T) {
	md := Markdown(phaseRows())
	require.Contains(t, md, "## Latency, memory and the Go runtime")
	assert.Contains(t, md, PercentileRule)
	assert.Contains(t, md, "- gokernel: decode inter-token latency: p99: 32 samples, needs 100.")
	assert.Contains(t, md, "- gokernel: KV cache consistent (f16 x f16, 30 layers x 3 KV heads x 64 head dim, 2048 positions from settings.n_ctx): the session grew by 30.0 MiB")
	assert.Contains(t, md, "- gokernel: Go runtime (GOGC 100, GOMEMLIMIT none, GOMAXPROCS 2): no GC cycle ended during the 32 kept decode tokens.")
	assert.Contains(t, md, "| decode ITL p99 ms | 10.17 | n=32 < 100 |  | lower |")
}
