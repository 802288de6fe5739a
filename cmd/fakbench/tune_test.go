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
// differ from cold; any other key is refused, as a real backend does, and
// the options it was opened with are in its settings. zz-test-sweep is the
// same with a default sweep grid, so that "run --sweep" sweeps it; the
// cheap configuration comes last, so that choosing it is no accident of
// grid order.
func init() {
	knob := func(name string) adapters.OpenFunc {
		return func(ctx context.Context, opts adapters.Options) (transport.Backend, error) {
			cfg := fake.Config{Vocab: 512, Context: 512, TokenCost: 5 * time.Microsecond}
			for k, v := range opts.Extra {
				switch k {
				case "cost":
					us, err := strconv.Atoi(v)
					if err != nil || us < 0 {
						return nil, fmt.Errorf("%s: option cost=%q: want microseconds", name, v)
					}
					cfg.TokenCost = time.Duration(us) * time.Microsecond
				case "bug":
					cfg.Bugs.WarmDiverges = v == "diverge"
				default:
					return nil, fmt.Errorf("%s: unknown option %q", name, k)
				}
			}
			return knobBackend{namedBackend{fake.New(cfg), name}, opts.Extra}, nil
		}
	}
	adapters.Register(adapters.Entry{Name: "testknob", Description: "test backend with options", Open: knob("testknob")})
	adapters.Register(adapters.Entry{Name: "zz-test-sweep", Description: "test backend with options and a sweep grid",
		SweepGrid: "cost=300,2", Open: knob("zz-test-sweep")})
}

// knobBackend reports the options it was opened with in its settings.
type knobBackend struct {
	namedBackend
	extra map[string]string
}

func (k knobBackend) Settings() map[string]string {
	s := k.namedBackend.Settings()
	for key, v := range k.extra {
		s[key] = v
	}
	return s
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
		t.Run(c.name, func(t *testing.T) { assertUsage(t, c.args, c.want) })
	}
	_, err := os.Stat(filepath.Join(out, "sweep-testknob.json"))
	assert.True(t, os.IsNotExist(err), "nothing is written on a usage error")

	assertHelp(t, "tune", "usage: fakbench tune --backend llamacpp", "-grid", "-threads", "-short", "flash_attn=on,off;n_ubatch=256,512")
}

func TestTuneChoosesAndExcludes(t *testing.T) {
	model := tinyModel(t)
	out := filepath.Join(t.TempDir(), "tune")
	stdout, errs := cliOK(t, "tune", "--backend", "testknob", "--grid", "cost=2,200;bug=none,diverge",
		"--model", model, "--out", out, "--short", "--reps", "1", "--threads", "1", "--membw", "20")
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
	// 2 us against 200 us per token: the cheap configuration is chosen,
	// and wins the prefill-bound sections of the composite.
	require.NotNil(t, s.Chosen)
	assert.Equal(t, "cost=2 bug=none", s.Chosen.Config.Name)
	assert.Equal(t, map[string]string{"cost": "2", "bug": "none"}, s.Chosen.Config.Extra)
	assert.Contains(t, s.Objective, "geometric mean")
	assert.Contains(t, stdout, "chosen: cost=2 bug=none (score ")
	assert.Contains(t, stdout, "objective: "+s.Objective)
	assert.Contains(t, stdout, "composite (best of 2 configurations per section; not one measured configuration")
	require.NotNil(t, s.Composite)
	assert.Empty(t, report.CorrectnessFailures(s.Composite))
	byID := map[string]string{}
	for _, c := range s.CompositeChoices {
		byID[c.Section] = c.Config
	}
	assert.Equal(t, "cost=2 bug=none", byID["cold_full_prefill"])
	assert.Equal(t, "cost=2 bug=none", byID["warm_changed_suffix"])
	assert.Equal(t, "best of 2 configurations per section; not one measured configuration", s.CompositeLabel)
	assert.Contains(t, s.Composite.Settings["sweep"], "best of 2 configurations per section; not one measured configuration")
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
	assert.Nil(t, s.Chosen)
	assert.Nil(t, s.Composite)
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
		{"sweep without llamacpp", []string{"--backends", "gokernel", "--sweep"}, "which is not in --backends (gokernel)"},
		{"sweep untuned", []string{"--backends", "llamacpp", "--sweep", "--profile", "untuned"}, "needs --profile tuned"},
		{"bad grid", []string{"--backends", "llamacpp", "--sweep", "--grid", "flash_attn=;"}, `--grid: grid key "flash_attn" has no values`},
		{"threads grid", []string{"--backends", "llamacpp", "--sweep", "--grid", "threads=1,2"}, "threads cannot be swept"},
		{"untuned without llamacpp", []string{"--backends", "gokernel", "--untuned"}, "--untuned adds llama.cpp's untuned row"},
		{"untuned twice", []string{"--backends", "llamacpp", "--untuned", "--profile", "untuned"}, "run the untuned profile twice"},
		{"unknown ablation", []string{"--backends", "gokernel", "--ablations", "generic,no-simd"}, `unknown ablation "no-simd" (known: avx2, avx512, generic, no-reuse, q8-file)`},
		{"duplicate ablation", []string{"--backends", "gokernel", "--ablations", "generic,generic"}, `--ablations names "generic" twice`},
		{"ablation without gokernel", []string{"--backends", "testok", "--ablations", "no-reuse"}, "none of gokernel, openvino is in --backends (testok)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { assertUsage(t, append(append([]string{}, base...), c.args...), c.want) })
	}
	assertHelp(t, "run", "-sweep", "-grid", "-ablations", "-untuned")
}

