package nodebench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/fakbench/fakbench/harness/artifact"
	"github.com/fakbench/fakbench/harness/batch"
	"github.com/fakbench/fakbench/harness/workload"
	"github.com/fakbench/fakbench/internal/host"
	"github.com/fakbench/fakbench/report"
)

// Defaults of a node run.
const (
	// DefaultModel is the model of a full run.
	DefaultModel = "synthetic:smol135m-untied:q8_0"
	// ShortModel is the model of a --short run.
	ShortModel = "synthetic:tiny"
	// ShortCap is what a --short run sets FAK_WORKLOAD_PREFILL_CAP and
	// FAK_WORKLOAD_PROMPT_CAP to when they are unset.
	ShortCap = 256
)

// firstStep numbers Run's own steps in logs/, after the script's 00-setup,
// 01-build and 02-build-cpu.
const firstStep = 10

// StepRunner runs one fakbench subcommand (args without the program name)
// with its output going to stdout and stderr, and returns its exit code.
type StepRunner func(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error)

// Exec runs the fakbench binary exe as a child process; Ctrl-C reaches the
// child as an interrupt, and the child gets 30 s to finish its files.
func Exec(exe string) StepRunner {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
		cmd := exec.CommandContext(ctx, exe, args...)
		cmd.Stdout, cmd.Stderr = stdout, stderr
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		cmd.WaitDelay = 30 * time.Second
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), nil
		}
		if err != nil {
			return -1, err
		}
		return 0, nil
	}
}

// Config is one node run.
type Config struct {
	// Layout is the artifact folder; it must pass CheckFresh.
	Layout Layout
	// Oversubscribe allows more threads than logical cores; every step is
	// given --oversubscribe.
	Oversubscribe bool
	// HostLabel is the name the artifacts are filed under.
	HostLabel string
	// Backends is the comma-separated list every step runs.
	Backends string
	// Model is the model spec.
	Model string
	// WorkloadPath is the pinned workload file and Workload its contents.
	WorkloadPath string
	Workload     workload.Workload
	// Profile is the hardware profile recorded for the gate.
	Profile string
	// Threads is the thread count of every backend (> 0).
	Threads int
	// Short is the wiring smoke run.
	Short bool
	// Caps are the workload caps the steps read from the environment.
	Caps workload.Caps
	// BatchWorkload adds the batch workload diagnostic step.
	BatchWorkload bool
	// Command is the command line the manifest records.
	Command string
	// Steps runs the fakbench subcommands.
	Steps StepRunner
	// CommandLine writes a step's argv as the manifest records it.
	CommandLine func(argv []string) string
	// ResolveModel generates or locates and hashes the model before
	// anything is timed.
	ResolveModel func(ctx context.Context, spec string) (Model, error)
	// BuildCPU checks the CPU the binary was built for; nil means
	// CurrentBuildCPU.
	BuildCPU func() BuildCPU
	// Log receives the progress lines ("node-bench: ...").
	Log io.Writer
}

// Outcome is what a finished run left.
type Outcome struct {
	// Manifest is the final manifest.
	Manifest *Manifest
	// Verdict is the gate's verdict on the folder.
	Verdict Verdict
	// StepFailed says a step exited non-zero or could not run.
	StepFailed bool
}

// Failed reports whether the run failed: a step failed, or the evidence is
// not intact (artifacts) or not valid (reports_valid). The clean-box
// criteria are reported, not enforced.
func (o Outcome) Failed() bool {
	if o.StepFailed {
		return true
	}
	for _, c := range o.Verdict.Criteria {
		if !c.Pass && (c.Name == CriterionArtifacts || c.Name == CriterionReportsValid) {
			return true
		}
	}
	return false
}

// Describe prints the outcome of a run into dir as fakbench node-bench
// does: the gate's verdict, where the evidence is, and the clean-box check
// left to the operator.
func (o Outcome) Describe(w io.Writer, dir string) {
	fmt.Fprint(w, o.Verdict.Text())
	fmt.Fprintf(w, "\nartifacts: %s (manifest %s)\n", dir, ManifestFile)
	fmt.Fprintf(w, "clean-box check: fakbench gate %s --clean-node (only on a node without the live fleet load)\n", dir)
}

