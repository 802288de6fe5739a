package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/report"
)

// buildBinary compiles the fakbench binary into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fakbench")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// runBinary runs the binary and returns its exit code, stdout and stderr.
func runBinary(t *testing.T, bin string, env []string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 10 * time.Second
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, so.String(), se.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), so.String(), se.String()
	}
	require.NoError(t, err, "running %s %v", bin, args)
	return -1, "", ""
}

// TestEndToEndGoKernelShort is the "done" check: the built binary
// runs the Go kernel on the tiny synthetic model and writes gokernel.json
// with every correctness flag true and every timing positive, and report.md.
func TestEndToEndGoKernelShort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a benchmark")
	}
	bin := buildBinary(t)
	env := []string{"FAK_CACHE_DIR=" + t.TempDir()}

	code, _, errs := runBinary(t, bin, env)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errs, "usage: fakbench <command> [flags]")
	code, _, errs = runBinary(t, bin, env, "bogus")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errs, `unknown command "bogus"`)

	dir := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runBinary(t, bin, env, "run", "--backends", "gokernel", "--model", "synthetic:tiny", "--out", dir, "--short")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Contains(t, stdout, "decode tok/s")
	assert.Contains(t, stderr, "generating synthetic:tiny:f32")

	keys := readJSON[map[string]any](t, filepath.Join(dir, "gokernel.json"))
	for _, k := range []string{"model", "backend", "mode", "cold_full_prefill", "warm_same_prefix", "warm_changed_suffix",
		"edited_stable_segment", "decode", "suffix_ttft_curve", "failure_cases", "notes"} {
		assert.Contains(t, keys, k)
	}

	r, err := report.ReadJSON(filepath.Join(dir, "gokernel.json"))
	require.NoError(t, err)
	assert.Equal(t, "gokernel", r.Backend)
	assert.Equal(t, report.StatusOK, r.Status, "notes: %v", r.Notes)
	assert.Equal(t, report.KindKernel, r.RowKind)
	assert.Equal(t, 1.0, r.WarmSamePrefix.HitRate)
	assert.True(t, r.WarmChangedSuffix.OutputEqualsCold)
	assert.True(t, r.EditedStable.ExpectedCacheMiss)
	assert.True(t, r.EditedStable.ActualCacheMiss)
	assert.True(t, r.EditedStable.OutputEqualsCold)
	assert.True(t, r.FailureCases.OverContext)
	assert.True(t, r.FailureCases.CancelDecode)
	assert.Empty(t, report.CorrectnessFailures(r))

	positive := map[string]float64{
		"cold_full_prefill.ms":         r.ColdFullPrefill.MS,
		"cold_full_prefill.prompt_tps": r.ColdFullPrefill.PromptTPS,
		"cold_full_prefill.ttft_ms":    r.ColdFullPrefill.TTFTMS,
		"warm_same_prefix.ms":          r.WarmSamePrefix.MS,
		"warm_same_prefix.ttft_ms":     r.WarmSamePrefix.TTFTMS,
		"warm_changed_suffix.ms":       r.WarmChangedSuffix.MS,
		"warm_changed_suffix.ttft_ms":  r.WarmChangedSuffix.TTFTMS,
		"decode.tokens_per_sec":        r.Decode.TokensPerSec,
		"decode.roofline_tps":          r.Decode.RooflineTPS,
		"decode.roofline_fraction":     r.Decode.RooflineFrac,
	}
	for k, v := range positive {
		assert.Positive(t, v, k)
	}
	assert.Positive(t, r.ColdFullPrefill.Tokens)
	assert.Positive(t, r.Decode.OutputTokens)
	require.NotEmpty(t, r.SuffixTTFTCurve)
	for _, p := range r.SuffixTTFTCurve {
		assert.Positive(t, p.SuffixTokens)
		assert.Positive(t, p.TTFTMS, "suffix curve point %d", p.SuffixTokens)
	}

	// Reproducibility facts.
	assert.Equal(t, "synthetic:tiny", r.ModelSpec)
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, r.ModelDigest)
	assert.Regexp(t, `^[0-9a-f]{64}$`, r.TokenDigest)
	assert.Positive(t, r.Threads)
	assert.Positive(t, r.Repetitions)
	assert.NotEmpty(t, r.BackendVersion)
	assert.NotEmpty(t, r.BuildFlags)
	require.NotNil(t, r.Host)
	assert.NotEmpty(t, r.Host.GoVersion)
	assert.Positive(t, r.Host.MemBWGBs)
	assert.Contains(t, r.Command, "fakbench run --backends gokernel --model synthetic:tiny")

	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "| metric | gokernel |")
}
