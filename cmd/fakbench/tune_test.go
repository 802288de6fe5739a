package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/adapters/conformance/fake"
	"github.com/fakbench/fakbench/gokernel/kernels"
	"github.com/fakbench/fakbench/harness/sweep"
	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/transport"
)

// testknob is a fake backend with options, for sweeps: cost sets the spin
// time per computed token in microseconds, bug=diverge makes warm outputs
// differ from cold; any other key is refused, as a real backend does.
func init() {
	adapters.Register(adapters.Entry{Name: "testknob", Description: "test backend with options",
		Open: func(ctx context.Context, opts adapters.Options) (transport.Backend, error) {
			cfg := fake.Config{Vocab: 512, Context: 512, TokenCost: 5 * time.Microsecond}
			for k, v := range opts.Extra {
				switch k {
				case "cost":
					us, err := strconv.Atoi(v)
					if err != nil || us < 0 {
						return nil, fmt.Errorf("testknob: option cost=%q: want microseconds", v)
					}
					cfg.TokenCost = time.Duration(us) * time.Microsecond
				case "bug":
					cfg.Bugs.WarmDiverges = v == "diverge"
				default:
					return nil, fmt.Errorf("testknob: unknown option %q", k)
				}
			}
			return namedBackend{fake.New(cfg), "testknob"}, nil
		}})
}

func TestTuneUsageErrors(t *testing.T) {
	model := tinyModel(t)
	out := filepath.Join(t.TempDir(), "tune")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing model", []string{"tune", "--out", out}, "missing --model"},
		{"missing out", []string{"tune", "--model", model}, "missing --out"},
		{"unknown backend", []string{"tune", "--backend", "warpdrive", "--model", model, "--out", out}, `unknown backend "warpdrive"`},
		{"no default grid", []string{"tune", "--backend", "testknob", "--model", model, "--out", out}, `no default grid for backend "testknob"`},
		{"bad grid", []string{"tune", "--backend", "testknob", "--grid", "cost", "--model", model, "--out", out}, `--grid: grid item "cost": want key=value`},
		{"threads swept", []string{"tune", "--backend", "testknob", "--grid", "threads=1,2", "--model", model, "--out", out}, "threads cannot be swept"},
		{"bad option", []string{"tune", "--backend", "testknob", "--grid", "cost=5;turbo=on", "--model", model, "--out", out}, `--grid: configuration cost=5 turbo=on: testknob: unknown option "turbo"`},
		{"bad value in a later config", []string{"tune", "--backend", "testknob", "--grid", "cost=5,fast", "--model", model, "--out", out}, `configuration cost=fast: testknob: option cost="fast"`},
		{"reps", []string{"tune", "--backend", "testknob", "--grid", "cost=5", "--reps", "0", "--model", model, "--out", out}, "--reps 0"},
		{"threads", []string{"tune", "--threads", "-1", "--model", model, "--out", out}, "--threads -1"},
		{"stray", []string{"tune", "--model", model, "--out", out, "now"}, `unexpected argument "now"`},
		{"missing model file", []string{"tune", "--backend", "testknob", "--grid", "cost=5", "--model", filepath.Join(out, "no.gguf"), "--out", out}, "no.gguf"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, errs := cli(t, c.args...)
			assert.Equal(t, exitUsage, code, "stdout:\n%s\nstderr:\n%s", stdout, errs)
			assert.Contains(t, errs, c.want)
			assert.NotContains(t, errs, "panic")
		})
	}
	_, err := os.Stat(filepath.Join(out, "sweep-testknob.json"))
	assert.True(t, os.IsNotExist(err), "nothing is written on a usage error")

	code, _, errs := cli(t, "tune", "-h")
	assert.Equal(t, exitOK, code)
	for _, f := range []string{"usage: fakbench tune --backend llamacpp", "-grid", "-threads", "-short", "flash_attn=on,off;n_ubatch=256,512"} {
		assert.Contains(t, errs, f)
	}
}