// SetupError is a run that could not start measuring: the folder cannot be
// created or the model cannot be resolved.
type SetupError struct{ Err error }

func (e *SetupError) Error() string { return e.Err.Error() }
func (e *SetupError) Unwrap() error { return e.Err }

// Run runs the node benchmark into cfg.Layout: manifest (complete=false),
// build-CPU check, model, memory bandwidth, the pinned workload, every step
// with its logs, the manifest finalised, and the gate's verdict written
// next to it. It returns an error when the run stops before the gate (a
// *SetupError when it could not start measuring); the manifest then says
// why it is incomplete.
func Run(ctx context.Context, cfg Config) (Outcome, error) {
	l := cfg.Layout
	now := func() string { return time.Now().UTC().Format(time.RFC3339Nano) }
	say := func(format string, a ...any) { fmt.Fprintf(cfg.Log, "node-bench: "+format+"\n", a...) }
	if err := l.Create(); err != nil {
		return Outcome{}, &SetupError{err}
	}
	wd, _ := os.Getwd()
	m := &Manifest{
		Schema: ManifestSchema, Incomplete: "run in progress (or interrupted before it finished)",
		HostLabel: cfg.HostLabel, Host: report.NewHost(host.Collect()), Git: GitInfo(ctx, wd), BuildFlags: BuildFlags(),
		HardwareProfile: cfg.Profile, Threads: cfg.Threads, Short: cfg.Short, Caps: cfg.Caps,
		BatchWorkload: cfg.BatchWorkload,
		Command:       cfg.Command,
		StartedAt:     now(),
	}
	m.Steps = l.scriptSteps()
	if err := l.WriteManifest(m); err != nil {
		return Outcome{}, err
	}
	// A manifest write that fails mid-run is reported and the run goes on:
	// the final write decides.
	write := func() {
		if err := l.WriteManifest(m); err != nil {
			fmt.Fprintf(cfg.Log, "fakbench node-bench: %v\n", err)
		}
	}
	stop := func(why string, err error) (Outcome, error) {
		m.Incomplete = why
		write()
		return Outcome{Manifest: m}, err
	}
	say("artifacts in %s (host %s, %d threads, model %s, short %v, caps %+v)", l.Dir, cfg.HostLabel, cfg.Threads, cfg.Model, cfg.Short, cfg.Caps)

	// The binary must have been built for this CPU: its -march=native code
	// from another node would be another CPU's tuning, or die with SIGILL.
	check := cfg.BuildCPU
	if check == nil {
		check = CurrentBuildCPU
	}
	bc := check()
	m.BuildCPU = &bc
	if err := bc.Err(); err != nil {
		return stop(err.Error(), err)
	}
	say("build CPU: %s", bc.Detail)
	write()

	// The model is resolved (generated, cached, hashed) before anything is timed.
	model, err := cfg.ResolveModel(ctx, cfg.Model)
	if err != nil {
		return stop("model: "+err.Error(), &SetupError{err})
	}
	m.Models = []Model{model}

	m.Bandwidth = measureBandwidth(cfg.Threads, cfg.Short, &m.Host)
	say("memory bandwidth %.1f GB/s (samples %v)", m.Bandwidth.GBs, roundAll(m.Bandwidth.SamplesGB))

	// The pinned workload, byte for byte, next to its replays.
	wraw, err := os.ReadFile(cfg.WorkloadPath)
	if err == nil {
		err = report.WriteFileAtomic(l.PinnedWorkload(), wraw)
	}
	if err != nil {
		return Outcome{Manifest: m}, err
	}
	digest, _ := cfg.Workload.Digest()
	m.Workload = &Workload{Path: cfg.WorkloadPath, Digest: digest, Source: cfg.Workload.Provenance.Source,
		Method: cfg.Workload.Provenance.Method, Turns: len(cfg.Workload.Turns)}
	write()

	failed := false
	steps := cfg.plan(m.Bandwidth.GBs)
	for i, p := range steps {
		if ctx.Err() != nil {
			break
		}
		base := LogBase(firstStep+i, p.name)
		st := Step{Name: p.name, Command: cfg.CommandLine(append([]string{"fakbench"}, p.args...)), StartedAt: now(),
			Stdout: base + ".stdout", Stderr: base + ".stderr"}
		say("[%d/%d] %s", i+1, len(steps), st.Command)
		start := time.Now()
		code, err := runLogged(ctx, cfg.Steps, p.args, l.Path(base))
		st.Seconds = time.Since(start).Seconds()
		st.ExitCode = code
		if err != nil {
			st.Error = err.Error()
		}
		if code != 0 || err != nil {
			failed = true
		}
		say("[%d/%d] %s: exit %d in %.1fs%s", i+1, len(steps), p.name, code, st.Seconds, errSuffix(err))
		m.Steps = append(m.Steps, st)
		write()
	}

	m.Backends = l.backends()
	m.Workload.ReplayedTurns, m.Workload.ReplayedDigest, m.Workload.PrefillCap = l.replaySummary()
	if ctx.Err() != nil {
		m.Artifacts, _ = l.Scan()
		m.FinishedAt = now()
		return stop("interrupted: "+ctx.Err().Error(), fmt.Errorf("interrupted; the manifest in %s says incomplete", l.Dir))
	}
	if err := l.Finalize(m, now()); err != nil {
		return Outcome{Manifest: m}, err
	}
	say("manifest complete: %d artifacts hashed", len(m.Artifacts))

	v, err := Gate(l.Dir, GateOptions{})
	if err != nil {
		return Outcome{Manifest: m}, fmt.Errorf("gate: %w", err)
	}
	if err := report.WriteFileAtomic(l.GateText(), []byte(v.Text())); err != nil {
		return Outcome{Manifest: m}, err
	}
	if err := report.WriteJSONFile(l.GateJSON(), v); err != nil {
		return Outcome{Manifest: m}, err
	}
	return Outcome{Manifest: m, Verdict: v, StepFailed: failed}, nil
}

