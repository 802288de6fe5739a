package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fakbench/fakbench/harness"
	"github.com/fakbench/fakbench/harness/artifact"
	"github.com/fakbench/fakbench/harness/batch"
	"github.com/fakbench/fakbench/harness/workload"
	"github.com/fakbench/fakbench/internal/buildisa"
	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/report/gate"
	"github.com/fakbench/fakbench/report/manifest"
)

func init() {
	register(command{
		name:    "node-bench",
		summary: "the one-command node benchmark: every backend, workload replay, batch curve, manifest, gate",
		run:     runNodeBench,
	})
}

const nodeBenchSynopsis = `usage: fakbench node-bench --out DIR [--host NAME] [--short] [--backends LIST] [--model MODEL]
                           [--workload W.json] [--threads N] [--profile cpu|gpu]

Runs the seed-000 node benchmark into DIR and keeps the raw evidence:
  DIR/production-readiness-manifest.json  host, commit, toolchain, build flags,
                                          the CPU the binary was built for and
                                          this CPU (build_cpu), memory
                                          bandwidth, backends, digests, caps,
                                          times, every file hashed
  DIR/bench/      fakbench run: <backend>.json and report.md
  DIR/workload/   workload replay: workload-<backend>.json and the pinned workload
  DIR/batch/      batch curve: batch-<backend>.json
  DIR/logs/       stdout and stderr of every step
  DIR/gate-output.txt, gate-output.json   fakbench gate DIR (written last)

The manifest is written with complete=false first and finalised at the end,
so an interrupted run says it is incomplete. scripts/node_bench.sh is the
usual entry point. --short is the wiring smoke run (default model
synthetic:tiny; FAK_WORKLOAD_PREFILL_CAP and FAK_WORKLOAD_PROMPT_CAP default
to 256 when unset); it can never pass the clean-box gate.

Exit codes: 0 every step ran and the evidence is intact and valid (clean-box
criteria such as full_run, uncapped, the threshold and clean_node are
reported, not enforced); 1 a step failed, the artifacts or reports are
not valid, or the binary was built for another CPU (its CGO flags' CPU
fingerprint is not this CPU's: rebuild with make build); 2 usage error.`

// Defaults of a node run.
const (
	nodeModel      = "synthetic:smol135m:q8_0"
	nodeShortModel = "synthetic:tiny"
	shortCap       = "256"
)

// nodeStep runs one fakbench subcommand with its output going to the given
// files and returns its exit code.
type nodeStep func(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error)

// execStep runs the fakbench binary exe as a child process.
func execStep(exe string) nodeStep {
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

// nodeStepOverride replaces the child-process runner (tests run the steps
// in-process).
var nodeStepOverride nodeStep

// nodeBuildCPU compares the CPU this binary's native code was built for (its
// build info, and what its compilers targeted) with this CPU; tests replace it.
var nodeBuildCPU = func() manifest.BuildCPU {
	return manifest.CollectBuildCPU(buildisa.Read().Targeted())
}

type nodeOptions struct {
	out, host, backends, model, workload, profile string
	command                                       string
	short                                         bool
	threads                                       int
}

func runNodeBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o nodeOptions
	fs := newFlagSet("node-bench", nodeBenchSynopsis, stderr)
	fs.StringVar(&o.out, "out", "", "artifact `directory` (required; empty or holding only logs/)")
	fs.StringVar(&o.host, "host", "", "host `name` recorded in the manifest (default: the short host name)")
	fs.BoolVar(&o.short, "short", false, "smoke run: proves the wiring only")
	fs.StringVar(&o.backends, "backends", "gokernel,llamacpp,openvino", "comma-separated `list` of backends")
	fs.StringVar(&o.model, "model", "", "`MODEL` (default "+nodeModel+", "+nodeShortModel+" with --short)")
	fs.StringVar(&o.workload, "workload", defaultWorkloadPath, "pinned workload `file`")
	fs.IntVar(&o.threads, "threads", 0, "CPU threads for every backend (0 = physical cores)")
	fs.StringVar(&o.profile, "profile", gate.DefaultProfile, "hardware `profile` of the gate's threshold table")
	if _, code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	o.command = commandLine(append([]string{"fakbench", "node-bench"}, args...))
	switch {
	case o.out == "":
		return usageError(stderr, "node-bench", "--out is required")
	case o.threads < 0:
		return usageError(stderr, "node-bench", "--threads %d: want >= 0", o.threads)
	case len(splitList(o.backends)) == 0:
		return usageError(stderr, "node-bench", "--backends is empty")
	}
	if _, ok := gate.Profiles[o.profile]; !ok {
		return usageError(stderr, "node-bench", "--profile %q: known %s", o.profile, strings.Join(gate.ProfileNames(), ", "))
	}
	if o.model == "" {
		o.model = nodeModel
		if o.short {
			o.model = nodeShortModel
		}
	}
	if o.host == "" {
		h, _ := os.Hostname()
		o.host, _, _ = strings.Cut(h, ".")
	}
	if o.threads == 0 {
		o.threads = report.PhysicalCores()
	}
	if err := checkOutDir(o.out); err != nil {
		return usageError(stderr, "node-bench", "%v", err)
	}
	if o.short {
		for _, k := range []string{workload.EnvPrefillCap, workload.EnvPromptCap} {
			if _, set := os.LookupEnv(k); !set {
				os.Setenv(k, shortCap)
			}
		}
	}
	caps, err := workload.CapsFromEnv(os.Getenv)
	if err != nil {
		return usageError(stderr, "node-bench", "%v", err)
	}
	w, err := workload.Load(o.workload)
	if err != nil {
		return usageError(stderr, "node-bench", "%v", err)
	}
	step := nodeStepOverride
	if step == nil {
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintf(stderr, "fakbench node-bench: cannot find its own binary: %v\n", err)
			return exitFailed
		}
		step = execStep(exe)
	}
	return nodeBench(ctx, o, caps, w, step, stdout, stderr)
}

