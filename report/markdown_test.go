package report

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMarkdownGolden(t *testing.T) {
	md := Markdown(fixture())
	for _, want := range []string{
		"# fakbench report",
		"## Headline: the kernel's gap to the tuned reference",
		"Kernel row **gokernel** against tuned reference **llama.cpp**",
		"- decode tok/s: gokernel 50, llama.cpp 100: **0.50x** (higher is better; the kernel reaches 50 % of the reference)",
		"- cold TTFT ms: gokernel 2000, llama.cpp 1000: **2.00x** (lower is better; the kernel takes 2.00x the reference's time)",
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
	assert.Contains(t, md, "No headline ratio: this run has no tuned_reference row (llama.cpp, tuned profile) that ran.")
	assert.NotContains(t, md, "gokernel / llama.cpp")
	assert.Contains(t, md, "| metric | gokernel | openvino |\n")

	// A skipped kernel row does not count as the pair.
	k := *rs[1]
	k.Status = StatusSkipped
	md = Markdown([]*Report{rs[0], &k})
	assert.Contains(t, md, "No headline ratio: this run has no kernel row (gokernel) that ran.")
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

func TestRatiosAndPair(t *testing.T) {
	rs := fixture()
	k, ref := Pair(rs)
	require.NotNil(t, k)
	require.NotNil(t, ref)
	assert.Equal(t, "gokernel", k.Backend)
	assert.Equal(t, "llamacpp", ref.Backend)
	// llama.cpp is the preferred tuned reference, wherever it is listed.
	ov := &Report{Backend: "openvino", Extras: Extras{RowKind: KindTunedReference, Status: StatusOK}}
	_, ref2 := Pair([]*Report{ov, rs[1], rs[0]})
	assert.Equal(t, "llamacpp", ref2.Backend)
	_, ref3 := Pair([]*Report{ov, rs[1]})
	assert.Equal(t, "openvino", ref3.Backend)

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
	assert.Equal(t, "llama.cpp", DisplayName("llamacpp"))
	assert.Equal(t, "OpenVINO", DisplayName("openvino"))
	assert.Equal(t, "gokernel", DisplayName("gokernel"))
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