func TestTuneComposesAndExcludes(t *testing.T) {
	model := tinyModel(t)
	out := filepath.Join(t.TempDir(), "tune")
	code, stdout, errs := cli(t, "tune", "--backend", "testknob", "--grid", "cost=2,200;bug=none,diverge",
		"--model", model, "--out", out, "--short", "--reps", "1", "--threads", "1", "--membw", "20")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, errs)
	assert.Contains(t, errs, "fakbench: sweep testknob 1/4: cost=2 bug=none")
	assert.Contains(t, stdout, "cost=200 bug=diverge")
	assert.Contains(t, stdout, "excluded: correctness check failed: warm_changed_suffix.output_equals_cold = false")
	assert.Contains(t, stdout, "threads fixed at 1, the run's thread count")

	s, err := sweep.ReadFile(filepath.Join(out, "sweep-testknob.json"))
	require.NoError(t, err)
	require.Len(t, s.Results, 4)
	assert.Equal(t, model, s.Model)
	assert.Equal(t, 1, s.Threads)
	for _, r := range s.Results {
		require.NotNil(t, r.Report, r.Config.Name)
		assert.Equal(t, r.Config.Extra["bug"] == "diverge", r.Excluded, r.Config.Name)
		assert.Equal(t, 1, r.Report.Threads)
		assert.Equal(t, report.KindTunedReference, r.Report.RowKind)
		assert.Contains(t, strings.Join(r.Report.Notes, "\n"), "sweep configuration "+r.Config.Name)
	}
	require.NotNil(t, s.Tuned)
	assert.Empty(t, report.CorrectnessFailures(s.Tuned))
	// 2 us against 200 us per token: the cheap configuration wins the
	// prefill-bound sections.
	byID := map[string]string{}
	for _, c := range s.Choices {
		byID[c.Section] = c.Config
	}
	assert.Equal(t, "cost=2 bug=none", byID["cold_full_prefill"])
	assert.Equal(t, "cost=2 bug=none", byID["warm_changed_suffix"])
	assert.Contains(t, s.Tuned.Settings["sweep"], "best of 2 eligible configurations")
}

func TestTuneNothingEligibleExits1(t *testing.T) {
	model := tinyModel(t)
	out := filepath.Join(t.TempDir(), "tune")
	code, stdout, errs := cli(t, "tune", "--backend", "testknob", "--grid", "bug=diverge", "--model", model, "--out", out,
		"--short", "--reps", "1", "--quiet", "--membw", "-1")
	assert.Equal(t, exitFailed, code, stdout)
	assert.Contains(t, errs, "no configuration passed its correctness checks")
	s, err := sweep.ReadFile(filepath.Join(out, "sweep-testknob.json"))
	require.NoError(t, err, "the evidence is written anyway")
	assert.Nil(t, s.Tuned)
	assert.Len(t, s.Results, 1)
}

func TestRunRowFlagUsageErrors(t *testing.T) {
	model := tinyModel(t)
	out := filepath.Join(t.TempDir(), "out")
	base := []string{"run", "--model", model, "--out", out}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"grid without sweep", []string{"--backends", "llamacpp", "--grid", "flash_attn=on"}, "--grid needs --sweep"},
		{"sweep without llamacpp", []string{"--backends", "gokernel", "--sweep"}, "--sweep tunes llamacpp, which is not in --backends (gokernel)"},
		{"sweep untuned", []string{"--backends", "llamacpp", "--sweep", "--profile", "untuned"}, "needs --profile tuned"},
		{"bad grid", []string{"--backends", "llamacpp", "--sweep", "--grid", "flash_attn=;"}, `--grid: grid key "flash_attn" has no values`},
		{"threads grid", []string{"--backends", "llamacpp", "--sweep", "--grid", "threads=1,2"}, "threads cannot be swept"},
		{"untuned without llamacpp", []string{"--backends", "gokernel", "--untuned"}, "--untuned adds llama.cpp's untuned row"},
		{"untuned twice", []string{"--backends", "llamacpp", "--untuned", "--profile", "untuned"}, "run the untuned profile twice"},
		{"unknown ablation", []string{"--backends", "gokernel", "--ablations", "generic,no-simd"}, `unknown ablation "no-simd" (known: generic, no-reuse)`},
		{"duplicate ablation", []string{"--backends", "gokernel", "--ablations", "generic,generic"}, `--ablations names "generic" twice`},
		{"ablation without gokernel", []string{"--backends", "testok", "--ablations", "no-reuse"}, "gokernel is not in --backends (testok)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, errs := cli(t, append(append([]string{}, base...), c.args...)...)
			assert.Equal(t, exitUsage, code, "stdout:\n%s\nstderr:\n%s", stdout, errs)
			assert.Contains(t, errs, c.want)
		})
	}
	code, _, errs := cli(t, "run", "-h")
	assert.Equal(t, exitOK, code)
	for _, f := range []string{"-sweep", "-grid", "-ablations", "-untuned"} {
		assert.Contains(t, errs, f)
	}
}

