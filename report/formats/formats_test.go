package formats

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/report"
)

func row(backend, kind string, scale float64) *report.Report {
	r := &report.Report{Model: "synthetic-tiny-f32", Backend: backend, Mode: "live_prefix_reuse",
		ColdFullPrefill:   report.ColdPrefill{Tokens: 128, MS: 100 * scale, PromptTPS: 1280 / scale, TTFTMS: 110 * scale, SamplesMS: []float64{95 * scale, 100 * scale, 120 * scale}, TTFTSamplesMS: []float64{105 * scale, 110 * scale, 130 * scale}},
		WarmSamePrefix:    report.WarmSame{CachedTokens: 128, MS: 0.1, TTFTMS: 10 * scale, HitRate: 1, TTFTSamplesMS: []float64{9 * scale, 10 * scale, 11 * scale}},
		WarmChangedSuffix: report.WarmChanged{CachedTokens: 128, SuffixTokens: 16, MS: 9 * scale, TTFTMS: 9.5 * scale, OutputEqualsCold: true},
		EditedStable:      report.EditedStable{ExpectedCacheMiss: true, ActualCacheMiss: true, OutputEqualsCold: true},
		Decode:            report.Decode{OutputTokens: 16, TokensPerSec: 200 / scale, SamplesTPS: []float64{190 / scale, 200 / scale, 210 / scale}},
		SuffixTTFTCurve:   []report.SuffixTTFT{{SuffixTokens: 1, TTFTMS: 2 * scale, SamplesMS: []float64{2 * scale, 2.1 * scale}}, {SuffixTokens: 64, TTFTMS: 30 * scale}},
		FailureCases:      report.FailureCases{OverContext: true, CancelDecode: true},
	}
	r.RowKind, r.Status, r.Threads, r.Repetitions = kind, report.StatusOK, 2, 3
	r.ModelDigest, r.TokenDigest = "sha256:m", "sha256:t"
	r.Host = &report.Host{Arch: "amd64", CPUModel: "Test CPU"}
	// Three repetitions of 16 inter-token latencies, one per decode sample:
	// enough for each repetition's p50 and p90, not its p99.
	for k := range 3 {
		var itl []float64
		for i := range 16 {
			itl = append(itl, scale*(5+0.1*float64(i)+float64(k)))
		}
		r.Decode.InterTokenSamplesMS = append(r.Decode.InterTokenSamplesMS, itl)
	}
	r.Decode.InterTokenMS = report.NewDist(report.Pooled(r.Decode.InterTokenSamplesMS))
	return r
}

func rows(scale float64) []*report.Report {
	skipped := &report.Report{Backend: "openvino"}
	skipped.Status = report.StatusSkipped
	return []*report.Report{row("gokernel", report.KindKernel, scale), row("llamacpp", report.KindTunedReference, 1), skipped}
}

func TestParse(t *testing.T) {
	got, err := Parse("csv, benchstat,csv")
	require.NoError(t, err)
	assert.Equal(t, []string{"csv", "benchstat"}, got)
	_, err = Parse("xml")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown format "xml"`)
	_, err = Parse(" , ")
	require.Error(t, err)
}

func TestMeasurementsCarrySamplesAndSkipSkippedRows(t *testing.T) {
	ms := Measurements(rows(1))
	require.NotEmpty(t, ms)
	var decode *Measurement
	for i := range ms {
		assert.NotEqual(t, "openvino", ms[i].Backend, "skipped rows have no measurements")
		if ms[i].Backend == "gokernel" && ms[i].Key == "decode.tokens_per_sec" {
			decode = &ms[i]
		}
	}
	require.NotNil(t, decode)
	assert.Equal(t, 200.0, decode.Value)
	assert.Equal(t, []float64{190, 200, 210}, decode.Samples)
	assert.Equal(t, "higher", decode.Better)
}

func TestCSVAndJSONLAgree(t *testing.T) {
	var c, j bytes.Buffer
	require.NoError(t, WriteCSV(&c, rows(1)))
	require.NoError(t, WriteJSONL(&j, rows(1)))
	recs, err := csv.NewReader(&c).ReadAll()
	require.NoError(t, err)
	lines := 0
	sc := bufio.NewScanner(&j)
	for sc.Scan() {
		var m Measurement
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "line %d", lines+1)
		lines++
	}
	assert.Equal(t, lines, len(recs)-1, "one CSV record per JSONL line, plus the header")
	assert.Equal(t, "backend", recs[0][0])
}

func TestBenchstatFormat(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteBenchstat(&b, rows(1)))
	out := b.String()
	assert.Contains(t, out, "threads: 2\n")
	assert.Contains(t, out, "backend: gokernel\n")
	// One line per repetition: three cold-prefill samples per backend.
	assert.Equal(t, 6, strings.Count(out, "BenchmarkColdPrefill/"))
	assert.Contains(t, out, "BenchmarkDecode/backend=llamacpp-2\t1\t5000000 ns/op\t200.000 tok/s")
	assert.NotContains(t, out, "openvino")
	// The decode lines carry each repetition's inter-token percentiles as
	// extra units: p50 of 5.0..6.5 ms is 5.75 ms, p90 6.35 ms, the maximum
	// 6.5 ms; a p99 needs 100 tokens per repetition and is left out.
	assert.Contains(t, out, "BenchmarkDecode/backend=llamacpp-2\t1\t5263158 ns/op\t190.000 tok/s\t5750000 p50-itl-ns\t6350000 p90-itl-ns\t6500000 max-itl-ns\n")
	assert.NotContains(t, out, "p99-itl-ns")

	// Without kept inter-token latencies the decode line is as before.
	bare := rows(1)[1]
	bare.Decode.InterTokenSamplesMS = nil
	b.Reset()
	require.NoError(t, WriteBenchstat(&b, []*report.Report{bare}))
	assert.Contains(t, b.String(), "BenchmarkDecode/backend=llamacpp-2\t1\t5263158 ns/op\t190.000 tok/s\n")

	err := WriteBenchstat(&bytes.Buffer{}, rows(1)[2:])
	require.Error(t, err, "only skipped rows: nothing to write")
}

// TestBenchstatComparesTwoRuns runs the real benchstat (a tool dependency in
// go.mod) on two outputs and checks it reports the change.
func TestBenchstatComparesTwoRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds benchstat")
	}
	dir := t.TempDir()
	for name, scale := range map[string]float64{"old.txt": 1, "new.txt": 2} {
		var b bytes.Buffer
		require.NoError(t, WriteBenchstat(&b, rows(scale)[:1]))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644))
	}
	cmd := exec.Command("go", "tool", "benchstat", filepath.Join(dir, "old.txt"), filepath.Join(dir, "new.txt"))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "benchstat: %s", out)
	s := string(out)
	assert.Contains(t, s, "ColdPrefill/backend=gokernel")
	assert.Contains(t, s, "tok/s")
	assert.Contains(t, s, "+100.00%", "cold prefill time doubled")
	assert.Contains(t, s, "p50-itl-sec", "benchstat compares the inter-token percentiles (scaling ns to sec)")
	assert.Contains(t, s, "max-itl-sec")
}

func TestWriteDispatch(t *testing.T) {
	for _, f := range Names {
		var b bytes.Buffer
		require.NoError(t, Write(&b, f, rows(1)), f)
		assert.NotEmpty(t, b.String(), f)
	}
	require.Error(t, Write(&bytes.Buffer{}, "yaml", rows(1)))
	assert.Equal(t, ".txt", Extension("benchstat"))
	assert.Equal(t, ".csv", Extension("csv"))
}
