package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fakbench/fakbench/adapters"
	_ "github.com/fakbench/fakbench/adapters/all" // registers every in-repo backend
	"github.com/fakbench/fakbench/harness"
	"github.com/fakbench/fakbench/internal/progress"
	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/report/formats"
	"github.com/fakbench/fakbench/report/html"
	"github.com/fakbench/fakbench/transport"
)

func init() {
	register(command{
		name:    "run",
		summary: "run backends side by side on one model; write <backend>.json and report.md",
		run:     runRun,
	})
}

const runSynopsis = `usage: fakbench run --backends gokernel,llamacpp,openvino --model MODEL --out DIR
                    [--short] [--threads N] [--reps N] [--warmup N] [--ctx N]
                    [--require BACKEND[,...]] [--profile tuned|untuned] [--seed N] [--quiet]

Runs every scenario of the report (cold full prefill, warm same prefix, warm
changed suffix, edited stable segment, decode, suffix TTFT curve, failure
cases) on each backend with identical token IDs and the same thread count,
writes DIR/<backend>.json and DIR/report.md, and prints the side-by-side
table. MODEL is a .gguf file, synthetic:PRESET[:TYPE] (presets tiny,
smol135m, llama1b; types f32, f16, q8_0) or real:smollm2 (fetched by
make setup).

A backend that cannot run here becomes a skipped row with its reason, unless
--require names it. Exit codes: 0 done; 1 a benchmark or a correctness check
failed, or a required backend is unavailable; 2 usage or input error.`

// runOptions are the parsed flags of "fakbench run".
type runOptions struct {
	backends []string
	require  []string
	model    string
	out      string
	short    bool
	threads  int
	reps     int
	warmup   int
	ctxLen   int
	profile  string
	seed     uint64
	membw    float64
	quiet    bool
	formats  []string
	argv     []string
}

// defaultReps is the number of measured repetitions of a full run; a short
// run takes shortReps unless --reps is given.
const (
	defaultReps = 5
	shortReps   = 2
)