func TestRunAblationRows(t *testing.T) {
	model := tinyModel(t)
	out := filepath.Join(t.TempDir(), "run")
	before := kernels.Name()
	code, stdout, errs := cli(t, "run", "--backends", "gokernel", "--ablations", "generic,no-reuse", "--model", model,
		"--out", out, "--short", "--reps", "1", "--threads", "1", "--membw", "-1")
	require.Equal(t, exitOK, code, "an ablation's expected cache-reuse failure is not a failed run\nstdout:\n%s\nstderr:\n%s", stdout, errs)
	assert.Equal(t, before, kernels.Name(), "the generic row restored the kernel set")
	assert.Contains(t, errs, "gokernel-noreuse: warm_same_prefix.hit_rate = 0, want 1 (expected for this ablation, not counted)")
	assert.Contains(t, stdout, "gokernel-generic")
	assert.Contains(t, stdout, "gokernel-noreuse")

	k, err := report.ReadJSON(filepath.Join(out, "gokernel.json"))
	require.NoError(t, err)
	assert.Equal(t, report.KindKernel, k.RowKind)
	assert.Equal(t, "on", k.Settings["prefix_reuse"])

	gen, err := report.ReadJSON(filepath.Join(out, "gokernel-generic.json"))
	require.NoError(t, err)
	assert.Equal(t, report.KindAblation, gen.RowKind)
	assert.Equal(t, "gokernel-generic", gen.RowLabel)
	assert.Equal(t, "gokernel", gen.Backend)
	assert.Equal(t, "generic", gen.Settings["kernels"])
	assert.Contains(t, gen.BackendVersion, "gokernel/generic")
	assert.Empty(t, report.CorrectnessFailures(gen))
	assert.Contains(t, strings.Join(gen.Notes, "\n"), "ablation gokernel-generic: the pure-Go (generic) kernels")
	// The generic row switches the process-wide kernel set: in its own
	// process (the default isolation) it takes turns with the others.
	require.NotNil(t, gen.Schedule)
	assert.Equal(t, "interleaved", gen.Schedule.Mode)
	require.NotNil(t, k.Schedule)
	assert.Equal(t, []string{"gokernel", "gokernel-generic", "gokernel-noreuse"}, k.Schedule.Rows)

	nr, err := report.ReadJSON(filepath.Join(out, "gokernel-noreuse.json"))
	require.NoError(t, err)
	assert.Equal(t, report.KindAblation, nr.RowKind)
	assert.Equal(t, "off", nr.Settings["prefix_reuse"])
	assert.Zero(t, nr.WarmSamePrefix.HitRate)
	assert.Zero(t, nr.WarmSamePrefix.CachedTokens)
	assert.True(t, nr.WarmChangedSuffix.OutputEqualsCold)
	assert.True(t, nr.EditedStable.ActualCacheMiss)
	assert.True(t, nr.EditedStable.OutputEqualsCold)
	assert.Equal(t, []string{"warm_same_prefix.hit_rate = 0, want 1"}, report.CorrectnessFailures(nr))

	// In one process the generic row never shares it: it runs alone after
	// the other two, which take turns.
	out = filepath.Join(t.TempDir(), "inproc")
	code, stdout, errs = cli(t, "run", "--backends", "gokernel", "--ablations", "generic,no-reuse", "--model", model,
		"--out", out, "--short", "--reps", "1", "--threads", "1", "--membw", "-1", "--isolation", "in_process")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, errs)
	assert.Equal(t, before, kernels.Name(), "the generic row restored the kernel set")
	gen, err = report.ReadJSON(filepath.Join(out, "gokernel-generic.json"))
	require.NoError(t, err)
	require.NotNil(t, gen.Schedule)
	assert.Equal(t, "sequential", gen.Schedule.Mode)
	assert.Contains(t, gen.Schedule.Rule, "switches process-wide state")
	k, err = report.ReadJSON(filepath.Join(out, "gokernel.json"))
	require.NoError(t, err)
	require.NotNil(t, k.Schedule)
	assert.Equal(t, "interleaved", k.Schedule.Mode)
	assert.Equal(t, []string{"gokernel", "gokernel-noreuse"}, k.Schedule.Rows)
	assert.Equal(t, []string{"warm_same_prefix.hit_rate"}, nr.ExpectedFailures, "the run records what the ablation fails by design")

	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "gokernel-noreuse")
}

func TestExpectedFailure(t *testing.T) {
	abl := &report.Report{}
	abl.RowKind = report.KindAblation
	abl.ExpectedFailures = []string{"warm_same_prefix.hit_rate"} // as the run records the no-reuse ablation's
	assert.True(t, report.ExpectedFailure(abl, "warm_same_prefix.hit_rate = 0, want 1"))
	assert.False(t, report.ExpectedFailure(abl, "warm_changed_suffix.output_equals_cold = false"), "other checks of an ablation still count")
	assert.False(t, report.ExpectedFailure(abl, "failure_cases.cancel_decode = false"))

	kernel := &report.Report{}
	kernel.RowKind = report.KindKernel
	kernel.ExpectedFailures = []string{"warm_same_prefix.hit_rate"}
	assert.False(t, report.ExpectedFailure(kernel, "warm_same_prefix.hit_rate = 0, want 1"), "only an ablation row")

	generic := &report.Report{}
	generic.RowKind = report.KindAblation
	assert.False(t, report.ExpectedFailure(generic, "warm_same_prefix.hit_rate = 0.5, want 1"), "only the checks the ablation lists")
}

