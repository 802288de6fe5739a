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
	"github.com/fakbench/fakbench/harness/sweep"
	"github.com/fakbench/fakbench/internal/host"
	"github.com/fakbench/fakbench/internal/progress"
	"github.com/fakbench/fakbench/models"
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
                    [--sweep [--grid "flash_attn=on,off;n_ubatch=256,512"]]
                    [--ablations generic,no-reuse] [--untuned]
                    [--schedule interleaved|sequential]

Runs every scenario of the report (cold full prefill, warm same prefix, warm
changed suffix, edited stable segment, decode, suffix TTFT curve, failure
cases) on each backend with identical token IDs and the same thread count,
writes DIR/<backend>.json and DIR/report.md, and prints the side-by-side
table. MODEL is a .gguf file, synthetic:PRESET[:TYPE] (presets tiny,
smol135m, llama1b; types f32, f16, q8_0) or real:smollm2 (fetched by
make setup).

--sweep makes the llama.cpp row the tuned reference composed from a sweep
(each section from its best configuration; DIR/sweep-llamacpp.json keeps
every configuration's report). --ablations adds Go kernel ablation rows
(generic: the pure-Go kernels; no-reuse: no prefix reuse), --untuned adds
llama.cpp's untuned profile as a separate row.

The rows take turns on the node per section and repetition, in a rotating
order (--schedule interleaved, the default), so drift lands on every row
alike; the reports record the schedule. --schedule sequential runs one
backend's whole suite after another instead (each alone in memory, so
peak_rss_mb is recorded per row).

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
	schedule string // harness.ScheduleInterleaved or harness.ScheduleSequential

	sweep     bool                  // compose each sweepable backend's row from a settings sweep
	grids     map[string]sweep.Grid // the sweep's grid per swept backend
	ablations []string              // ablation rows (adapters.Ablation names)
	untuned   bool                  // add the untuned profile of each backend that has one as its own row
}

// entries returns the registry entries of names (which parseRunFlags has
// checked), in order.
func entries(names []string) []adapters.Entry {
	out := make([]adapters.Entry, 0, len(names))
	for _, n := range names {
		if e, err := adapters.Lookup(n); err == nil {
			out = append(out, e)
		}
	}
	return out
}

// registered lists the names (or display names) of the registered backends
// that keep(e) selects, sorted by name.
func registered(keep func(adapters.Entry) bool, display bool) []string {
	var out []string
	for _, e := range entries(adapters.Names()) {
		if keep(e) {
			if display {
				out = append(out, e.Display)
			} else {
				out = append(out, e.Name)
			}
		}
	}
	return out
}

func hasSweep(e adapters.Entry) bool     { return e.SweepGrid != "" }
func hasUntuned(e adapters.Entry) bool   { return e.Untuned }
func hasAblations(e adapters.Entry) bool { return len(e.Ablations) > 0 }

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
	fs.BoolVar(&o.sweep, "sweep", false, "compose the llama.cpp row from a settings sweep (best configuration per section; DIR/sweep-llamacpp.json keeps them all)")
	grid := fs.String("grid", "", "the sweep's `grid`, key=v1,v2;key2=... over the swept backend's options (default: the backend's own, e.g. llamacpp "+llamacppGridHint()+"; needs --sweep)")
	ablations := fs.String("ablations", "", "comma-separated ablation `rows` of the in-repo kernel: "+strings.Join(ablationNames(entries(adapters.Names())), ", "))
	fs.BoolVar(&o.untuned, "untuned", false, "add the untuned profile of each backend that has one (llama.cpp) as a separate row (row kind untuned)")
	fs.StringVar(&o.schedule, "schedule", harness.ScheduleInterleaved, "how the rows share the node: interleaved (turns per section and repetition, rotating order, all backends resident) or sequential (one backend's whole suite after another, each alone in memory, peak RSS per row)")
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
	case o.schedule != harness.ScheduleInterleaved && o.schedule != harness.ScheduleSequential:
		return o, usageError(stderr, "run", "--schedule %q: want %s or %s", o.schedule, harness.ScheduleInterleaved, harness.ScheduleSequential), false
	}
	fmts, err := formats.Parse(*format)
	if err != nil {
		return o, usageError(stderr, "run", "--format: %v", err), false
	}
	o.formats = fmts
	if code, ok := parseRowFlags(&o, *grid, set["grid"], *ablations, stderr); !ok {
		return o, code, false
	}
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
		o.threads = host.PhysicalCores()
	}
	return o, exitOK, true
}

