package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/adapters/conformance/fake"
	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/transport"
)

// namedBackend gives a fake backend its own registry name.
type namedBackend struct {
	transport.Backend
	name string
}

func (n namedBackend) Name() string { return n.name }

// Test-only backends: a correct fake, a fake whose warm output diverges, one
// that is never available, one that rejects the model file and one that
// fails to open for another reason.
func init() {
	reg := func(name string, open adapters.OpenFunc) {
		adapters.Register(adapters.Entry{Name: name, Description: "test backend", Open: open})
	}
	fakeOpen := func(name string, bugs fake.Bugs) adapters.OpenFunc {
		return func(ctx context.Context, opts adapters.Options) (transport.Backend, error) {
			return namedBackend{fake.New(fake.Config{Vocab: 512, Context: 512, TokenCost: 20 * time.Microsecond, Bugs: bugs}), name}, nil
		}
	}
	reg("testok", fakeOpen("testok", fake.Bugs{}))
	reg("testdiverge", fakeOpen("testdiverge", fake.Bugs{WarmDiverges: true}))
	reg("testgone", func(ctx context.Context, opts adapters.Options) (transport.Backend, error) {
		return nil, &transport.UnavailableError{Backend: "testgone", Reason: "its runtime is not installed", Tried: []string{"/nowhere/libtest.so"}}
	})
	reg("testbadmodel", func(ctx context.Context, opts adapters.Options) (transport.Backend, error) {
		return nil, &transport.BadModelError{File: opts.ModelPath, Reason: "tensor blk.0.attn_q.weight has the wrong shape"}
	})
	reg("testbroken", func(ctx context.Context, opts adapters.Options) (transport.Backend, error) {
		return nil, errors.New("device lost")
	})
	// testflaky opens once (the probe) and then never again.
	var flakyOpens atomic.Int32
	reg("testflaky", func(ctx context.Context, opts adapters.Options) (transport.Backend, error) {
		if flakyOpens.Add(1) > 1 {
			return nil, errors.New("out of device memory")
		}
		return namedBackend{fake.New(fake.Config{Vocab: 512, Context: 512}), "testflaky"}, nil
	})
}

// tinyModel generates the tiny synthetic model into a fresh cache and
// returns its path.
func tinyModel(t *testing.T) string {
	t.Helper()
	t.Setenv("FAK_CACHE_DIR", t.TempDir())
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	cliOK(t, "model", "gen", "--preset", "tiny", "--type", "f32", "--out", path)
	return path
}

func TestRunUsageErrors(t *testing.T) {
	dir := t.TempDir()
	model := tinyModel(t)
	garbage := filepath.Join(dir, "garbage.gguf")
	require.NoError(t, os.WriteFile(garbage, []byte("this is not a GGUF file at all, just text padding it out"), 0o644))
	truncated := filepath.Join(dir, "truncated.gguf")
	data, err := os.ReadFile(model)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(truncated, data[:len(data)/3], 0o644))

	out := filepath.Join(dir, "out")
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"no flags", []string{"run"}, []string{"missing --model"}},
		{"missing model flag", []string{"run", "--backends", "testok", "--out", out}, []string{"missing --model"}},
		{"missing out", []string{"run", "--backends", "testok", "--model", model}, []string{"missing --out"}},
		{"unknown flag", []string{"run", "--model", model, "--out", out, "--turbo"}, []string{"flag provided but not defined: -turbo", "usage: fakbench run"}},
		{"bad flag value", []string{"run", "--model", model, "--out", out, "--reps", "many"}, []string{`invalid value "many" for flag -reps`}},
		{"reps zero", []string{"run", "--backends", "testok", "--model", model, "--out", out, "--reps", "0"}, []string{"--reps 0: want at least 1"}},
		{"negative threads", []string{"run", "--backends", "testok", "--model", model, "--out", out, "--threads", "-2"}, []string{"--threads -2"}},
		{"negative warmup", []string{"run", "--backends", "testok", "--model", model, "--out", out, "--warmup", "-1"}, []string{"--warmup -1"}},
		{"negative ctx", []string{"run", "--backends", "testok", "--model", model, "--out", out, "--ctx", "-5"}, []string{"--ctx -5"}},
		{"bad profile", []string{"run", "--backends", "testok", "--model", model, "--out", out, "--profile", "fast"}, []string{`--profile "fast": want tuned or untuned`}},
		{"stray arg", []string{"run", "--backends", "testok", "--model", model, "--out", out, "extra"}, []string{`unexpected argument "extra"`}},
		{"empty backends", []string{"run", "--backends", " , ", "--model", model, "--out", out}, []string{"--backends is empty (known:", "gokernel"}},
		{"unknown backend", []string{"run", "--backends", "testok,warpdrive", "--model", model, "--out", out}, []string{`unknown backend "warpdrive"`, "known:", "gokernel", "llamacpp", "openvino"}},
		{"duplicate backend", []string{"run", "--backends", "testok,testok", "--model", model, "--out", out}, []string{`names "testok" twice`}},
		{"require outside backends", []string{"run", "--backends", "testok", "--require", "llamacpp", "--model", model, "--out", out}, []string{`--require names "llamacpp", which is not in --backends`}},
		{"missing model file", []string{"run", "--backends", "testok", "--model", filepath.Join(dir, "nope.gguf"), "--out", out}, []string{"nope.gguf", "no such file"}},
		{"not a spec", []string{"run", "--backends", "testok", "--model", "smollm", "--out", out}, []string{`model "smollm": no such file, and not a spec`}},
		{"bad synthetic spec", []string{"run", "--backends", "testok", "--model", "synthetic:huge", "--out", out}, []string{"synthetic:huge", "tiny"}},
		{"corrupt model", []string{"run", "--backends", "testok", "--model", garbage, "--out", out}, []string{"bad model file " + garbage}},
		{"truncated model", []string{"run", "--backends", "testok", "--model", truncated, "--out", out}, []string{"bad model file " + truncated}},
		{"backend rejects model", []string{"run", "--backends", "testok,testbadmodel", "--model", model, "--out", out}, []string{"testbadmodel", "bad model file", "wrong shape"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { assertUsage(t, c.args, c.want...) })
	}
	_, err = os.Stat(filepath.Join(out, "report.md"))
	assert.True(t, os.IsNotExist(err), "no report is written on a usage error")
}

