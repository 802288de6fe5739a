package report

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMarkdownGolden(t *testing.T) {
	md := Markdown(fixture())
	for _, want := range []string{
		"# fakbench report",
		"## Headline: the kernel's gap to the best tuned reference",
		"Kernel row **gokernel** against the best of the tuned references **llama.cpp** on each metric",
		"- decode tok/s: gokernel 50, best reference llama.cpp 100: **0.50x** (higher is better; the kernel reaches 50 % of the reference)\n",
		"- cold TTFT ms: gokernel 2000, best reference llama.cpp 1000: **2.00x** (lower is better; the kernel takes 2.00x the reference's time)\n",
		"## Side by side",
		"| metric | llamacpp | gokernel | openvino | gokernel / llama.cpp | better |",
		"| cold prefill ms | 1000 | 2000 | - | 2.00x | lower |",
		"| cold prefill tok/s | 512 | 256 | - | 0.50x | higher |",
		"| warm same: hit rate | 1 | 1 | - |  |  |",
		"| warm same: TTFT ms | 20 | 40 | - | 2.00x | lower |",
		"| warm changed: output = cold | true | true | - |  |  |",
		"| edited: miss actual | true | true | - |  |  |",
		"| decode tok/s | 100 | 50 | - | 0.50x | higher |",
		"| edited: TTFT ms | 520 | - | - |  | lower |",
		"| warm same: ms | 0.500 | 0.250 | - | 0.50x | lower |",
		"| decode roofline fraction | 0.500 | - | - |  | higher |",
		"| suffix TTFT ms @8 tok | 30 | 60 | - | 2.00x | lower |",
		"| suffix TTFT ms @64 tok | 120 | 240 | - | 2.00x | lower |",
		"| failure: cancel decode | true | true | - |  |  |",
		"## Correctness checks",
		"Every row that ran passes",
		"## Skipped rows",
		"- openvino: backend openvino unavailable: libopenvino_c.so not found",
		"## Notes",
		"- flash attention off for prefill",
		"## Reproducibility",
		"| model digest | `sha256:aaaa` | `sha256:aaaa` |  |",
		"| token-ID digest | `sha256:tttt` | `sha256:tttt` |  |",
		"| threads | `2` | `2` |  |",
		"| settings | `flash_attn=off n_ubatch=512` |  |  |",
		"fakbench run --backends gokernel,llamacpp --model synthetic:smol135m:q8_0 --out out\n```",
	} {
		assert.Contains(t, md, want)
	}
	// The command is listed once although two rows carry it.
	assert.Equal(t, 1, strings.Count(md, "fakbench run --backends"))
	// Rows without data anywhere are left out.
	assert.NotContains(t, md, "peak RSS")
	assert.NotContains(t, md, "batch 1 decode")
}

func TestMarkdownWithoutPair(t *testing.T) {
	rs := fixture()
	md := Markdown([]*Report{rs[1], rs[2]})
	assert.Contains(t, md, "No headline ratio: this run has no tuned_reference row (llama.cpp or OpenVINO, tuned profile) that completed.")
	assert.NotContains(t, md, "gokernel / llama.cpp")
	assert.Contains(t, md, "| metric | gokernel | openvino |\n")

	// A skipped kernel row does not count as the pair.
	k := *rs[1]
	k.Status = StatusSkipped
	md = Markdown([]*Report{rs[0], &k})
	assert.Contains(t, md, "No headline ratio: this run has no kernel row (gokernel) that completed.")

	// Nor does a failed reference row: the headline uses completed rows only.
	ref := *rs[0]
	ref.Status = StatusFailed
	md = Markdown([]*Report{&ref, rs[1]})
	assert.Contains(t, md, "No headline ratio: this run has no tuned_reference row")
}

func TestMarkdownReportsFailures(t *testing.T) {
	rs := fixture()
	bad := *rs[1]
	bad.WarmSamePrefix.HitRate = 0.25
	md := Markdown([]*Report{rs[0], &bad})
	assert.Contains(t, md, "- **FAILED** gokernel: warm_same_prefix.hit_rate = 0.25, want 1")
	assert.NotContains(t, md, "Every row that ran passes")
}