// step is one planned fakbench subcommand.
type step struct {
	name string
	args []string
}

// plan lists the run's steps: every backend side by side into bench/ (with
// the measured memory bandwidth bw for the decode roofline), the workload
// replay into workload/, the batch curve into batch/ (attached to the bench
// reports) and, when asked, the batch workload diagnostic.
func (cfg Config) plan(bw float64) []step {
	l := cfg.Layout
	common := []string{"--backends", cfg.Backends, "--model", cfg.Model, "--threads", fmt.Sprint(cfg.Threads)}
	if cfg.Short {
		common = append(common, "--short")
	}
	if cfg.Oversubscribe {
		common = append(common, "--oversubscribe")
	}
	with := func(args ...string) []string { return append(args, common...) }
	steps := []step{
		{"run", with("run", "--out", l.Bench(), "--membw", fmt.Sprintf("%.3f", bw))},
		{"workload-replay", with("workload", "replay", "--out", l.Workload(), "--workload", cfg.WorkloadPath)},
		{"batch", with("batch", "--out", l.Batch(), "--report-dir", l.Bench())},
	}
	if cfg.BatchWorkload {
		steps = append(steps, step{"batch-workload-diagnostic", with("batch", "--out", l.Batch(), "--workload", cfg.WorkloadPath)})
	}
	return steps
}

// measureBandwidth measures the memory bandwidth the decode roofline uses
// (host.MeasureMemBandwidth, as fakbench run does: the median of 5 single
// passes, every sample kept) and records it in h too.
func measureBandwidth(threads int, short bool, h *report.Host) Bandwidth {
	b := host.MeasureMemBandwidth(host.BandwidthBytes(short), threads)
	h.SetBandwidth(b)
	return Bandwidth{GBs: b.GBs, SamplesGB: b.SamplesGBs, Bytes: b.Bytes, Threads: b.Threads,
		Method: host.BandwidthMethod + ", " + b.Statistic}
}