func TestRunHelp(t *testing.T) {
	assertHelp(t, "run", "usage: fakbench run --backends", "-backends", "-model", "-out", "-short", "-threads", "-reps", "-require", "-profile", "-quiet")
}

func TestRunSideBySideWithSkippedRow(t *testing.T) {
	model := tinyModel(t)
	out := filepath.Join(t.TempDir(), "run")
	stdout, errs := cliOK(t, "run", "--backends", "testok,testgone", "--model", model, "--out", out,
		"--short", "--reps", "1", "--threads", "1", "--membw", "20")

	// stdout: the table, with the skipped row's reason.
	assert.Contains(t, stdout, "decode tok/s")
	assert.Contains(t, stdout, "testok")
	assert.Contains(t, stdout, "skipped testgone: backend testgone unavailable: its runtime is not installed")
	// stderr (not a terminal): plain progress lines with counts.
	assert.Contains(t, errs, "fakbench run: testok: cold_full_prefill (0/8")
	assert.Contains(t, errs, "skipping testgone")

	// The HTML report sits beside the JSON and Markdown.
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	require.NoError(t, err)
	assert.Contains(t, string(page), "<svg")
	assert.Contains(t, string(page), "testgone")

	ok, err := report.ReadJSON(filepath.Join(out, "testok.json"))
	require.NoError(t, err)
	assert.Equal(t, "testok", ok.Backend)
	assert.Equal(t, report.StatusOK, ok.Status)
	assert.Empty(t, report.CorrectnessFailures(ok))
	assert.Equal(t, 1, ok.Threads)
	assert.Equal(t, 1, ok.Repetitions)
	assert.True(t, ok.Short)
	assert.Equal(t, model, ok.ModelSpec)
	assert.True(t, strings.HasPrefix(ok.ModelDigest, "sha256:"), ok.ModelDigest)
	assert.Len(t, ok.TokenDigest, 64)
	require.NotNil(t, ok.Host)
	assert.Equal(t, 20.0, ok.Host.MemBWGBs)
	assert.NotEmpty(t, ok.Host.GoVersion)
	assert.Contains(t, ok.Command, "fakbench run --backends testok,testgone")
	assert.Equal(t, report.KindTunedReference, ok.RowKind)
	assert.Equal(t, "fake-1", ok.BackendVersion)
	assert.Positive(t, ok.Decode.RooflineTPS)
	assert.InDelta(t, ok.Decode.TokensPerSec/ok.Decode.RooflineTPS, ok.Decode.RooflineFrac, 1e-12)
	// The roofline's byte count comes from the model file, whatever the
	// backend says about itself.
	gf, err := gguf.Open(model)
	require.NoError(t, err)
	assert.Equal(t, gf.DecodeReadBytes(), ok.Decode.WeightBytesRead)
	require.NoError(t, gf.Close())
	if _, err := os.Stat("/proc/self/status"); err == nil {
		assert.Positive(t, ok.PeakRSSMB)
	}
	assert.NotEmpty(t, ok.StartedAt)
	assert.NotEmpty(t, ok.FinishedAt)

	gone, err := report.ReadJSON(filepath.Join(out, "testgone.json"))
	require.NoError(t, err)
	assert.Equal(t, report.StatusSkipped, gone.Status)
	assert.Equal(t, "backend testgone unavailable: its runtime is not installed (tried: /nowhere/libtest.so)", gone.SkipReason)
	assert.Contains(t, strings.Join(gone.Notes, "\n"), "skipped: backend testgone unavailable")
	assert.Equal(t, ok.ModelDigest, gone.ModelDigest)
	require.NotNil(t, gone.Host)

	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "| metric | testok | testgone |")
	assert.Contains(t, string(md), "- testgone: backend testgone unavailable")
	assert.Contains(t, string(md), "## Reproducibility")
}