// ablationNames lists the ablation names of es, sorted and without repeats.
func ablationNames(es []adapters.Entry) []string {
	var out []string
	for _, e := range es {
		for _, a := range e.Ablations {
			if !slices.Contains(out, a.Name) {
				out = append(out, a.Name)
			}
		}
	}
	slices.Sort(out)
	return out
}

// llamacppGridHint is the default grid of the first sweepable backend, for
// the flag help.
func llamacppGridHint() string {
	for _, e := range entries(adapters.Names()) {
		if hasSweep(e) {
			return e.SweepGrid
		}
	}
	return "(none registered)"
}

// parseRowFlags checks --sweep, --grid, --ablations and --untuned against
// --backends and --profile, from what the registry says each backend has.
func parseRowFlags(o *runOptions, grid string, gridSet bool, ablations string, stderr io.Writer) (int, bool) {
	run := entries(o.backends)
	pick := func(keep func(adapters.Entry) bool) []adapters.Entry {
		var out []adapters.Entry
		for _, e := range run {
			if keep(e) {
				out = append(out, e)
			}
		}
		return out
	}
	backends := strings.Join(o.backends, ",")
	if gridSet && !o.sweep {
		return usageError(stderr, "run", "--grid needs --sweep"), false
	}
	if o.sweep {
		swept := pick(hasSweep)
		switch {
		case len(swept) == 0:
			return usageError(stderr, "run", "--sweep tunes %s, which is not in --backends (%s)", strings.Join(registered(hasSweep, false), ", "), backends), false
		case o.profile != "tuned":
			return usageError(stderr, "run", "--sweep composes the tuned reference: it needs --profile tuned, not %q", o.profile), false
		}
		o.grids = map[string]sweep.Grid{}
		for _, e := range swept {
			text := e.SweepGrid
			if gridSet {
				text = grid
			}
			g, err := parseSweepGrid(text)
			if err != nil {
				return usageError(stderr, "run", "--grid: %v", err), false
			}
			o.grids[e.Name] = g
		}
	}
	if o.untuned {
		switch {
		case len(pick(hasUntuned)) == 0:
			return usageError(stderr, "run", "--untuned adds %s's untuned row: %s is not in --backends (%s)",
				strings.Join(registered(hasUntuned, true), ", "), strings.Join(registered(hasUntuned, false), ", "), backends), false
		case o.profile == "untuned":
			return usageError(stderr, "run", "--untuned with --profile untuned would run the untuned profile twice"), false
		}
	}
	o.ablations = splitList(ablations)
	if len(o.ablations) == 0 {
		return exitOK, true
	}
	kernels := pick(hasAblations)
	if len(kernels) == 0 {
		return usageError(stderr, "run", "--ablations are rows of %s: %s is not in --backends (%s)",
			strings.Join(registered(hasAblations, true), ", "), strings.Join(registered(hasAblations, false), ", "), backends), false
	}
	known := ablationNames(kernels)
	seen := map[string]bool{}
	for _, a := range o.ablations {
		if !slices.Contains(known, a) {
			return usageError(stderr, "run", "--ablations: unknown ablation %q (known: %s)", a, strings.Join(known, ", ")), false
		}
		if seen[a] {
			return usageError(stderr, "run", "--ablations names %q twice", a), false
		}
		seen[a] = true
	}
	return exitOK, true
}

// parseSweepGrid parses a --grid value and refuses a threads axis: the
// thread count is fixed to the run's so that ratios stay same-thread.
func parseSweepGrid(s string) (sweep.Grid, error) {
	g, err := sweep.ParseGrid(s)
	if err != nil {
		return nil, err
	}
	for _, a := range g {
		if a.Key == "threads" {
			return nil, fmt.Errorf("threads cannot be swept: every configuration runs with --threads so ratios stay same-thread")
		}
	}
	return g, nil
}

// opened is one row of the run: a backend with its profile and options,
// loaded, or skipped/failed with a reason.
type opened struct {
	name      string            // registry name of the backend
	label     string            // row label ("" = the backend name)
	kind      string            // row kind
	profile   string            // settings profile
	extra     map[string]string // backend options (adapters.Options.Extra)
	sweep     bool              // compose this row from a settings sweep
	note      string            // what the row is, for its notes ("" = none)
	expected  []string          // checks the row fails by design (adapters.Ablation.Expected)
	exclusive bool              // switches process-wide state: never interleaved (adapters.Ablation.Exclusive)
	available bool              // the probe open succeeded
	backend   transport.Backend // open now (nil between the probe and the run)
	rep       *report.Report    // set when the backend did not load
	measured  bool              // the harness ran on it (not swept, skipped or failed to open)
	started   time.Time
}