func parseRunFlags(args []string, stderr io.Writer) (runOptions, int, bool) {
	var o runOptions
	fs := newFlagSet("run", runSynopsis, stderr)
	backends := fs.String("backends", "gokernel,llamacpp,openvino", "comma-separated `list` of backends to run")
	require := fs.String("require", "", "comma-separated `list` of backends that must run (an unavailable one fails the run)")
	fs.StringVar(&o.model, "model", "", "`MODEL`: a .gguf file, synthetic:PRESET[:TYPE] or real:smollm2 (required)")
	fs.StringVar(&o.out, "out", "", "output `directory` for <backend>.json and report.md (required)")
	fs.BoolVar(&o.short, "short", false, "small scenario sizes: proves the wiring, not a measurement")
	fs.IntVar(&o.threads, "threads", 0, "CPU threads for every backend (0 = the number of physical cores)")
	fs.IntVar(&o.reps, "reps", 0, fmt.Sprintf("measured repetitions per scenario, the median reported (default %d, %d with --short)", defaultReps, shortReps))
	fs.IntVar(&o.warmup, "warmup", 1, "discarded warm-up repetitions per scenario")
	fs.IntVar(&o.ctxLen, "ctx", 0, "context length per session (0 = the backend's default, min(model context, 4096))")
	fs.StringVar(&o.profile, "profile", "tuned", "settings profile: tuned or untuned")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the deterministic token IDs")
	fs.Float64Var(&o.membw, "membw", 0, "node memory bandwidth in `GB/s` for the decode roofline (0 = measure it, negative = no roofline)")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress on stderr")
	format := fs.String("format", "json", "stdout `format`s besides the files: json (the side-by-side table), md, csv, jsonl or benchstat; each non-json format is also written to DIR/report.<ext>")
	if _, code, ok := parseFlags(fs, args, 0); !ok {
		return o, code, false
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	o.backends = splitList(*backends)
	o.require = splitList(*require)
	switch {
	case o.model == "":
		return o, usageError(stderr, "run", "missing --model (a .gguf file, synthetic:PRESET[:TYPE] or real:smollm2)"), false
	case o.out == "":
		return o, usageError(stderr, "run", "missing --out (the directory for the reports)"), false
	case len(o.backends) == 0:
		return o, usageError(stderr, "run", "--backends is empty (known: %s)", strings.Join(adapters.Names(), ", ")), false
	case o.threads < 0:
		return o, usageError(stderr, "run", "--threads %d: want 0 (physical cores) or more", o.threads), false
	case set["reps"] && o.reps < 1:
		return o, usageError(stderr, "run", "--reps %d: want at least 1 measured repetition", o.reps), false
	case o.warmup < 0:
		return o, usageError(stderr, "run", "--warmup %d: want 0 or more", o.warmup), false
	case o.ctxLen < 0:
		return o, usageError(stderr, "run", "--ctx %d: want 0 (backend default) or more", o.ctxLen), false
	case o.profile != "tuned" && o.profile != "untuned":
		return o, usageError(stderr, "run", "--profile %q: want tuned or untuned", o.profile), false
	}
	fmts, err := formats.Parse(*format)
	if err != nil {
		return o, usageError(stderr, "run", "--format: %v", err), false
	}
	o.formats = fmts
	if !set["reps"] {
		o.reps = defaultReps
		if o.short {
			o.reps = shortReps
		}
	}
	seen := map[string]bool{}
	for _, b := range o.backends {
		if seen[b] {
			return o, usageError(stderr, "run", "--backends names %q twice", b), false
		}
		seen[b] = true
		if _, err := adapters.Lookup(b); err != nil {
			return o, usageError(stderr, "run", "--backends: %v", err), false
		}
	}
	for _, r := range o.require {
		if !seen[r] {
			return o, usageError(stderr, "run", "--require names %q, which is not in --backends (%s)", r, strings.Join(o.backends, ",")), false
		}
	}
	if o.threads == 0 {
		o.threads = report.PhysicalCores()
	}
	return o, exitOK, true
}

// opened is one backend of the run: loaded, or skipped/failed with a reason.
type opened struct {
	name      string
	available bool              // the probe open succeeded
	backend   transport.Backend // open now (nil between the probe and the run)
	rep       *report.Report    // set when the backend did not load
	started   time.Time
}

// openBackend opens one backend with the run's settings.
func openBackend(ctx context.Context, o runOptions, m resolvedModel, name string) (transport.Backend, error) {
	return adapters.Open(ctx, name, adapters.Options{
		ModelPath: m.Path, Threads: o.threads, ContextLength: o.ctxLen, Profile: o.profile,
	})
}

// openFailedReport is the row of a backend that failed to open for a reason
// other than being unavailable here.
func openFailedReport(o runOptions, m resolvedModel, name string, err error) *report.Report {
	r := baseReport(o, m, name)
	r.Status = report.StatusFailed
	r.Notes = append(r.Notes, "open failed: "+err.Error())
	return r
}

// resetPeakRSS resets the process's peak resident set size (Linux:
// /proc/self/clear_refs), so that the next peakRSSMB covers one backend.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSSMB reads the process's peak resident set size (VmHWM) in MiB.
func peakRSSMB() (float64, bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 2 && fields[0] == "VmHWM:" {
			kb, err := strconv.ParseFloat(fields[1], 64)
			if err != nil || kb <= 0 {
				return 0, false
			}
			return math.Round(kb/1024*10) / 10, true
		}
	}
	return 0, false
}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, code, ok := parseRunFlags(args, stderr)
	if !ok {
		return code
	}
	o.argv = append([]string{"fakbench", "run"}, args...)
	logw := io.Writer(stderr)
	if o.quiet {
		logw = io.Discard
	}

	model, err := resolveModel(ctx, o.model, logw)
	if err != nil {
		fmt.Fprintf(stderr, "fakbench run: %v\n", err)
		if errors.Is(err, context.Canceled) {
			return exitFailed
		}
		return exitUsage
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		fmt.Fprintf(stderr, "fakbench run: %v\n", err)
		return exitUsage
	}
	host := report.CollectHost()
	switch {
	case o.membw > 0:
		host.MemBWGBs = o.membw
	case o.membw == 0:
		size := int64(256 << 20)
		if o.short {
			size = 64 << 20
		}
		host.MemBWGBs = report.MeasureMemBandwidth(size, o.threads, 3)
		fmt.Fprintf(logw, "fakbench run: memory bandwidth %.1f GB/s (copy of %d MiB on %d threads, best of 3)\n", host.MemBWGBs, size>>20, o.threads)
	}
	flags := buildFlags()

	// Open every backend first: the scenario is planned from the smallest
	// vocabulary and context among them so all get identical token IDs.
	// With several backends each is closed again after this probe and
	// reopened for its own run, so only one model is resident at a time.
	var rows []*opened
	defer func() {
		for _, r := range rows {
			if r.backend != nil {
				_ = r.backend.Close()
			}
		}
	}()
	failed := false
	var infos []transport.ModelInfo
	for _, name := range o.backends {
		row := &opened{name: name, started: time.Now()}
		rows = append(rows, row)
		fmt.Fprintf(logw, "fakbench run: opening %s on %s (threads %d, profile %s)\n", name, model.Path, o.threads, o.profile)
		b, err := openBackend(ctx, o, model, name)
		switch {
		case err == nil:
			row.available = true
			infos = append(infos, b.Info())
			if len(o.backends) == 1 {
				row.backend = b
			} else if err := b.Close(); err != nil {
				fmt.Fprintf(logw, "fakbench run: closing %s after the probe: %v\n", name, err)
			}
		case transport.IsBadModel(err):
			fmt.Fprintf(stderr, "fakbench run: %s: %v\n", name, err)
			return exitUsage
		case ctx.Err() != nil:
			fmt.Fprintf(stderr, "fakbench run: interrupted while opening %s: %v\n", name, err)
			return exitFailed
		case transport.IsUnavailable(err):
			row.rep = baseReport(o, model, name)
			row.rep.Status = report.StatusSkipped
			row.rep.SkipReason = err.Error()
			row.rep.Notes = append(row.rep.Notes, "skipped: "+err.Error())
			if slices.Contains(o.require, name) {
				failed = true
				fmt.Fprintf(stderr, "fakbench run: required backend %s is unavailable: %v\n", name, err)
			} else {
				fmt.Fprintf(logw, "fakbench run: skipping %s: %v\n", name, err)
			}
		default:
			failed = true
			row.rep = openFailedReport(o, model, name, err)
			fmt.Fprintf(stderr, "fakbench run: %s failed to open: %v\n", name, err)
		}
	}

	var sc harness.Scenario
	if len(infos) > 0 {
		params, err := harness.ParamsFor(o.short, o.seed, infos...)
		if err == nil {
			sc, err = harness.BuildScenario(params)
		}
		if err != nil {
			fmt.Fprintf(stderr, "fakbench run: cannot plan the scenario: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(logw, "fakbench run: scenario: stable %d tokens, suffix %d, curve %v, decode %d; token-ID digest %s\n",
			len(sc.Stable), len(sc.Suffix), sc.CurveSizes, sc.MaxDecode, sc.Digest())
	}

	var reports []*report.Report
	for _, row := range rows {
		if row.available {
			resetPeakRSS()
			if row.backend == nil {
				row.started = time.Now()
				b, err := openBackend(ctx, o, model, row.name)
				if err != nil {
					failed = true
					row.rep = openFailedReport(o, model, row.name, err)
					fmt.Fprintf(stderr, "fakbench run: %s failed to reopen: %v\n", row.name, err)
				}
				row.backend = b
			}
		}
		if row.backend != nil {
			row.rep = runOne(ctx, o, model, sc, row, host, flags, logw)
			if mb, ok := peakRSSMB(); ok {
				row.rep.PeakRSSMB = mb
			}
			if row.rep.Status == report.StatusFailed {
				failed = true
			}
			_ = row.backend.Close()
			row.backend = nil
		}
		row.rep.Host = &host
		if row.rep.BuildFlags == "" {
			row.rep.BuildFlags = flags
		}
		if row.rep.FinishedAt == "" {
			row.rep.FinishedAt = time.Now().UTC().Format(time.RFC3339Nano)
		}
		reports = append(reports, row.rep)
		if ctx.Err() != nil {
			break
		}
	}

	// The kernel row records its ratio to the tuned reference of this run.
	report.SortReports(reports)
	if k, ref := report.Pair(reports); k != nil && ref != nil {
		k.VsReference = report.Ratios(k, ref)
	}
	for _, r := range reports {
		path := filepath.Join(o.out, r.Backend+".json")
		if r.RowLabel != "" {
			path = filepath.Join(o.out, r.RowLabel+".json")
		}
		if err := report.WriteJSON(path, r); err != nil {
			fmt.Fprintf(stderr, "fakbench run: %v\n", err)
			return exitFailed
		}
	}
	if err := report.WriteFileAtomic(filepath.Join(o.out, "report.md"), []byte(report.Markdown(reports))); err != nil {
		fmt.Fprintf(stderr, "fakbench run: %v\n", err)
		return exitFailed
	}
	page := html.Page{Title: "fakbench: " + model.Spec, Command: commandLine(o.argv), Runs: []html.Run{{Rows: reports}}}
	if err := html.WriteFile(filepath.Join(o.out, "report.html"), page); err != nil {
		fmt.Fprintf(stderr, "fakbench run: %v\n", err)
		return exitFailed
	}
	if code := writeFormats(o, reports, stdout, stderr); code != exitOK {
		return code
	}

	if ctx.Err() != nil {
		fmt.Fprintf(stderr, "fakbench run: interrupted: %v\n", ctx.Err())
		return exitFailed
	}
	for _, r := range reports {
		for _, f := range report.CorrectnessFailures(r) {
			failed = true
			fmt.Fprintf(stderr, "fakbench run: %s: %s\n", r.Backend, f)
		}
	}
	if failed {
		return exitFailed
	}
	return exitOK
}

