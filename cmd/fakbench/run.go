package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	_ "github.com/fakbench/fakbench/adapters/all" // registers every in-repo backend
	"github.com/fakbench/fakbench/bench"
	"github.com/fakbench/fakbench/harness"
	"github.com/fakbench/fakbench/report/formats"
)

func init() {
	register(command{
		name:    "run",
		summary: "run backends side by side on one model; write <backend>.json and report.md",
		run:     runRun,
	})
}

// runOptions are the parsed flags of "fakbench run": the comparison
// (bench.Options) and the stdout formats.
type runOptions struct {
	bench.Options
	formats []string
}

func parseRunFlags(args []string, stderr io.Writer) (runOptions, int, bool) {
	var o runOptions
	fs := newFlagSet("run", synopsis("run"), stderr)
	var backends string
	backendsFlag(fs, &backends)
	require := fs.String("require", "", "comma-separated `list` of backends that must run (an unavailable one fails the run)")
	measureFlags(fs, &o.Options, "<backend>.json and report.md")
	fs.StringVar(&o.Profile, "profile", "tuned", "settings profile: tuned or untuned")
	fs.StringVar(&o.PromptFile, "prompt-file", "", "cut the stable prefix and suffixes from this text `file`, tokenized with the model's tokenizer, instead of drawing token IDs")
	fs.BoolVar(&o.Sweep, "sweep", false, "sweep llama.cpp's settings first, then measure the one configuration chosen by the sweep's objective as its row (DIR/sweep-llamacpp.json keeps every configuration)")
	grid := fs.String("grid", "", "the sweep's `grid`, key=v1,v2;key2=... over the swept backend's options (default: the backend's own, e.g. llamacpp "+bench.DefaultGridHint()+"; needs --sweep)")
	ablations := fs.String("ablations", "", "comma-separated ablation `rows` (of gokernel and openvino): "+strings.Join(bench.AblationNames(), ", "))
	fs.BoolVar(&o.Untuned, "untuned", false, "add the untuned profile of each backend that has one (llama.cpp) as a separate row (row kind untuned)")
	fs.StringVar(&o.Schedule, "schedule", harness.ScheduleInterleaved, "how the rows share the node: interleaved (turns per section and repetition, rotating order, all backends resident) or sequential (one backend's whole suite after another, each alone in memory, peak RSS per row)")
	fs.BoolVar(&o.Force, "force", false, "move an earlier, different run found in --out aside (to DIR.prev-<time>) instead of refusing")
	format := fs.String("format", "json", "stdout `format`s besides the files: json (the side-by-side table), md, csv, jsonl or benchstat; each non-json format is also written to DIR/report.<ext>")
	if _, code, ok := parseFlags(fs, args, 0); !ok {
		return o, code, false
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	o.Backends, o.Require, o.Ablations = splitList(backends), splitList(*require), splitList(*ablations)
	fmts, err := formats.Parse(*format)
	if err != nil {
		return o, usageError(stderr, "run", "--format: %v", err), false
	}
	o.formats = fmts
	if err := o.Resolve(set["reps"], *grid, set["grid"]); err != nil {
		return o, usageError(stderr, "run", "%v", err), false
	}
	return o, exitOK, true
}

// measureFlags declares on fs the flags run and tune share: the model, the
// output directory (for outWhat), the scenario size, repetitions, threads,
// context, seed, memory bandwidth and quiet.
func measureFlags(fs *flag.FlagSet, o *bench.Options, outWhat string) {
	modelFlag(fs, &o.ModelSpec)
	outFlag(fs, &o.Out, outWhat)
	fs.BoolVar(&o.Short, "short", false, "small scenario sizes: proves the wiring, not a measurement")
	threadsFlag(fs, &o.Threads, &o.Oversubscribe)
	fs.IntVar(&o.Reps, "reps", 0, fmt.Sprintf("measured repetitions per scenario, the median reported (default %d, %d with --short)", bench.DefaultReps, bench.ShortReps))
	fs.IntVar(&o.Warmup, "warmup", 1, "discarded warm-up repetitions per scenario")
	ctxFlag(fs, &o.CtxLen)
	seedFlag(fs, &o.Seed)
	fs.Float64Var(&o.MemBW, "membw", 0, "node memory bandwidth in `GB/s` for the decode roofline (0 = measure it, negative = no roofline)")
	fs.BoolVar(&o.Quiet, "quiet", false, "no progress on stderr")
	fs.StringVar(&o.Isolation, "isolation", bench.IsolationProcess, "where each backend runs: process (a child process each: a crash fails that row only, peak memory per row) or in_process")
	fs.DurationVar(&o.HangAfter, "hang-after", bench.DefaultHangAfter, "kill a backend's process that says nothing for this `long` (a section or repetition ends with a word)")
}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, code, ok := parseRunFlags(args, stderr)
	if !ok {
		return code
	}
	o.Stamp("run", args, stderr)
	model, err := bench.Prepare(ctx, o.Options)
	if err != nil {
		return benchError(stderr, "run", err)
	}
	res, err := bench.Run(ctx, o.Options, model)
	if err != nil {
		return benchError(stderr, "run", err)
	}
	if err := res.Write(o.Out, "fakbench: "+model.Spec, o.Command); err != nil {
		return failed(stderr, "run", err)
	}
	if err := bench.PrintFormats(stdout, stderr, o.Out, o.formats, res.Reports); err != nil {
		return failed(stderr, "run", err)
	}
	if ctx.Err() != nil {
		fmt.Fprintf(stderr, "fakbench run: interrupted: %v\n", ctx.Err())
		return exitFailed
	}
	return exitFor(res.Failed)
}

// benchError prints a bench error and maps it to the exit code: an input
// error is a usage error (2), anything else (interrupted included) a failed
// run (1).
func benchError(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "fakbench %s: %v\n", cmd, err)
	var ie *bench.InputError
	if errors.As(err, &ie) {
		return exitUsage
	}
	return exitFailed
}