func TestMarkdownBatchAndEscaping(t *testing.T) {
	rs := fixture()
	rs[0].BatchCurve = []BatchPoint{{Batch: 1, TokensPerSec: 100}, {Batch: 4, TokensPerSec: 300}}
	rs[1].BatchCurve = []BatchPoint{{Batch: 1, TokensPerSec: 40}}
	rs[1].Notes = []string{"a | pipe"}
	md := Markdown(rs)
	assert.Contains(t, md, "| batch 1 decode tok/s | 100 | 40 | - | 0.40x | higher |")
	assert.Contains(t, md, "| batch 4 decode tok/s | 300 | - | - |  | higher |")
	assert.Contains(t, md, "- a | pipe") // notes are list items, not table cells
}

func TestTablePlainText(t *testing.T) {
	out := Table(fixture())
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	require.Greater(t, len(lines), 10)
	header := lines[0]
	assert.True(t, strings.HasPrefix(header, "metric "), "header %q", header)
	for _, col := range []string{"llamacpp", "gokernel", "openvino", "gokernel / llama.cpp", "better"} {
		assert.Contains(t, header, col)
	}
	var decode string
	for _, l := range lines {
		if strings.HasPrefix(l, "decode tok/s ") {
			decode = l
		}
	}
	require.NotEmpty(t, decode, "decode row missing in\n%s", out)
	assert.Equal(t, []string{"decode", "tok/s", "100", "50", "-", "0.50x", "higher"}, strings.Fields(decode))
	// Rows are aligned: every table line has the same width up to trailing space.
	w := len(strings.TrimRight(lines[0], " "))
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "skipped ") || strings.HasPrefix(l, "FAILED ") {
			continue
		}
		if strings.HasSuffix(strings.TrimRight(l, " "), "higher") || strings.HasSuffix(strings.TrimRight(l, " "), "lower") {
			assert.Equal(t, w, len(strings.TrimRight(l, " ")), "misaligned line %q", l)
		}
	}
	assert.Contains(t, out, "skipped openvino: backend openvino unavailable")

	bad := *fixture()[1]
	bad.FailureCases.CancelDecode = false
	assert.Contains(t, Table([]*Report{&bad}), "FAILED gokernel: failure_cases.cancel_decode = false")
}

func TestRatiosAndStanding(t *testing.T) {
	rs := fixture()
	st := FindStanding(rs)
	require.True(t, st.OK())
	k := st.Kernel
	require.Len(t, st.Refs, 1, "the skipped OpenVINO row is no reference")
	ref := st.Refs[0]
	assert.Equal(t, "gokernel", k.Backend)
	assert.Equal(t, "llamacpp", ref.Backend)
	r := Ratios(k, ref)
	assert.InDelta(t, 0.5, r["decode.tokens_per_sec"], 1e-12)
	assert.InDelta(t, 2.0, r["cold_full_prefill.ttft_ms"], 1e-12)
	assert.InDelta(t, 2.0, r["suffix_ttft_curve.64"], 1e-12)
	_, hasInfo := r["cold_full_prefill.tokens"]
	assert.False(t, hasInfo, "facts have no ratio")
	_, hasCheck := r["warm_same_prefix.hit_rate"]
	assert.False(t, hasCheck, "checks have no ratio")
	_, hasRoofline := r["decode.roofline_fraction"]
	assert.False(t, hasRoofline, "a figure one row lacks has no ratio")
}