// baseReport fills the facts every row carries, run or not.
func baseReport(o runOptions, m resolvedModel, backend string) *report.Report {
	r := &report.Report{
		Model:   m.Name,
		Backend: backend,
		Mode:    "live_prefix_reuse",
		Profile: o.profile,
	}
	r.SchemaVersion = report.SchemaVersion
	r.RowKind = rowKind(backend, o.profile)
	r.Threads = o.threads
	r.Repetitions = o.reps
	r.Warmup = o.warmup
	r.Short = o.short
	r.ModelSpec = o.model
	r.ModelDigest = m.Digest
	r.Command = commandLine(o.argv)
	return r
}

// rowKind labels a row per the tuned-reference policy: llama.cpp (and any
// other incumbent engine) run with the tuned profile is a tuned reference,
// with the untuned profile an untuned row; the Go kernel is the kernel row,
// and with the untuned profile an ablation.
func rowKind(backend, profile string) string {
	if backend == "gokernel" {
		if profile == "untuned" {
			return report.KindAblation
		}
		return report.KindKernel
	}
	if profile == "untuned" {
		return report.KindUntuned
	}
	return report.KindTunedReference
}

// runOne runs the scenarios on one opened backend and completes its report.
func runOne(ctx context.Context, o runOptions, m resolvedModel, sc harness.Scenario, row *opened,
	host report.Host, flags string, progressW io.Writer) *report.Report {
	b := row.backend
	fmt.Fprintf(progressW, "fakbench run: %s: running scenarios (%d reps, %d warm-up)\n", row.name, o.reps, o.warmup)
	start := time.Now()
	mode := progress.Auto
	if o.quiet {
		mode = progress.Quiet
	}
	bar := progress.New(progressW, mode, "fakbench run: "+row.name, len(harness.Steps))
	warmup := o.warmup
	if warmup == 0 {
		warmup = -1 // harness: 0 means its default, negative means none
	}
	rep, err := harness.Run(ctx, b, sc, harness.Config{
		Reps: o.reps, Warmup: warmup, Short: o.short, Threads: o.threads,
		Model: m.Name, Profile: o.profile,
		Progress: bar.Func(),
	})
	bar.Done()
	if rep == nil {
		rep = &report.Report{Extras: report.Extras{Status: report.StatusFailed}}
	}
	fillMissing(rep, baseReport(o, m, row.name))
	if err != nil {
		rep.Status = report.StatusFailed
		fmt.Fprintf(progressW, "fakbench run: %s failed: %v\n", row.name, err)
	}
	if rep.BackendVersion == "" {
		rep.BackendVersion = b.Version()
	}
	if rep.Settings == nil {
		rep.Settings = b.Settings()
	}
	if rev := sourceRevision(); rev != "" {
		rep.Settings["fakbench_revision"] = rev
	}
	if rep.ModelInfo != nil {
		rep.ModelInfo.FileBytes = m.Size
	}
	if rep.TokenDigest == "" {
		rep.TokenDigest = sc.Digest()
	}
	if rep.Scenario == nil {
		rep.Scenario = sc.Shape()
	}
	rep.BuildFlags = flags
	if bf := rep.Settings["build_flags"]; bf != "" && bf != flags {
		rep.BuildFlags = flags + "; backend: " + bf
	}
	addRoofline(rep, b.Info(), host)
	if rep.StartedAt == "" {
		rep.StartedAt = row.started.UTC().Format(time.RFC3339Nano)
	}
	if rep.FinishedAt == "" {
		rep.FinishedAt = time.Now().UTC().Format(time.RFC3339Nano)
	}
	fmt.Fprintf(progressW, "fakbench run: %s %s in %s\n", row.name, rep.Status, time.Since(start).Round(time.Millisecond))
	return rep
}