func TestRunAblationRows(t *testing.T) {
	model := tinyModel(t)
	out := filepath.Join(t.TempDir(), "run")
	before := kernels.Name()
	stdout, errs := cliOK(t, "run", "--backends", "gokernel", "--ablations", "generic,no-reuse", "--model", model,
		"--out", out, "--short", "--reps", "1", "--threads", "1", "--membw", "-1")
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
	cliOK(t, "run", "--backends", "gokernel", "--ablations", "generic,no-reuse", "--model", model,
		"--out", out, "--short", "--reps", "1", "--threads", "1", "--membw", "-1", "--isolation", "in_process")
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
	cliOK(t, "run", "--backends", "gokernel,llamacpp", "--sweep", "--grid", "flash_attn=on,off",
		"--ablations", "no-reuse", "--model", model, "--out", out,
		"--short", "--reps", "1", "--warmup", "0", "--threads", "1", "--membw", "20", "--quiet")

	s, err := sweep.ReadFile(filepath.Join(out, "sweep-llamacpp.json"))
	require.NoError(t, err)
	require.Len(t, s.Results, 2)
	for _, r := range s.Results {
		require.NotNil(t, r.Report)
		assert.Equal(t, r.Config.Extra["flash_attn"], r.Report.Settings["flash_attn"], "the configuration reached llama.cpp")
		assert.Equal(t, "1", r.Report.Settings["threads"], "threads fixed to the run's")
	}
	ref, err := report.ReadJSON(filepath.Join(out, "llamacpp.json"))
	require.NoError(t, err)
	assertChosenRow(t, s, ref, "sweep-llamacpp.json")
	assert.Equal(t, s.Chosen.Config.Extra["flash_attn"], ref.Settings["flash_attn"], "llama.cpp ran the chosen configuration")

	k, err := report.ReadJSON(filepath.Join(out, "gokernel.json"))
	require.NoError(t, err)
	assert.NotEmpty(t, k.VsReference, "the kernel's ratios are to the chosen configuration's row")
	_, err = os.Stat(filepath.Join(out, "gokernel-noreuse.json"))
	assert.NoError(t, err)

	// compare reads the directory without mistaking the sweep file for a row.
	cmp, _ := cliOK(t, "compare", out)
	assert.Contains(t, cmp, "gokernel-noreuse")
}

// assertChosenRow checks that ref, a run's swept tuned-reference row, is
// the configuration its sweep s chose, measured on its own after the sweep
// (not copied from it), and says so; and that the sweep keeps the
// composite under its label.
func assertChosenRow(t *testing.T, s *sweep.Sweep, ref *report.Report, file string) {
	t.Helper()
	require.NotNil(t, s.Chosen)
	assert.Equal(t, report.KindTunedReference, ref.RowKind)
	assert.Equal(t, report.StatusOK, ref.Status)
	assert.Empty(t, ref.RowLabel, "the row is the backend's own")
	require.NotNil(t, ref.Swept, "the row says it is a swept configuration")
	assert.Equal(t, s.Chosen.Config.Name, ref.Swept.Config)
	assert.Equal(t, s.Chosen.Config.Extra, ref.Swept.Options)
	assert.Equal(t, s.Objective, ref.Swept.Objective)
	assert.Equal(t, s.Chosen.Score, ref.Swept.Score)
	assert.Equal(t, len(s.Results), ref.Swept.Configurations)
	assert.Equal(t, file, ref.Swept.File)
	for k, v := range s.Chosen.Config.Extra {
		assert.Equal(t, v, ref.Settings[k], "settings.%s is the chosen configuration's", k)
	}
	notes := strings.Join(ref.Notes, "\n")
	assert.Contains(t, notes, "tuned reference: configuration "+s.Chosen.Config.Name+", chosen from a sweep of")
	assert.Contains(t, notes, "by the objective: "+s.Objective)
	assert.Contains(t, notes, "measured again here as its own row")
	assert.Contains(t, notes, "kept in "+file)
	assert.NotContains(t, notes, "tuned reference not swept")
	assert.NotContains(t, notes, "composite: ", "no section of the composite is in the row")

	// Its own measurement: started after the sweep had finished, and its
	// samples are no configuration's (nor the composite's).
	sweepEnd, err := time.Parse(time.RFC3339Nano, s.FinishedAt)
	require.NoError(t, err)
	started, err := time.Parse(time.RFC3339Nano, ref.StartedAt)
	require.NoError(t, err)
	assert.True(t, started.After(sweepEnd), "the row started %s, the sweep finished %s", ref.StartedAt, s.FinishedAt)
	require.NotEmpty(t, ref.ColdFullPrefill.SamplesMS)
	require.NotEmpty(t, ref.Decode.SamplesTPS)
	for _, r := range s.Results {
		require.NotNil(t, r.Report, r.Config.Name)
		assert.NotEqual(t, r.Report.ColdFullPrefill.SamplesMS, ref.ColdFullPrefill.SamplesMS, r.Config.Name)
		assert.NotEqual(t, r.Report.Decode.SamplesTPS, ref.Decode.SamplesTPS, r.Config.Name)
		assert.NotEqual(t, r.Report.WarmChangedSuffix.SamplesMS, ref.WarmChangedSuffix.SamplesMS, r.Config.Name)
	}
	require.NotNil(t, s.Composite)
	assert.NotEqual(t, s.Composite.Decode.SamplesTPS, ref.Decode.SamplesTPS)
	assert.Equal(t, sweep.CompositeLabel(ref.Swept.Eligible), s.CompositeLabel)
}