// display is the row's name in progress lines and file names.
func (r *opened) display() string {
	if r.label != "" {
		return r.label
	}
	return r.name
}

// planRows lists the run's rows: one per --backends entry, then the
// --untuned and --ablations rows of the backends that have them.
func planRows(o runOptions) []*opened {
	var rows []*opened
	run := entries(o.backends)
	for _, e := range run {
		rows = append(rows, &opened{name: e.Name, kind: rowKind(e.Name, o.profile), profile: o.profile,
			sweep: o.sweep && hasSweep(e)})
	}
	if o.untuned {
		for _, e := range run {
			if hasUntuned(e) {
				rows = append(rows, &opened{name: e.Name, label: e.Name + "-untuned", kind: report.KindUntuned, profile: "untuned",
					note: "untuned row: " + e.Display + " as a naive caller of the C API gets it (its default context parameters and thread count); not a reference"})
			}
		}
	}
	for _, a := range o.ablations {
		for _, e := range run {
			if ab, ok := e.Ablation(a); ok {
				rows = append(rows, &opened{name: e.Name, label: ab.Label, kind: report.KindAblation, profile: o.profile,
					extra: ab.Extra, note: "ablation " + ab.Label + ": " + ab.What, expected: ab.Expected, exclusive: ab.Exclusive})
			}
		}
	}
	return rows
}

// openBackend opens one backend with the run's threads and context and the
// given profile and options.
func openBackend(ctx context.Context, o runOptions, m models.Resolved, name, profile string, extra map[string]string) (transport.Backend, error) {
	return adapters.Open(ctx, name, adapters.Options{
		ModelPath: m.Path, Threads: o.threads, ContextLength: o.ctxLen, Profile: profile, Extra: extra,
	})
}

// openRow opens a row's backend.
func openRow(ctx context.Context, o runOptions, m models.Resolved, row *opened) (transport.Backend, error) {
	return openBackend(ctx, o, m, row.name, row.profile, row.extra)
}

// openFailedReport is the row of a backend that failed to open for a reason
// other than being unavailable here.
func openFailedReport(o runOptions, m models.Resolved, row *opened, err error) *report.Report {
	r := baseReport(o, m, row)
	r.Status = report.StatusFailed
	r.Notes = append(r.Notes, "open failed: "+err.Error())
	return r
}