// addRoofline sets the decode roofline: the tokens per second the node's
// memory bandwidth allows when every token reads the weights once, and the
// fraction of it the backend reached.
func addRoofline(rep *report.Report, info transport.ModelInfo, host report.Host) {
	if host.MemBWGBs <= 0 || info.WeightBytes <= 0 {
		return
	}
	rep.Decode.WeightBytesRead = info.WeightBytes
	rep.Decode.RooflineTPS = host.MemBWGBs * 1e9 / float64(info.WeightBytes)
	if rep.Decode.TokensPerSec > 0 {
		rep.Decode.RooflineFrac = rep.Decode.TokensPerSec / rep.Decode.RooflineTPS
	}
	rep.Notes = append(rep.Notes, fmt.Sprintf(
		"decode roofline: memory bandwidth %.1f GB/s over %d weight bytes read per token = %.1f tok/s (KV-cache reads not counted)",
		host.MemBWGBs, info.WeightBytes, rep.Decode.RooflineTPS))
}

// fillMissing copies base's identifying fields into r where r left them
// empty (the harness fills the measurements; the CLI knows the run).
func fillMissing(r, base *report.Report) {
	if r.Model == "" {
		r.Model = base.Model
	}
	if r.Backend == "" {
		r.Backend = base.Backend
	}
	if r.Mode == "" {
		r.Mode = base.Mode
	}
	if r.Profile == "" {
		r.Profile = base.Profile
	}
	if r.SchemaVersion == "" {
		r.SchemaVersion = base.SchemaVersion
	}
	if r.RowKind == "" {
		r.RowKind = base.RowKind
	}
	r.Threads = base.Threads
	if r.Repetitions == 0 {
		r.Repetitions = base.Repetitions
	}
	r.Warmup = base.Warmup
	r.Short = base.Short
	r.ModelSpec = base.ModelSpec
	r.ModelDigest = base.ModelDigest
	r.Command = base.Command
}

// writeFormats prints the run in the chosen formats on stdout (the plain
// side-by-side table for json) and writes every non-json format to
// DIR/report.<ext> as well.
func writeFormats(o runOptions, reports []*report.Report, stdout, stderr io.Writer) int {
	for _, f := range o.formats {
		if f == "json" {
			fmt.Fprint(stdout, report.Table(reports))
			fmt.Fprintf(stdout, "\nreports written to %s (one JSON per backend, report.md, report.html)\n", o.out)
			continue
		}
		var buf bytes.Buffer
		if err := formats.Write(&buf, f, reports); err != nil {
			fmt.Fprintf(stderr, "fakbench run: --format %s: %v\n", f, err)
			return exitFailed
		}
		path := filepath.Join(o.out, "report"+formats.Extension(f))
		if err := report.WriteFileAtomic(path, buf.Bytes()); err != nil {
			fmt.Fprintf(stderr, "fakbench run: %v\n", err)
			return exitFailed
		}
		if _, err := stdout.Write(buf.Bytes()); err != nil {
			return exitFailed
		}
		fmt.Fprintf(stderr, "fakbench run: %s written to %s\n", f, path)
	}
	return exitOK
}