// run --sweep measures the configuration the sweep chose as an ordinary
// row of the run, interleaved with the others; the composite stays in the
// sweep file, labelled, and is no row.
func TestRunSweepMeasuresTheChosenConfiguration(t *testing.T) {
	model := tinyModel(t)
	out := filepath.Join(t.TempDir(), "run")
	_, errs := cliOK(t, "run", "--backends", "gokernel,zz-test-sweep", "--sweep", "--model", model, "--out", out,
		"--short", "--reps", "2", "--threads", "1", "--membw", "20")
	assert.Contains(t, errs, "fakbench: sweep zz-test-sweep 2/2: cost=2")
	assert.Contains(t, errs, "fakbench run: zz-test-sweep: configuration cost=2 chosen (score ")

	s, err := sweep.ReadFile(filepath.Join(out, "sweep-zz-test-sweep.json"))
	require.NoError(t, err)
	require.Len(t, s.Results, 2)
	require.NotNil(t, s.Chosen)
	assert.Equal(t, "cost=2", s.Chosen.Config.Name, "2 us per token against 300 us")
	assert.Equal(t, "best of 2 configurations per section; not one measured configuration", s.CompositeLabel)

	rows := readRows(t, out)
	assert.Len(t, rows, 2, "the composite is no row of the run")
	ref := rows["zz-test-sweep"]
	require.NotNil(t, ref)
	assertChosenRow(t, s, ref, "sweep-zz-test-sweep.json")
	assert.Equal(t, "2", ref.Settings["cost"])
	assert.Equal(t, "2µs", ref.Settings["token_cost"], "the backend itself ran with the chosen cost")
	require.NotNil(t, ref.Schedule, "the row took part in the run's schedule")
	assert.Equal(t, "interleaved", ref.Schedule.Mode)
	assert.Equal(t, []string{"gokernel", "zz-test-sweep"}, ref.Schedule.Rows)
	assert.Equal(t, "process", ref.Isolation)
	assert.Positive(t, ref.PeakRSSMB, "its own process's peak")

	k := rows["gokernel"]
	require.NotNil(t, k)
	assert.Contains(t, k.BestReference, "decode.tokens_per_sec")
	assert.Equal(t, "zz-test-sweep", k.BestReference["decode.tokens_per_sec"])

	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "zz-test-sweep is one configuration, cost=2, chosen from a sweep of 2 configurations (2 passed every check) by the objective: the highest geometric mean")
	assert.Contains(t, string(md), "it was measured in this run like every row")
	assert.Contains(t, string(md), "with a per-section composite that is not a measured configuration and enters no headline")
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	require.NoError(t, err)
	assert.Contains(t, string(page), "zz-test-sweep is one configuration, cost=2, chosen from a sweep of 2 configurations")
}

func TestRunUntunedRowAndNotSweptNote(t *testing.T) {
	requireLlamacpp(t)
	if testing.Short() {
		t.Skip("runs llama.cpp twice")
	}
	model := tinyModel(t)
	out := filepath.Join(t.TempDir(), "run")
	stdout, _ := cliOK(t, "run", "--backends", "llamacpp", "--untuned", "--model", model, "--out", out,
		"--short", "--reps", "1", "--warmup", "0", "--threads", "1", "--membw", "-1", "--quiet")
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