// probeGrid opens and closes the backend once per configuration of g, so a
// bad option in the grid is a usage error before anything is measured.
func probeGrid(ctx context.Context, o runOptions, m models.Resolved, name string, g sweep.Grid) error {
	for _, c := range g.Configs() {
		b, err := openBackend(ctx, o, m, name, "tuned", c.Extra)
		if err != nil {
			return fmt.Errorf("configuration %s: %w", c.Name, err)
		}
		_ = b.Close()
	}
	return nil
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
	logw, model, code, ok := prepareRun(ctx, "run", o, stderr)
	if !ok {
		return code
	}
	host := measureHost(o, "run", logw)
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
	rows = planRows(o)
	for _, row := range rows {
		name := row.display()
		row.started = time.Now()
		fmt.Fprintf(logw, "fakbench run: opening %s on %s (threads %d, profile %s)\n", name, model.Path, o.threads, row.profile)
		b, err := openRow(ctx, o, model, row)
		switch {
		case err == nil:
			row.available = true
			infos = append(infos, b.Info())
			if len(rows) == 1 && !row.sweep {
				row.backend = b
			} else if err := b.Close(); err != nil {
				fmt.Fprintf(logw, "fakbench run: closing %s after the probe: %v\n", name, err)
			}
			if row.sweep {
				if err := probeGrid(ctx, o, model, row.name, o.grids[row.name]); err != nil {
					if ctx.Err() != nil {
						fmt.Fprintf(stderr, "fakbench run: interrupted while opening %s: %v\n", name, err)
						return exitFailed
					}
					fmt.Fprintf(stderr, "fakbench run: --grid: %v\n", err)
					return exitUsage
				}
			}
		case transport.IsBadModel(err):
			fmt.Fprintf(stderr, "fakbench run: %s: %v\n", name, err)
			return exitUsage
		case ctx.Err() != nil:
			fmt.Fprintf(stderr, "fakbench run: interrupted while opening %s: %v\n", name, err)
			return exitFailed
		case transport.IsUnavailable(err):
			row.rep = baseReport(o, model, row)
			row.rep.Status = report.StatusSkipped
			row.rep.SkipReason = err.Error()
			row.rep.Notes = append(row.rep.Notes, "skipped: "+err.Error())
			if slices.Contains(o.require, row.name) {
				failed = true
				fmt.Fprintf(stderr, "fakbench run: required backend %s is unavailable: %v\n", name, err)
			} else {
				fmt.Fprintf(logw, "fakbench run: skipping %s: %v\n", name, err)
			}
		default:
			failed = true
			row.rep = openFailedReport(o, model, row, err)
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

	// Swept rows first, one configuration after another; then the other
	// rows, interleaved per section and repetition unless --schedule
	// sequential.
	for _, row := range rows {
		if !row.available || !row.sweep || ctx.Err() != nil {
			continue
		}
		resetPeakRSS()
		row.started = time.Now()
		s, err := runSweep(ctx, o, model, sc, row, host, flags, logw)
		if s != nil {
			path := filepath.Join(o.out, "sweep-"+row.name+".json")
			if werr := s.WriteFile(path); werr != nil {
				fmt.Fprintf(stderr, "fakbench run: %v\n", werr)
				return exitFailed
			}
			fmt.Fprintf(logw, "fakbench run: sweep of %s written to %s\n", row.name, path)
		}
		row.rep = sweptRow(o, model, row, s, err)
		if mb, ok := peakRSSMB(); ok {
			row.rep.PeakRSSMB = mb
		}
	}
	runRows(ctx, o, model, sc, rows, host, flags, logw, stderr)

	var reports []*report.Report
	for _, row := range rows {
		if row.rep == nil {
			// Never reached: the run was interrupted first.
			continue
		}
		if row.rep.Status == report.StatusFailed {
			failed = true
		}
		if row.rep.BackendDisplay == "" {
			row.rep.BackendDisplay = adapters.Display(row.name)
		}
		row.rep.ExpectedFailures = row.expected
		row.rep.Host = &host
		if row.rep.BuildFlags == "" {
			row.rep.BuildFlags = flags
		}
		if row.rep.FinishedAt == "" {
			row.rep.FinishedAt = time.Now().UTC().Format(time.RFC3339Nano)
		}
		reports = append(reports, row.rep)
	}

	// The kernel row records its ratios to the best tuned reference of this
	// run per metric, and to each reference.
	report.SortReports(reports)
	report.FindStanding(reports).Annotate()
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
		name := r.Backend
		if r.RowLabel != "" {
			name = r.RowLabel
		}
		for _, f := range report.CorrectnessFailures(r) {
			if report.ExpectedFailure(r, f) {
				fmt.Fprintf(logw, "fakbench run: %s: %s (expected for this ablation, not counted)\n", name, f)
				continue
			}
			failed = true
			fmt.Fprintf(stderr, "fakbench run: %s: %s\n", name, f)
		}
	}
	if failed {
		return exitFailed
	}
	return exitOK
}

// runRows measures every available row that is not swept and records in
// each report how it shared the node. With the interleaved schedule the
// rows' backends are all open at once and take turns per section and
// repetition (harness.Interleave); a row that switches process-wide state
// (an exclusive ablation, e.g. the Go kernel's generic kernel set) cannot
// share the process and runs alone afterwards. With the sequential schedule
// each row runs its whole suite after the other, alone in memory (its peak
// RSS is then its own).
func runRows(ctx context.Context, o runOptions, m models.Resolved, sc harness.Scenario, rows []*opened,
	host report.Host, flags string, logw, stderr io.Writer) {
	var shared, alone []*opened
	for _, row := range rows {
		switch {
		case !row.available || row.sweep:
		case o.schedule == harness.ScheduleSequential || row.exclusive:
			alone = append(alone, row)
		default:
			shared = append(shared, row)
		}
	}
	if len(shared) == 1 {
		// Nothing to take turns with.
		alone, shared = append(shared, alone...), nil
	}
	// open (re)opens a row's backend; a failure becomes the row's report.
	open := func(row *opened) bool {
		if row.backend != nil {
			return true
		}
		row.started = time.Now()
		b, err := openRow(ctx, o, m, row)
		if err != nil {
			row.rep = openFailedReport(o, m, row, err)
			fmt.Fprintf(stderr, "fakbench run: %s failed to reopen: %v\n", row.display(), err)
			return false
		}
		row.backend = b
		return true
	}
	finish := func(row *opened) {
		rowNotes(row)
		_ = row.backend.Close()
		row.backend = nil
	}
	if len(shared) > 0 && ctx.Err() == nil {
		interleaveRows(ctx, o, m, sc, shared, host, flags, logw, stderr, open, finish)
	}
	names := make([]string, len(alone))
	for i, row := range alone {
		names[i] = row.display()
	}
	for _, row := range alone {
		if ctx.Err() != nil {
			break
		}
		resetPeakRSS()
		if !open(row) {
			continue
		}
		row.rep = runOne(ctx, o, m, sc, row, host, flags, logw, nil)
		row.measured = true
		if mb, ok := peakRSSMB(); ok {
			row.rep.PeakRSSMB = mb
		}
		finish(row)
		rule := "each row runs its whole suite after the previous one, in the order of the rows"
		if row.exclusive && o.schedule != harness.ScheduleSequential {
			rule = "this row switches process-wide state (" + row.note + "), so it ran alone after the interleaved rows"
		}
		row.rep.Schedule = &report.Schedule{Mode: harness.ScheduleSequential, Rows: names, Rule: rule}
	}
}

// interleaveRows runs rows together: all open, taking turns per section and
// repetition in a rotating order (harness.Interleave).
func interleaveRows(ctx context.Context, o runOptions, m models.Resolved, sc harness.Scenario, rows []*opened,
	host report.Host, flags string, logw, stderr io.Writer, open func(*opened) bool, finish func(*opened)) {
	var live []*opened
	for _, row := range rows {
		if open(row) {
			live = append(live, row)
		}
	}
	fns := make([]func(yield func()), len(live))
	names := make([]string, len(live))
	for i, row := range live {
		names[i] = row.display()
		fns[i] = func(yield func()) {
			row.rep = runOne(ctx, o, m, sc, row, host, flags, logw, yield)
			row.measured = true
		}
	}
	fmt.Fprintf(logw, "fakbench run: %d rows interleaved per section and repetition, rotating order: %s\n",
		len(live), strings.Join(names, ", "))
	hs, errs := harness.Interleave(fns)
	sched := &report.Schedule{Mode: harness.ScheduleInterleaved, Rows: names, Rounds: hs.Rounds, Steps: hs.Steps,
		Rule: "one step (a section or one repetition, warm-up included) per row per round; round k starts with row k mod n and goes on in row order, so the order rotates; nothing timed spans a switch"}
	for _, order := range hs.FirstRounds {
		r := make([]string, len(order))
		for j, id := range order {
			r[j] = names[id]
		}
		sched.FirstRounds = append(sched.FirstRounds, r)
	}
	for i, row := range live {
		if errs[i] != nil {
			fmt.Fprintf(stderr, "fakbench run: %s: %v\n", row.display(), errs[i])
			if row.rep == nil {
				row.rep = baseReport(o, m, row)
			}
			row.rep.Status = report.StatusFailed
			row.rep.Notes = append(row.rep.Notes, "run aborted: "+errs[i].Error())
		}
		finish(row)
		row.rep.Schedule = sched
		row.rep.Notes = append(row.rep.Notes, "peak_rss_mb not recorded: in the interleaved schedule every backend is resident in one process at once, so the process peak is not this row's (--schedule sequential measures it per row)")
	}
}

// rowNotes adds what the row is to its report's notes (ablation, untuned,
// a tuned reference that could have been swept but was not).
func rowNotes(row *opened) {
	r := row.rep
	if row.note != "" {
		r.Notes = append(r.Notes, row.note)
	}
	e, err := adapters.Lookup(row.name)
	if err != nil || !hasSweep(e) || row.kind != report.KindTunedReference || row.sweep {
		return
	}
	var set []string
	if g, err := sweep.ParseGrid(e.SweepGrid); err == nil {
		for _, a := range g {
			set = append(set, a.Key+" "+r.Settings[a.Key])
		}
	}
	set = append(set, "threads "+r.Settings["threads"])
	r.Notes = append(r.Notes, fmt.Sprintf(
		"tuned reference not swept: %s's tuned profile defaults as they are (%s); fakbench run --sweep (or fakbench tune) takes the best of its %s sweep per section",
		e.Display, strings.Join(set, ", "), e.SweepGrid))
}

// runSweep measures row's backend once per configuration of the run's grid
// (each a full harness run with the run's threads, scenario and
// repetitions) and composes the tuned row.
func runSweep(ctx context.Context, o runOptions, m models.Resolved, sc harness.Scenario, row *opened,
	host report.Host, flags string, progressW io.Writer) (*sweep.Sweep, error) {
	grid := o.grids[row.name]
	configs := grid.Configs()
	i := 0
	s, err := sweep.Run(ctx, row.name, grid, o.threads, func(ctx context.Context, c sweep.Config) (*report.Report, error) {
		i++
		fmt.Fprintf(progressW, "fakbench: sweep %s %d/%d: %s\n", row.name, i, len(configs), c.Name)
		cfgRow := &opened{name: row.name, label: row.name + "[" + c.Name + "]", kind: row.kind, profile: row.profile,
			extra: c.Extra, started: time.Now()}
		b, err := openRow(ctx, o, m, cfgRow)
		if err != nil {
			return nil, fmt.Errorf("open: %w", err)
		}
		cfgRow.backend = b
		rep := runOne(ctx, o, m, sc, cfgRow, host, flags, progressW, nil)
		_ = b.Close()
		rep.RowLabel = "" // the configuration is in the sweep file; the row is the backend's
		rep.Notes = append(rep.Notes, "sweep configuration "+c.Name)
		return rep, nil
	})
	if s != nil {
		s.Model = m.Spec
	}
	return s, err
}

// sweptRow is the row a sweep gives: the composed tuned row, or a failed
// row saying why there is none.
func sweptRow(o runOptions, m models.Resolved, row *opened, s *sweep.Sweep, err error) *report.Report {
	if s != nil && s.Tuned != nil && err == nil {
		r := s.Tuned
		r.Notes = append(r.Notes, fmt.Sprintf("the sweep's configurations are kept in sweep-%s.json", row.name))
		r.StartedAt, r.FinishedAt = s.StartedAt, s.FinishedAt
		return r
	}
	r := baseReport(o, m, row)
	r.Status = report.StatusFailed
	if err != nil {
		r.Notes = append(r.Notes, "sweep failed: "+err.Error())
	}
	if s != nil {
		r.Notes = append(r.Notes, s.Notes...)
	}
	return r
}

// baseReport fills the facts every row carries, run or not.
func baseReport(o runOptions, m models.Resolved, row *opened) *report.Report {
	r := &report.Report{
		Model:   m.Name,
		Backend: row.name,
		Mode:    "live_prefix_reuse",
		Profile: row.profile,
	}
	r.SchemaVersion = report.SchemaVersion
	r.RowKind = row.kind
	r.RowLabel = row.label
	r.Threads = o.threads
	r.Repetitions = o.reps
	r.Warmup = o.warmup
	r.Short = o.short
	r.ModelSpec = o.model
	r.ModelDigest = m.Digest
	r.Command = commandLine(o.argv)
	return r
}

// rowKind labels a row per the tuned-reference policy, from the backend's
// registered role: a tuned reference (llama.cpp, OpenVINO, any incumbent)
// run with the tuned profile is a tuned reference, with the untuned profile
// an untuned row; the in-repo kernel is the kernel row, and with the
// untuned profile an ablation.
func rowKind(backend, profile string) string {
	role := adapters.RoleReference
	if e, err := adapters.Lookup(backend); err == nil {
		role = e.Role
	}
	if role == adapters.RoleKernel {
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
//
// yield, when not nil, is the interleaving hand-over (harness.Config.Yield);
// the progress is then printed as lines, since several rows advance at once.
func runOne(ctx context.Context, o runOptions, m models.Resolved, sc harness.Scenario, row *opened,
	host report.Host, flags string, progressW io.Writer, yield func()) *report.Report {
	b := row.backend
	name := row.display()
	fmt.Fprintf(progressW, "fakbench run: %s: running scenarios (%d reps, %d warm-up)\n", name, o.reps, o.warmup)
	start := time.Now()
	mode := progress.Auto
	switch {
	case o.quiet:
		mode = progress.Quiet
	case yield != nil:
		mode = progress.Lines
	}
	bar := progress.New(progressW, mode, "fakbench run: "+name, len(harness.Steps))
	warmup := o.warmup
	if warmup == 0 {
		warmup = -1 // harness: 0 means its default, negative means none
	}
	rep, err := harness.Run(ctx, b, sc, harness.Config{
		Reps: o.reps, Warmup: warmup, Short: o.short, Threads: o.threads,
		Model: m.Name, Profile: row.profile,
		Progress: bar.Func(), Yield: yield,
	})
	bar.Done()
	if rep == nil {
		rep = &report.Report{Extras: report.Extras{Status: report.StatusFailed}}
	}
	fillMissing(rep, baseReport(o, m, row))
	if err != nil {
		rep.Status = report.StatusFailed
		fmt.Fprintf(progressW, "fakbench run: %s failed: %v\n", name, err)
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
	addRoofline(rep, m.DecodeBytes, host)
	if isa, ok := rep.Settings["isa"]; ok {
		rep.CPUFeaturesUnused = report.UnusedFeatures(&host, isa)
	} else {
		rep.Notes = append(rep.Notes, "the backend does not say which CPU features its code uses (no settings.isa), so the unused ones are not listed")
	}
	if rep.StartedAt == "" {
		rep.StartedAt = row.started.UTC().Format(time.RFC3339Nano)
	}
	if rep.FinishedAt == "" {
		rep.FinishedAt = time.Now().UTC().Format(time.RFC3339Nano)
	}
	fmt.Fprintf(progressW, "fakbench run: %s %s in %s\n", name, rep.Status, time.Since(start).Round(time.Millisecond))
	return rep
}

// addRoofline sets the decode roofline: the tokens per second the node's
// memory bandwidth allows when every token reads the weights once, and the
// fraction of it the backend reached. weightBytes comes from the model file
// (models.Resolved.DecodeBytes), not from the backend, so every row of a run
// is held to the same roofline.
func addRoofline(rep *report.Report, weightBytes int64, host report.Host) {
	if host.MemBWGBs <= 0 || weightBytes <= 0 {
		return
	}
	rep.Decode.WeightBytesRead = weightBytes
	rep.Decode.RooflineTPS = host.MemBWGBs * 1e9 / float64(weightBytes)
	if rep.Decode.TokensPerSec > 0 {
		rep.Decode.RooflineFrac = rep.Decode.TokensPerSec / rep.Decode.RooflineTPS
	}
	rep.Notes = append(rep.Notes, fmt.Sprintf(
		"decode roofline: memory bandwidth %.1f GB/s over %d weight bytes read per token = %.1f tok/s (KV-cache reads not counted)",
		host.MemBWGBs, weightBytes, rep.Decode.RooflineTPS))
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
	if r.RowLabel == "" {
		r.RowLabel = base.RowLabel
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

// prepareRun is the start shared by run and tune: the progress writer
// (discarded with --quiet), the resolved model and the output directory.
// On failure it returns the exit code to use and false.
func prepareRun(ctx context.Context, cmd string, o runOptions, stderr io.Writer) (io.Writer, models.Resolved, int, bool) {
	logw := io.Writer(stderr)
	if o.quiet {
		logw = io.Discard
	}
	model, err := resolveModel(ctx, o.model, logw)
	if err != nil {
		fmt.Fprintf(stderr, "fakbench %s: %v\n", cmd, err)
		if errors.Is(err, context.Canceled) {
			return logw, model, exitFailed, false
		}
		return logw, model, exitUsage, false
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		fmt.Fprintf(stderr, "fakbench %s: %v\n", cmd, err)
		return logw, model, exitUsage, false
	}
	return logw, model, exitOK, true
}

// measureHost collects the host facts and the memory bandwidth for the
// decode roofline: --membw when given, none when negative, else measured.
func measureHost(o runOptions, cmd string, logw io.Writer) report.Host {
	h := report.NewHost(host.Collect())
	switch {
	case o.membw > 0:
		h.MemBWGBs = o.membw
	case o.membw == 0:
		size := int64(256 << 20)
		if o.short {
			size = 64 << 20
		}
		h.MemBWGBs = host.MeasureMemBandwidth(size, o.threads, 3)
		fmt.Fprintf(logw, "fakbench %s: memory bandwidth %.1f GB/s (copy of %d MiB on %d threads, best of 3)\n", cmd, h.MemBWGBs, size>>20, o.threads)
	}
	return h
}