func errSuffix(err error) string {
	if err != nil {
		return " (" + err.Error() + ")"
	}
	return ""
}

func roundAll(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(int(x*10+0.5)) / 10
	}
	return out
}

// runLogged runs a step with its stdout and stderr in base.stdout and
// base.stderr.
func runLogged(ctx context.Context, run StepRunner, args []string, base string) (int, error) {
	so, err := os.Create(base + ".stdout")
	if err != nil {
		return -1, err
	}
	defer so.Close()
	se, err := os.Create(base + ".stderr")
	if err != nil {
		return -1, err
	}
	defer se.Close()
	return run(ctx, args, so, se)
}

// scriptSteps records the steps scripts/node_bench.sh ran before Run
// (setup, build, build-CPU check), from the files it left in logs/:
// NAME.stdout, .stderr, .exit (exit code), .seconds (duration) and .cmd
// (the command).
func (l Layout) scriptSteps() []Step {
	entries, err := os.ReadDir(l.Logs())
	if err != nil {
		return nil
	}
	names := map[string]bool{}
	for _, e := range entries {
		n := e.Name()
		if i := strings.LastIndex(n, "."); i > 0 {
			names[n[:i]] = true
		}
	}
	var out []Step
	for _, k := range sortedKeys(names) {
		st := Step{Name: k, Stdout: LogsDir + "/" + k + ".stdout", Stderr: LogsDir + "/" + k + ".stderr", ExitCode: -1}
		if b, err := os.ReadFile(l.Path(LogsDir, k+".exit")); err == nil {
			fmt.Sscan(string(b), &st.ExitCode)
		}
		if b, err := os.ReadFile(l.Path(LogsDir, k+".seconds")); err == nil {
			fmt.Sscan(string(b), &st.Seconds)
		}
		if b, err := os.ReadFile(l.Path(LogsDir, k+".cmd")); err == nil {
			st.Command = strings.TrimSpace(string(b))
		}
		out = append(out, st)
	}
	return out
}

// backends summarises each backend from the run's reports and the batch
// files.
func (l Layout) backends() []Backend {
	byName := map[string]*Backend{}
	var order []string
	get := func(n string) *Backend {
		if b, ok := byName[n]; ok {
			return b
		}
		b := &Backend{Name: n}
		byName[n] = b
		order = append(order, n)
		return b
	}
	if reps, err := report.ReadDir(l.Bench()); err == nil {
		for _, r := range reps {
			name := r.Backend
			if r.RowLabel != "" {
				name = r.RowLabel
			}
			b := get(name)
			b.Status, b.Reason, b.Version, b.RowKind, b.Settings = r.Status, r.SkipReason, r.BackendVersion, r.RowKind, r.Settings
			if b.Status == "" {
				b.Status = report.StatusOK
			}
		}
	}
	for _, path := range l.BatchFiles() {
		f, err := batch.ReadFile(path)
		if err != nil {
			continue
		}
		b := get(f.Backend)
		switch f.Status {
		case artifact.StatusOK:
			b.Batch = fmt.Sprintf("curve to B=%d, %.2fx over B=1", f.Curve.MaxBatch, f.Curve.SpeedupAtMax)
		default:
			b.Batch = f.Status + ": " + f.Reason
		}
		if b.Version == "" {
			b.Version = f.BackendVersion
		}
	}
	out := make([]Backend, 0, len(order))
	for _, n := range order {
		out = append(out, *byName[n])
	}
	return out
}

// replaySummary reads what the replays did to the workload (the first ok
// replay file; all of them replay the same turns).
func (l Layout) replaySummary() (int, string, workload.CapResult) {
	for _, path := range l.ReplayFiles() {
		f, err := workload.ReadReplayFile(path)
		if err == nil && f.Status == artifact.StatusOK {
			return f.ReplayedTurns, f.ReplayedDigest, f.PrefillCap
		}
	}
	return 0, "", workload.CapResult{}
}