func TestFormatNumberAndColumns(t *testing.T) {
	assert.Equal(t, "512", FormatNumber(512))
	assert.Equal(t, "123.5", FormatNumber(123.45))
	assert.Equal(t, "1.23", FormatNumber(1.2345))
	assert.Equal(t, "0.123", FormatNumber(0.12345))
	assert.Equal(t, "NaN", FormatNumber(nan()))

	cols := Columns([]*Report{
		{Backend: "gokernel", Extras: Extras{RowKind: KindKernel}},
		{Backend: "gokernel", Extras: Extras{RowKind: KindAblation}},
		{Backend: "gokernel", Extras: Extras{RowKind: KindAblation, RowLabel: "gokernel scalar"}},
		nil,
	})
	require.Len(t, cols, 3)
	assert.Equal(t, "gokernel (kernel)", cols[0].Label)
	assert.Equal(t, "gokernel (ablation)", cols[1].Label)
	assert.Equal(t, "gokernel scalar", cols[2].Label)
	assert.Equal(t, "llama.cpp", DisplayName(&Report{Backend: "llamacpp", Extras: Extras{BackendDisplay: "llama.cpp"}}))
	assert.Equal(t, "gokernel", DisplayName(&Report{Backend: "gokernel"}), "no recorded display name: the backend's")
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

func TestFormatRatio(t *testing.T) {
	assert.Equal(t, "0.50x", FormatRatio(0.5))
	assert.Equal(t, "33.25x", FormatRatio(33.25))
	assert.Equal(t, "150x", FormatRatio(150.2))
	assert.Equal(t, "0.00456x", FormatRatio(0.004561))
	assert.Equal(t, "0.0812x", FormatRatio(0.08123))
}

func TestGapWords(t *testing.T) {
	assert.Equal(t, "the kernel reaches 49 % of the reference", gapWords(Higher, 0.49))
	assert.Equal(t, "the kernel reaches 4.53x the reference", gapWords(Higher, 4.53))
	assert.Equal(t, "the kernel is 4.00x faster", gapWords(Lower, 0.25))
	assert.Equal(t, "the kernel takes 2.00x the reference's time", gapWords(Lower, 2))
	assert.Empty(t, gapWords(Info, 2))
}

// twoRefs is the fixture with a completed OpenVINO reference that prefills
// faster than llama.cpp but decodes slower, as on an AMX Xeon.
func twoRefs() []*Report {
	rs := fixture()
	ov := *rs[0]
	ov.Backend, ov.BackendVersion, ov.Notes, ov.BackendDisplay = "openvino", "2026.4.1", nil, "OpenVINO"
	ov.Settings = map[string]string{"inference_precision": "bf16"}
	ov.ColdFullPrefill = ColdPrefill{Tokens: 512, MS: 250, PromptTPS: 2048, TTFTMS: 260}
	ov.Decode = Decode{OutputTokens: 64, TokensPerSec: 25}
	rs[2] = &ov
	return rs
}

func TestStandingPicksTheBestReferencePerMetric(t *testing.T) {
	st := FindStanding(twoRefs())
	require.True(t, st.OK())
	require.Len(t, st.Refs, 2)
	byKey := map[string]Metric{}
	for _, m := range Metrics(twoRefs()) {
		byKey[m.Key] = m
	}
	// Prefill: OpenVINO is best (2048 tok/s > 512); the kernel is at 256.
	v, ref, ok := st.Gap(byKey["cold_full_prefill.prompt_tps"])
	require.True(t, ok)
	assert.Equal(t, "openvino", ref.Backend)
	assert.InDelta(t, 0.125, v, 1e-12)
	// Lower is better: the lowest TTFT is best (OpenVINO 260 ms).
	v, ref, ok = st.Gap(byKey["cold_full_prefill.ttft_ms"])
	require.True(t, ok)
	assert.Equal(t, "openvino", ref.Backend)
	assert.InDelta(t, 2000.0/260, v, 1e-12)
	// Decode: llama.cpp is best (100 > 25).
	v, ref, ok = st.Gap(byKey["decode.tokens_per_sec"])
	require.True(t, ok)
	assert.Equal(t, "llamacpp", ref.Backend)
	assert.InDelta(t, 0.5, v, 1e-12)
	// A figure no reference has gives no gap; a fact has no direction.
	_, _, ok = st.Gap(byKey["cold_full_prefill.tokens"])
	assert.False(t, ok)

	// The ratio to the best is never above the ratio to any reference for
	// higher-is-better metrics, nor below it for lower-is-better ones.
	for _, m := range Metrics(twoRefs()) {
		best, _, ok := st.Gap(m)
		if !ok {
			continue
		}
		for _, r := range st.Refs {
			if each, ok := Ratio(m, st.Kernel, r); ok {
				if m.Better == Higher {
					assert.LessOrEqual(t, best, each+1e-12, m.Key)
				} else {
					assert.GreaterOrEqual(t, best, each-1e-12, m.Key)
				}
			}
		}
	}
}

func TestAnnotateRecordsBestAndEachReference(t *testing.T) {
	rs := twoRefs()
	FindStanding(rs).Annotate()
	k := rs[1]
	assert.InDelta(t, 0.125, k.VsReference["cold_full_prefill.prompt_tps"], 1e-12)
	assert.Equal(t, "openvino", k.BestReference["cold_full_prefill.prompt_tps"])
	assert.Equal(t, "llamacpp", k.BestReference["decode.tokens_per_sec"])
	assert.InDelta(t, 0.5, k.VsReferences["llamacpp"]["cold_full_prefill.prompt_tps"], 1e-12)
	assert.InDelta(t, 2.0, k.VsReferences["openvino"]["decode.tokens_per_sec"], 1e-12)
	// Without a reference nothing is written.
	lone := fixture()[1]
	FindStanding([]*Report{lone}).Annotate()
	assert.Nil(t, lone.VsReference)
}

func TestHeadlineNamesTheBestReferencePerMetric(t *testing.T) {
	md := Markdown(twoRefs())
	for _, want := range []string{
		"Kernel row **gokernel** against the best of the tuned references **llama.cpp**, **OpenVINO** on each metric",
		"- cold prefill tok/s: gokernel 256, best reference OpenVINO 2048: **0.12x** (higher is better; the kernel reaches 12 % of the reference); against llama.cpp 512: 0.50x\n",
		"- decode tok/s: gokernel 50, best reference llama.cpp 100: **0.50x** (higher is better; the kernel reaches 50 % of the reference); against OpenVINO 25: 2.00x\n",
		"| metric | llamacpp | gokernel | openvino | best reference | gokernel / best | gokernel / llama.cpp | gokernel / OpenVINO | better |",
		"| cold prefill tok/s | 512 | 256 | 2048 | OpenVINO | 0.12x | 0.50x | 0.12x | higher |",
		"| decode tok/s | 100 | 50 | 25 | llama.cpp | 0.50x | 0.50x | 2.00x | higher |",
	} {
		assert.Contains(t, md, want)
	}
	// The plain table and the comparison agree with report.md.
	table := Table(twoRefs())
	assert.Contains(t, table, "best reference")
	var decode []string
	for _, l := range strings.Split(table, "\n") {
		if strings.HasPrefix(l, "decode tok/s ") {
			decode = strings.Fields(l)
		}
	}
	assert.Equal(t, []string{"decode", "tok/s", "100", "50", "25", "llama.cpp", "0.50x", "0.50x", "2.00x", "higher"}, decode)
	cmp := CompareMarkdown([]RunSet{{Label: "a", Reports: fixture()}, {Label: "b", Reports: twoRefs()}}, false)
	assert.Contains(t, cmp, "- cold prefill tok/s: kernel / best reference 0.50x (llama.cpp) -> 0.12x (OpenVINO) (higher is better): -75 % of the gap closed")
	assert.Contains(t, cmp, "| b: best reference |")
}

func TestHeadlineSummaryAgreesWithMarkdown(t *testing.T) {
	lines := HeadlineSummary(twoRefs())
	require.NotEmpty(t, lines)
	assert.Equal(t, "decode tok/s: gokernel 50, best reference llama.cpp 100: 0.50x (higher is better); against OpenVINO 25: 2.00x", lines[0])
	md := Markdown(twoRefs())
	assert.Contains(t, md, "best reference llama.cpp 100: **0.50x**")
	assert.Nil(t, HeadlineSummary(fixture()[1:]), "no reference that completed, no headline")
}

func TestJoinSortedGoesInKeyOrder(t *testing.T) {
	item := func(k string, v int) string { return k + "=" + strconv.Itoa(v) }
	assert.Equal(t, "a=1; b=2; c=3", JoinSorted(map[string]int{"c": 3, "a": 1, "b": 2}, "; ", item))
	assert.Equal(t, "", JoinSorted(map[string]int{}, "; ", item))
	assert.Equal(t, "", JoinSorted[int](nil, "; ", item))
}