func TestRunRequiredBackendUnavailable(t *testing.T) {
	model := tinyModel(t)
	out := filepath.Join(t.TempDir(), "run")
	code, stdout, errs := cli(t, "run", "--backends", "testok,testgone", "--require", "testgone", "--model", model,
		"--out", out, "--short", "--reps", "1", "--quiet", "--membw", "-1")
	assert.Equal(t, exitFailed, code, stdout)
	assert.Contains(t, errs, "required backend testgone is unavailable: backend testgone unavailable: its runtime is not installed")
	assert.NotContains(t, errs, "[0/8]", "--quiet prints no progress")
	// The evidence is still written.
	gone, err := report.ReadJSON(filepath.Join(out, "testgone.json"))
	require.NoError(t, err)
	assert.Equal(t, report.StatusSkipped, gone.Status)
	okr, err := report.ReadJSON(filepath.Join(out, "testok.json"))
	require.NoError(t, err)
	assert.Zero(t, okr.Decode.RooflineTPS, "--membw -1: no roofline")
}

func TestRunCorrectnessFailureExits1(t *testing.T) {
	model := tinyModel(t)
	out := filepath.Join(t.TempDir(), "run")
	code, stdout, errs := cli(t, "run", "--backends", "testdiverge", "--model", model, "--out", out,
		"--short", "--reps", "1", "--quiet", "--membw", "-1")
	assert.Equal(t, exitFailed, code, stdout)
	assert.Contains(t, errs, "fakbench run: testdiverge: warm_changed_suffix.output_equals_cold = false")
	assert.Contains(t, stdout, "FAILED testdiverge")
	r, err := report.ReadJSON(filepath.Join(out, "testdiverge.json"))
	require.NoError(t, err)
	assert.False(t, r.WarmChangedSuffix.OutputEqualsCold)
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "**FAILED** testdiverge")
}

func TestRunOpenFailureIsAFailedRow(t *testing.T) {
	model := tinyModel(t)
	out := filepath.Join(t.TempDir(), "run")
	code, _, errs := cli(t, "run", "--backends", "testok,testbroken", "--model", model, "--out", out,
		"--short", "--reps", "1", "--quiet", "--membw", "-1")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errs, "testbroken failed to open: device lost")
	r, err := report.ReadJSON(filepath.Join(out, "testbroken.json"))
	require.NoError(t, err)
	assert.Equal(t, report.StatusFailed, r.Status)
	assert.Contains(t, strings.Join(r.Notes, "\n"), "open failed: device lost")
}

// In one process a backend that opened for the probe can fail to open
// again for its run (testflaky counts its opens in this process; an
// isolated row opens once in each of its processes).
func TestRunReopenFailureIsAFailedRow(t *testing.T) {
	model := tinyModel(t)
	out := filepath.Join(t.TempDir(), "run")
	code, _, errs := cli(t, "run", "--backends", "testok,testflaky", "--model", model, "--out", out,
		"--short", "--reps", "1", "--quiet", "--membw", "-1", "--isolation", "in_process")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errs, "testflaky failed to reopen: out of device memory")
	r, err := report.ReadJSON(filepath.Join(out, "testflaky.json"))
	require.NoError(t, err)
	assert.Equal(t, report.StatusFailed, r.Status)
	ok, err := report.ReadJSON(filepath.Join(out, "testok.json"))
	require.NoError(t, err)
	assert.Equal(t, report.StatusOK, ok.Status, "the other backend still runs")
}

func TestRunInterrupted(t *testing.T) {
	model := tinyModel(t)
	out := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var so, se bytes.Buffer
	code := dispatch(ctx, []string{"run", "--backends", "testok", "--model", model, "--out", out, "--short", "--membw", "-1"}, &so, &se)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, se.String(), "context canceled")
}

func TestRunFormats(t *testing.T) {
	model := tinyModel(t)
	out := filepath.Join(t.TempDir(), "run")
	stdout, errs := cliOK(t, "run", "--backends", "testok", "--model", model, "--out", out,
		"--short", "--reps", "2", "--threads", "1", "--membw", "20", "--format", "benchstat,csv", "--quiet")
	assert.Contains(t, stdout, "BenchmarkDecode/backend=testok-1\t1\t")
	assert.Contains(t, stdout, "backend,row_kind,profile")
	assert.NotContains(t, stdout, "decode tok/s  ", "no plain table unless json is asked for")
	for _, f := range []string{"report.txt", "report.csv", "report.md", "report.html", "testok.json"} {
		assert.FileExists(t, filepath.Join(out, f))
	}
	assert.NotContains(t, errs, "cold_full_prefill", "--quiet shows no progress")

	assertUsage(t, []string{"run", "--backends", "testok", "--model", model, "--out", out, "--format", "xml"}, `unknown format "xml"`)
}
