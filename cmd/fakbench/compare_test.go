package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/report"
)

// compare refuses runs of different workloads (exit 2, the differing
// fields named per run directory) unless --allow-mismatch, which warns at
// the top of the Markdown and the HTML page and goes on.
func TestCompareRefusesMismatchedRuns(t *testing.T) {
	base := t.TempDir()
	a, b := filepath.Join(base, "a"), filepath.Join(base, "b")
	row := func(backend, kind string, tps float64, digest string, short bool) *report.Report {
		r := sampleReport(backend, kind, tps)
		r.ModelSpec, r.ModelDigest, r.TokenDigest, r.Short = "synthetic:tiny", digest, "sha256:tok", short
		r.Scenario = &report.ScenarioShape{StableTokens: 64, SuffixTokens: 8, MaxDecode: 16}
		return r
	}
	writeRun(t, a, row("llamacpp", report.KindTunedReference, 100, "sha256:one", false), row("gokernel", report.KindKernel, 40, "sha256:one", false))
	writeRun(t, b, row("llamacpp", report.KindTunedReference, 100, "sha256:two", true), row("gokernel", report.KindKernel, 70, "sha256:two", true))

	code, out, errs := cli(t, "compare", a, b)
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, out, "nothing compared")
	assert.Contains(t, errs, "fakbench compare: runs differ in model_digest ("+a+": sha256:one, "+b+": sha256:two), short ("+a+": false, "+b+": true)")
	assert.Contains(t, errs, "--allow-mismatch")

	htmlFile := filepath.Join(base, "cmp.html")
	out, _ = cliOK(t, "compare", "--allow-mismatch", "--html", htmlFile, a, b)
	warning := strings.Index(out, "> **Warning: these runs did not do the same work")
	require.GreaterOrEqual(t, warning, 0, out)
	assert.Less(t, warning, strings.Index(out, "## Headline"), "the warning heads the document")
	assert.Contains(t, out, "> - model_digest ("+a+": sha256:one, "+b+": sha256:two)\n")
	assert.Contains(t, out, "> - short ("+a+": false, "+b+": true)\n")
	assert.Contains(t, out, "gap closed a -> b", "the comparison goes on")
	page, err := os.ReadFile(htmlFile)
	require.NoError(t, err)
	assert.Contains(t, string(page), "<li><code>model_digest ("+a+": sha256:one, "+b+": sha256:two)</code></li>")

	// A folder mixing a stale file of an earlier run with another model is
	// refused the same way, naming the files.
	stale := row("gokernel", report.KindAblation, 30, "sha256:two", false)
	stale.ModelSpec = "synthetic:tiny:f16"
	require.NoError(t, report.WriteJSON(filepath.Join(a, "gokernel-stale.json"), stale))
	assertUsage(t, []string{"compare", a}, "model_digest within "+a+" (", filepath.Join(a, "gokernel-stale.json")+": sha256:two")
}

