package main

import (
	"context"
	"fmt"
	"io"

	"github.com/fakbench/fakbench/bench"
	"github.com/fakbench/fakbench/harness/artifact"
	"github.com/fakbench/fakbench/harness/batch"
)

func init() {
	register(command{
		name:    "batch",
		summary: "batch curve: aggregate decode tok/s for B = 1..64 sequences; write batch-<backend>.json",
		run:     runBatch,
	})
}

const batchSynopsis = `usage: fakbench batch --model MODEL --out DIR [--backends LIST] [--short] [--threads N]
                      [--reps N] [--prompt N] [--steps N] [--batches 1,2,4,...]
                      [--report-dir DIR] [--workload W.json]

Decodes B sequences together (each step one read of the weights for all of
them) for B = 1, 2, 4, 8, 16, 32, 64 on every backend that implements batched
decode, and writes DIR/batch-<backend>.json with the aggregate tokens/s per B
(median and every sample) and the ratio to B = 1. A backend without batched
decode gets a skipped file with the reason. The curve stops where the KV
cache would not fit in half the available memory, or where the backend
refuses, and the bound is recorded.

--report-dir DIR attaches the curve to DIR/<backend>.json (the run's report).
--workload W.json (the FAK_BATCH_WORKLOAD=1 diagnostic) takes the prompt and
completion lengths from the workload's median turn, prompts capped by
FAK_WORKLOAD_PROMPT_CAP, and writes diag-batch-workload-<backend>.json.`

func runBatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("batch", batchSynopsis, stderr)
	var backends, modelSpec, out string
	var threads int
	backendsFlag(fs, &backends)
	modelFlag(fs, &modelSpec)
	outFlag(fs, &out, "batch-<backend>.json")
	short := fs.Bool("short", false, "small prompts and few steps, one repetition")
	threadsFlag(fs, &threads)
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
		Threads: threads, Reps: *reps, Prompt: *prompt, Steps: *steps, Batches: bs, ReportDir: *reportDir, Workload: *wpath}
	if err := o.Check(); err != nil {
		return usageError(stderr, "batch", "%v", err)
	}
	if err != nil {
		return usageError(stderr, "batch", "--batches: %v", err)
	}
	o.Log, o.Done = stderr, func(name string, f *batch.File) {
		switch f.Status {
		case artifact.StatusOK:
			printCurve(stdout, name, f.Curve)
		case artifact.StatusSkipped:
			fmt.Fprintf(stdout, "%-10s skipped: %s\n", name, f.Reason)
		default:
			fmt.Fprintf(stdout, "%-10s FAILED: %s\n", name, f.Reason)
		}
	}
	failed, err := bench.Batch(ctx, o)
	if err != nil {
		return benchError(stderr, "batch", err)
	}
	if failed {
		return exitFailed
	}
	return exitOK
}

func printCurve(w io.Writer, name string, c *batch.Curve) {
	fmt.Fprintf(w, "%-10s batch curve (prompt %d, %d steps, %d reps; bound: %s)\n", name, c.PromptTokens, c.Steps, c.Reps, c.Bound)
	fmt.Fprintf(w, "  %5s %12s %10s %14s %10s\n", "B", "tok/s", "vs B=1", "per sequence", "same as B=1")
	for _, p := range c.Points {
		fmt.Fprintf(w, "  %5d %12.1f %9.2fx %14.1f %10v\n", p.Batch, p.TokensPerSec, p.SpeedupVsB1, p.PerSequenceTPS, p.MatchesB1)
	}
}