// checkOutDir accepts a missing or empty directory, or one that holds only
// logs/ (the script's setup and build logs).
func checkOutDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() != gate.LogsDir || !e.IsDir() {
			return fmt.Errorf("--out %s already holds %s: use an empty directory (move the old artifacts aside) so no stale file joins this run's evidence", dir, e.Name())
		}
	}
	return nil
}

func nodeBench(ctx context.Context, o nodeOptions, caps workload.Caps, w workload.Workload, step nodeStep, stdout, stderr io.Writer) int {
	now := func() string { return time.Now().UTC().Format(time.RFC3339Nano) }
	say := func(format string, a ...any) { fmt.Fprintf(stderr, "node-bench: "+format+"\n", a...) }
	for _, d := range []string{gate.BenchDir, gate.WorkloadDir, gate.BatchDir, gate.LogsDir} {
		if err := os.MkdirAll(filepath.Join(o.out, d), 0o755); err != nil {
			fmt.Fprintf(stderr, "fakbench node-bench: %v\n", err)
			return exitUsage
		}
	}
	wd, _ := os.Getwd()
	host := report.CollectHost()
	m := &manifest.Manifest{
		Schema: manifest.Schema, Incomplete: "run in progress (or interrupted before it finished)",
		HostLabel: o.host, Host: host, Git: manifest.GitInfo(ctx, wd), BuildFlags: manifest.BuildFlags(),
		HardwareProfile: o.profile, Threads: o.threads, Short: o.short, Caps: caps,
		BatchWorkload: os.Getenv(workload.EnvBatchWorkload) == "1",
		Command:       o.command,
		StartedAt:     now(),
	}
	if sc := os.Getenv("FAK_NODE_BENCH_COMMAND"); sc != "" {
		m.Command = sc + " (which ran: " + o.command + ")"
	}
	m.Steps = scriptSteps(o.out)
	write := func() bool {
		if err := manifest.Write(o.out, m); err != nil {
			fmt.Fprintf(stderr, "fakbench node-bench: %v\n", err)
			return false
		}
		return true
	}
	if !write() {
		return exitFailed
	}
	say("artifacts in %s (host %s, %d threads, model %s, short %v, caps %+v)", o.out, o.host, o.threads, o.model, o.short, caps)

	// The binary must have been built for this CPU: its -march=native code
	// from another node would be another CPU's tuning, or die with SIGILL.
	bc := nodeBuildCPU()
	m.BuildCPU = &bc
	if err := bc.Err(); err != nil {
		m.Incomplete = err.Error()
		write()
		fmt.Fprintf(stderr, "fakbench node-bench: %v\n", err)
		return exitFailed
	}
	say("build CPU: %s", bc.Detail)
	write()

	// The model is resolved (generated, cached, hashed) before anything is timed.
	model, err := resolveModel(ctx, o.model, stderr)
	if err != nil {
		m.Incomplete = "model: " + err.Error()
		write()
		fmt.Fprintf(stderr, "fakbench node-bench: %v\n", err)
		return exitUsage
	}
	m.Models = []manifest.Model{{Spec: o.model, Path: model.Path, Digest: model.Digest, Bytes: model.Size}}

	// Memory bandwidth: five single passes, the median kept with every sample.
	size := int64(256 << 20)
	if o.short {
		size = 64 << 20
	}
	var samples []float64
	for range 5 {
		samples = append(samples, report.MeasureMemBandwidth(size, o.threads, 1))
	}
	bw := harness.Median(samples)
	m.Host.MemBWGBs = bw
	m.Bandwidth = manifest.Bandwidth{GBs: bw, SamplesGB: samples, Bytes: size, Threads: o.threads,
		Method: "Go copy of a buffer far larger than the caches split across the threads, bytes read + written, median of 5 passes"}
	say("memory bandwidth %.1f GB/s (samples %v)", bw, roundAll(samples))

	// The pinned workload, byte for byte, next to its replays.
	wraw, err := os.ReadFile(o.workload)
	if err == nil {
		err = report.WriteFileAtomic(filepath.Join(o.out, gate.WorkloadDir, "production-workload.json"), wraw)
	}
	if err != nil {
		fmt.Fprintf(stderr, "fakbench node-bench: %v\n", err)
		return exitFailed
	}
	wd1, _ := w.Digest()
	m.Workload = &manifest.Workload{Path: o.workload, Digest: wd1, Source: w.Provenance.Source, Method: w.Provenance.Method, Turns: len(w.Turns)}
	write()

	common := []string{"--backends", o.backends, "--model", o.model, "--threads", fmt.Sprint(o.threads)}
	if o.short {
		common = append(common, "--short")
	}
	type plan struct {
		name string
		args []string
	}
	steps := []plan{
		{"run", append([]string{"run", "--out", filepath.Join(o.out, gate.BenchDir), "--membw", fmt.Sprintf("%.3f", bw)}, common...)},
		{"workload-replay", append([]string{"workload", "replay", "--out", filepath.Join(o.out, gate.WorkloadDir), "--workload", o.workload}, common...)},
		{"batch", append([]string{"batch", "--out", filepath.Join(o.out, gate.BatchDir), "--report-dir", filepath.Join(o.out, gate.BenchDir)}, common...)},
	}
	if m.BatchWorkload {
		steps = append(steps, plan{"batch-workload-diagnostic", append([]string{"batch", "--out", filepath.Join(o.out, gate.BatchDir), "--workload", o.workload}, common...)})
	}
	failed := false
	// node-bench's own steps are numbered from 10, after the script's
	// 00-setup and 01-build.
	const first = 10
	for i, p := range steps {
		if ctx.Err() != nil {
			break
		}
		n := first + i
		base := filepath.Join(gate.LogsDir, fmt.Sprintf("%02d-%s", n, p.name))
		st := manifest.Step{Name: p.name, Command: commandLine(append([]string{"fakbench"}, p.args...)), StartedAt: now(),
			Stdout: filepath.ToSlash(base + ".stdout"), Stderr: filepath.ToSlash(base + ".stderr")}
		say("[%d/%d] %s", i+1, len(steps), st.Command)
		start := time.Now()
		code, err := runLogged(ctx, step, p.args, filepath.Join(o.out, base))
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

	m.Backends = collectBackends(o.out)
	m.Workload.ReplayedTurns, m.Workload.ReplayedDigest, m.Workload.PrefillCap = replaySummary(o.out)
	if ctx.Err() != nil {
		arts, _ := manifest.Scan(o.out)
		m.Artifacts = arts
		m.FinishedAt = now()
		m.Incomplete = "interrupted: " + ctx.Err().Error()
		write()
		fmt.Fprintf(stderr, "fakbench node-bench: interrupted; the manifest in %s says incomplete\n", o.out)
		return exitFailed
	}
	if err := manifest.Finalize(o.out, m, now()); err != nil {
		fmt.Fprintf(stderr, "fakbench node-bench: %v\n", err)
		return exitFailed
	}
	say("manifest complete: %d artifacts hashed", len(m.Artifacts))

	res, err := gate.Check(o.out, gate.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "fakbench node-bench: gate: %v\n", err)
		return exitFailed
	}
	text := res.Text()
	js, _ := res.JSON()
	if err := report.WriteFileAtomic(filepath.Join(o.out, manifest.GateOutputs[0]), []byte(text)); err != nil {
		fmt.Fprintf(stderr, "fakbench node-bench: %v\n", err)
		return exitFailed
	}
	if err := report.WriteFileAtomic(filepath.Join(o.out, manifest.GateOutputs[1]), js); err != nil {
		fmt.Fprintf(stderr, "fakbench node-bench: %v\n", err)
		return exitFailed
	}
	fmt.Fprint(stdout, text)
	fmt.Fprintf(stdout, "\nartifacts: %s (manifest %s)\n", o.out, manifest.FileName)
	fmt.Fprintf(stdout, "clean-box check: fakbench gate %s --clean-node (only on a node without the live fleet load)\n", o.out)
	for _, c := range res.Criteria {
		if !c.Pass && (c.Name == gate.Artifacts || c.Name == gate.ReportsValid) {
			failed = true
		}
	}
	if failed {
		return exitFailed
	}
	return exitOK
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
func runLogged(ctx context.Context, step nodeStep, args []string, base string) (int, error) {
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
	return step(ctx, args, so, se)
}

// scriptSteps records the steps scripts/node_bench.sh ran before node-bench
// (setup, build), from the files it left in logs/: NAME.stdout, .stderr,
// .exit (exit code), .seconds (duration) and .cmd (the command).
func scriptSteps(dir string) []manifest.Step {
	entries, err := os.ReadDir(filepath.Join(dir, gate.LogsDir))
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
	var keys []string
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []manifest.Step
	for _, k := range keys {
		st := manifest.Step{Name: k, Stdout: gate.LogsDir + "/" + k + ".stdout", Stderr: gate.LogsDir + "/" + k + ".stderr", ExitCode: -1}
		if b, err := os.ReadFile(filepath.Join(dir, gate.LogsDir, k+".exit")); err == nil {
			fmt.Sscan(string(b), &st.ExitCode)
		}
		if b, err := os.ReadFile(filepath.Join(dir, gate.LogsDir, k+".seconds")); err == nil {
			fmt.Sscan(string(b), &st.Seconds)
		}
		if b, err := os.ReadFile(filepath.Join(dir, gate.LogsDir, k+".cmd")); err == nil {
			st.Command = strings.TrimSpace(string(b))
		}
		out = append(out, st)
	}
	return out
}

// collectBackends summarises each backend from the run's reports and the
// batch files.
func collectBackends(dir string) []manifest.Backend {
	byName := map[string]*manifest.Backend{}
	var order []string
	get := func(n string) *manifest.Backend {
		if b, ok := byName[n]; ok {
			return b
		}
		b := &manifest.Backend{Name: n}
		byName[n] = b
		order = append(order, n)
		return b
	}
	if reps, err := report.ReadDir(filepath.Join(dir, gate.BenchDir)); err == nil {
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
	entries, _ := os.ReadDir(filepath.Join(dir, gate.BatchDir))
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "batch-") || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		f, err := batch.ReadFile(filepath.Join(dir, gate.BatchDir, e.Name()))
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
	out := make([]manifest.Backend, 0, len(order))
	for _, n := range order {
		out = append(out, *byName[n])
	}
	return out
}

// replaySummary reads what the replays did to the workload (the first ok
// replay file; all of them replay the same turns).
func replaySummary(dir string) (int, string, workload.CapResult) {
	entries, _ := os.ReadDir(filepath.Join(dir, gate.WorkloadDir))
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "workload-") {
			continue
		}
		f, err := workload.ReadReplayFile(filepath.Join(dir, gate.WorkloadDir, e.Name()))
		if err == nil && f.Status == artifact.StatusOK {
			return f.ReplayedTurns, f.ReplayedDigest, f.PrefillCap
		}
	}
	return 0, "", workload.CapResult{}
}