// compare marks what moved beyond its run-to-run spread, judged on the
// kept samples, and its regression gate decides --fail-on-regression: a
// decode slowed down in every repetition fails it (exit 1, named on
// stderr), a cold prefill whose repetitions overlap is noise; without the
// flag the comparison still exits 0.
func TestCompareFailsOnRegression(t *testing.T) {
	base := t.TempDir()
	old, slow := filepath.Join(base, "old"), filepath.Join(base, "slow")
	row := func(backend string, tps, coldMS []float64) *report.Report {
		r := sampleReport(backend, report.KindKernel, tps[2])
		r.Decode.SamplesTPS = tps
		r.ColdFullPrefill.SamplesMS, r.ColdFullPrefill.MS = coldMS, coldMS[2]
		return r
	}
	writeRun(t, old, row("gokernel", []float64{100, 101, 99, 100.5, 99.5}, []float64{10, 12, 11, 13, 9}))
	writeRun(t, slow, row("gokernel", []float64{80, 81, 79, 80.5, 79.5}, []float64{11, 10, 12, 13, 9.5}))

	out, errs := cliOK(t, "compare", old, slow)
	assert.Contains(t, out, "## Changes beyond run-to-run spread: `old` -> `slow`")
	assert.Contains(t, out, "| gokernel | decode tok/s (higher is better) | 100 ±∞ | 80 ±∞ | -20.0 % | p=0.008 n=5 | worse |")
	assert.Regexp(t, `\| gokernel \| cold prefill ms \(lower is better\) \| 11 ±∞ \| 11 ±∞ \| ~ \| p=[0-9.]+ n=5 \| within noise \|`, out)
	failure := "gokernel decode tok/s -20.0 % (100 -> 80, p=0.00794 <= 0.025 at step 1 of 2)"
	assert.Contains(t, out, "**Gate: FAILED**, 1 regression(s):\n\n- "+failure, "two headline tests: decode and prefill tok/s")
	assert.Empty(t, errs)

	code, out, errs := cli(t, "compare", "--fail-on-regression", old, slow)
	assert.Equal(t, exitFailed, code, errs)
	assert.Contains(t, out, "**Gate: FAILED**", "the Markdown is printed before the exit")
	assert.Equal(t, "fakbench compare: regression gate: "+failure+"\n", errs)

	// Every metric judged: three tests, the decode still fails.
	code, out, errs = cli(t, "compare", "--fail-on-regression", "--gate-all-metrics", old, slow)
	assert.Equal(t, exitFailed, code, errs)
	assert.Contains(t, out, "The gate judges every metric of the table above (--gate-all-metrics)")
	assert.Contains(t, errs, "p=0.00794 <= 0.0166 at step 1 of 3")

	// The other way round it is an improvement: nothing fails.
	code, out, errs = cli(t, "compare", "--fail-on-regression", slow, old)
	assert.Equal(t, exitOK, code, errs)
	assert.Contains(t, out, "| +25.0 % | p=0.008 n=5 | better |")
	assert.Contains(t, out, "| 1 | gokernel | decode tok/s | +25.0 % | 0.00794 | 0.025 | improvement |")
	assert.Contains(t, out, "**Gate: passed**: no test of the 2 was rejected in the worse direction.")

	// One run has nothing to regress against.
	code, _, errs = cli(t, "compare", "--fail-on-regression", old)
	assert.Equal(t, exitOK, code, errs)
}

// The gate's false failures are bounded by its scope and correction, and
// it never passes what it cannot judge: two runs of three rows at 5
// repetitions pass on their 6 headline tests and cannot be judged on all
// 9 metrics (no U test on 5 against 5 gets below 0.05 / 9), which fails.
func TestCompareGateNeedsRepetitionsForItsTests(t *testing.T) {
	base := t.TempDir()
	a, b := filepath.Join(base, "a"), filepath.Join(base, "b")
	run := func(dir string, shift float64) {
		var rows []*report.Report
		for _, backend := range []string{"gokernel", "llamacpp", "openvino"} {
			r := sampleReport(backend, report.KindKernel, 100)
			r.Decode.SamplesTPS = []float64{100 + shift, 98, 102, 101, 99}
			r.ColdFullPrefill.SamplesMS = []float64{10, 11 + shift, 9, 10.5, 9.5}
			rows = append(rows, r)
		}
		writeRun(t, dir, rows...)
	}
	run(a, 0)
	run(b, 0.25)

	code, out, errs := cli(t, "compare", "--fail-on-regression", a, b)
	assert.Equal(t, exitOK, code, errs)
	assert.Contains(t, out, "**Gate: passed**: no test of the 6 was rejected in the worse direction.")

	code, out, errs = cli(t, "compare", "--fail-on-regression", "--gate-all-metrics", a, b)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, out, "**Gate: cannot judge, so it fails**")
	assert.Contains(t, errs, "fakbench compare: regression gate: cannot judge, so it fails: none of its 9 tests can reach Holm's first level, p <= 0.00555 (0.05 / 9, rounded down)")
	assert.Contains(t, errs, "need >= 6 samples")

	code, _, errs = cli(t, "compare", "--gate-all-metrics", a, b)
	assert.Equal(t, exitOK, code, "without --fail-on-regression the gate only reports: %s", errs)
}
