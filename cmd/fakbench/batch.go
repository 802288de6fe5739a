package main

import (
	"context"
	"io"

	"github.com/fakbench/fakbench/bench"
	"github.com/fakbench/fakbench/harness/batch"
)

func init() {
	register(command{
		name:    "batch",
		summary: "batch curve: aggregate decode tok/s for B = 1..64 sequences; write batch-<backend>.json",
		run:     runBatch,
	})
}

func runBatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("batch", synopsis("batch"), stderr)
	var backends, modelSpec, out string
	var threads int
	var over bool
	backendsFlag(fs, &backends)
	modelFlag(fs, &modelSpec)
	outFlag(fs, &out, "batch-<backend>.json")
	short := fs.Bool("short", false, "small prompts and few steps, one repetition")
	threadsFlag(fs, &threads, &over)
	reps := fs.Int("reps", 0, "measured repetitions per B (default 3, 1 with --short)")
	prompt := fs.Int("prompt", 0, "prompt tokens per sequence (default 64, 16 with --short)")
	steps := fs.Int("steps", 0, "decode steps per sequence (default 32, 8 with --short)")
	batches := fs.String("batches", "1,2,4,8,16,32,64", "comma-separated batch `sizes`, increasing")
	reportDir := fs.String("report-dir", "", "attach each curve to `DIR`/<backend>.json")
	wpath := fs.String("workload", "", "take prompt/completion lengths from this workload `file` (diagnostic)")
	if _, code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	bs, err := batch.ParseSizes(*batches)
	o := bench.BatchOptions{Backends: splitList(backends), ModelSpec: modelSpec, Out: out, Short: *short,
		Threads: threads, Oversubscribe: over, Reps: *reps, Prompt: *prompt, Steps: *steps, Batches: bs, ReportDir: *reportDir, Workload: *wpath}
	if err := o.Check(); err != nil {
		return usageError(stderr, "batch", "%v", err)
	}
	if err != nil {
		return usageError(stderr, "batch", "--batches: %v", err)
	}
	o.Log, o.Done = stderr, func(name string, f *batch.File) { f.Describe(stdout, name) }
	failed, err := bench.Batch(ctx, o)
	if err != nil {
		return benchError(stderr, "batch", err)
	}
	return exitFor(failed)
}
