package main

import (
	"context"
	"io"

	_ "github.com/fakbench/fakbench/adapters/all" // registers every in-repo backend
	"github.com/fakbench/fakbench/bench"
	"github.com/fakbench/fakbench/report"
)

func init() {
	register(command{
		name:    "parity",
		summary: "check that two backends compute the same model (logit differences, greedy agreement)",
		run:     runParity,
	})
}

func runParity(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("parity", synopsis("parity"), stderr)
	var model string
	var threads int
	var over bool
	var seed uint64
	modelFlag(fs, &model)
	backends := fs.String("backends", "gokernel,llamacpp", "the two `backends` to compare, comma-separated")
	steps := fs.Int("steps", 32, "greedy `steps` to compare (the first token after the prompt counts as one)")
	threadsFlag(fs, &threads, &over)
	promptLen := fs.Int("prompt", 16, "number of prompt `tokens`")
	seedFlag(fs, &seed)
	jsonOut := fs.String("json", "", "write the full result as JSON to `FILE`")
	minCos := fs.Float64("min-cosine", 0, "fail when the smallest cosine over the steps is below `X` (0 = not checked)")
	maxDiff := fs.Float64("max-diff", 0, "fail when the largest absolute logit difference exceeds `X` (0 = not checked)")
	if _, code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	names := splitList(*backends)
	if len(names) != 2 {
		return usageError(stderr, "parity", "--backends needs exactly two backends, got %d (%q)", len(names), *backends)
	}
	o := bench.ParityOptions{Backends: [2]string{names[0], names[1]}, ModelSpec: model,
		Threads: threads, Oversubscribe: over, Steps: *steps, Prompt: *promptLen, Seed: seed, MinCosine: *minCos, MaxDiff: *maxDiff,
		Command: report.CommandLine(append([]string{"fakbench", "parity"}, args...)), Log: stderr}
	if err := o.Check(); err != nil {
		return usageError(stderr, "parity", "%v", err)
	}
	f, err := bench.Parity(ctx, o)
	if err != nil {
		return benchError(stderr, "parity", err)
	}
	f.Result.Describe(stdout, f.Model, f.Verdict, f.Reasons)
	if *jsonOut != "" {
		if err := report.WriteJSONFile(*jsonOut, f); err != nil {
			return failed(stderr, "parity", err)
		}
	}
	return exitFor(!f.Agree())
}
