package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/fakbench/fakbench/bench"
	"github.com/fakbench/fakbench/harness/workload"
)

func init() {
	register(command{
		name:    "workload",
		summary: "pinned agent workloads: derive from a request log, show, synth, replay on backends",
		run:     runWorkload,
	})
}

// defaultWorkloadPath is the pinned workload shipped with the repository.
const defaultWorkloadPath = "experiments/agent-live/production-workload.json"

func runWorkload(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runSubcommand(ctx, "workload", map[string]runFunc{"derive": workloadDerive, "show": workloadShow,
		"synth": workloadSynth, "replay": workloadReplay}, args, stdout, stderr)
}

func workloadDerive(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("workload derive", synopsis("workload"), stderr)
	in := fs.String("in", "", "request log `file` (JSON lines); - reads stdin")
	out := fs.String("out", "", "workload `file` to write")
	source := fs.String("source", "", "provenance source `text` (default: the log file name)")
	frac := fs.Float64("stable-fraction", 0, "stable share of a prompt when the log says nothing about reuse (0 = treat it as cold)")
	if _, code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	if *in == "" || *out == "" {
		return usageError(stderr, "workload derive", "both --in and --out are required")
	}
	w, err := workload.DeriveFile(*in, os.Stdin, workload.DeriveOptions{Source: *source, StableFraction: *frac})
	if err != nil {
		return badInput(stderr, "workload derive", err)
	}
	if err := w.Save(*out); err != nil {
		return failed(stderr, "workload derive", err)
	}
	fmt.Fprintln(stdout, w.Wrote(*out))
	return exitOK
}

func workloadShow(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("workload show", synopsis("workload"), stderr)
	pos, code, ok := parseArgs(fs, args, 1, "name one workload file")
	if !ok {
		return code
	}
	w, err := workload.Load(pos[0])
	if err != nil {
		return badInput(stderr, "workload show", err)
	}
	w.Describe(stdout, pos[0])
	return exitOK
}

func workloadSynth(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("workload synth", synopsis("workload"), stderr)
	out := fs.String("out", "", "workload `file` to write")
	if _, code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	if *out == "" {
		return usageError(stderr, "workload synth", "--out is required")
	}
	w, err := workload.Synthesize(workload.DefaultSynthParams(), time.Now())
	if err == nil {
		err = w.Save(*out)
	}
	if err != nil {
		return failed(stderr, "workload synth", err)
	}
	fmt.Fprintln(stdout, w.Wrote(*out))
	return exitOK
}

func workloadReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("workload replay", synopsis("workload"), stderr)
	var backends, modelSpec, out string
	var threads, ctxLen int
	var over bool
	backendsFlag(fs, &backends)
	modelFlag(fs, &modelSpec)
	outFlag(fs, &out, "workload-<backend>.json")
	wpath := fs.String("workload", defaultWorkloadPath, "workload `file`")
	short := fs.Bool("short", false, fmt.Sprintf("replay the first %d turns of each conversation once", bench.ShortReplayTurns))
	threadsFlag(fs, &threads, &over)
	reps := fs.Int("reps", 0, "measured passes over the workload (default 3, 1 with --short)")
	ctxFlag(fs, &ctxLen)
	if _, code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	o := bench.ReplayOptions{Backends: splitList(backends), ModelSpec: modelSpec, Out: out, Workload: *wpath,
		Short: *short, Threads: threads, Oversubscribe: over, Reps: *reps, CtxLen: ctxLen}
	if err := o.Check(); err != nil {
		return usageError(stderr, "workload replay", "%v", err)
	}
	o.Log, o.Done = stderr, func(name string, f *workload.ReplayFile) { f.Describe(stdout, name) }
	failed, err := bench.Replay(ctx, o)
	if err != nil {
		return benchError(stderr, "workload replay", err)
	}
	return exitFor(failed)
}