func TestRunSweepAndAblationOnLlamacpp(t *testing.T) {
	requireLlamacpp(t)
	if testing.Short() {
		t.Skip("runs llama.cpp twice and the Go kernel twice")
	}
	model := tinyModel(t)
	out := filepath.Join(t.TempDir(), "run")
	code, stdout, errs := cli(t, "run", "--backends", "gokernel,llamacpp", "--sweep", "--grid", "flash_attn=on,off",
		"--ablations", "no-reuse", "--model", model, "--out", out,
		"--short", "--reps", "1", "--warmup", "0", "--threads", "1", "--membw", "20", "--quiet")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, errs)

	s, err := sweep.ReadFile(filepath.Join(out, "sweep-llamacpp.json"))
	require.NoError(t, err)
	require.Len(t, s.Results, 2)
	for _, r := range s.Results {
		require.NotNil(t, r.Report)
		assert.Equal(t, r.Config.Extra["flash_attn"], r.Report.Settings["flash_attn"], "the configuration reached llama.cpp")
		assert.Equal(t, "1", r.Report.Settings["threads"], "threads fixed to the run's")
	}
	require.NotNil(t, s.Tuned)

	ref, err := report.ReadJSON(filepath.Join(out, "llamacpp.json"))
	require.NoError(t, err)
	assert.Equal(t, report.KindTunedReference, ref.RowKind)
	assert.Equal(t, s.Tuned.ColdFullPrefill.PromptTPS, ref.ColdFullPrefill.PromptTPS)
	assert.Contains(t, ref.Settings["sweep"], "grid flash_attn=on,off")
	assert.NotEmpty(t, ref.Settings["sweep.decode"])
	notes := strings.Join(ref.Notes, "\n")
	assert.Contains(t, notes, "tuned reference: cold_full_prefill from flash_attn=")
	assert.Contains(t, notes, "kept in sweep-llamacpp.json")
	assert.NotContains(t, notes, "tuned reference not swept")

	k, err := report.ReadJSON(filepath.Join(out, "gokernel.json"))
	require.NoError(t, err)
	assert.NotEmpty(t, k.VsReference, "the kernel's ratios are to the composed tuned row")
	_, err = os.Stat(filepath.Join(out, "gokernel-noreuse.json"))
	assert.NoError(t, err)

	// compare reads the directory without mistaking the sweep file for a row.
	code, cmp, errs := cli(t, "compare", out)
	require.Equal(t, exitOK, code, errs)
	assert.Contains(t, cmp, "gokernel-noreuse")
}

func TestRunUntunedRowAndNotSweptNote(t *testing.T) {
	requireLlamacpp(t)
	if testing.Short() {
		t.Skip("runs llama.cpp twice")
	}
	model := tinyModel(t)
	out := filepath.Join(t.TempDir(), "run")
	code, stdout, errs := cli(t, "run", "--backends", "llamacpp", "--untuned", "--model", model, "--out", out,
		"--short", "--reps", "1", "--warmup", "0", "--threads", "1", "--membw", "-1", "--quiet")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, errs)
	ref, err := report.ReadJSON(filepath.Join(out, "llamacpp.json"))
	require.NoError(t, err)
	assert.Equal(t, report.KindTunedReference, ref.RowKind)
	assert.Contains(t, strings.Join(ref.Notes, "\n"), "tuned reference not swept: llama.cpp's tuned profile defaults as they are (flash_attn off")
	_, err = os.Stat(filepath.Join(out, "sweep-llamacpp.json"))
	assert.True(t, os.IsNotExist(err))

	un, err := report.ReadJSON(filepath.Join(out, "llamacpp-untuned.json"))
	require.NoError(t, err)
	assert.Equal(t, report.KindUntuned, un.RowKind)
	assert.Equal(t, "llamacpp-untuned", un.RowLabel)
	assert.Equal(t, "untuned", un.Settings["profile"])
	assert.Contains(t, strings.Join(un.Notes, "\n"), "untuned row: llama.cpp as a naive caller")
	assert.NotContains(t, strings.Join(un.Notes, "\n"), "tuned reference not swept")
	assert.Contains(t, stdout, "llamacpp-untuned")
}
