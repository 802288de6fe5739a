package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	_ "github.com/fakbench/fakbench/adapters/all" // registers every in-repo backend
	"github.com/fakbench/fakbench/bench"
	"github.com/fakbench/fakbench/parity"
	"github.com/fakbench/fakbench/report"
)

func init() {
	register(command{
		name:    "parity",
		summary: "check that two backends compute the same model (logit differences, greedy agreement)",
		run:     runParity,
	})
}

const paritySynopsis = `usage: fakbench parity --model MODEL [--backends gokernel,llamacpp] [--steps N]
                       [--threads N] [--prompt N] [--seed N] [--json FILE]
                       [--min-cosine X] [--max-diff X]

Feeds the same token IDs through a fresh session of each of the two backends
(the prompt as prefix plus its last token as suffix), then decodes greedily
one token at a time. At every step it compares the last-position logits
(maximum absolute difference, cosine similarity) and the greedy tokens; it
stops at the first step where the tokens differ. MODEL is a .gguf file or
synthetic:PRESET[:TYPE].

The backends agree when their greedy tokens are equal for every step, all
logits are finite, and the optional thresholds hold (--min-cosine on the
smallest cosine over the steps, --max-diff on the largest absolute logit
difference). Exit codes: 0 agree; 1 disagree, or a backend failed during the
run; 2 usage or input error (bad flag, bad model, unknown or unavailable
backend).`

func runParity(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("parity", paritySynopsis, stderr)
	var model string
	var threads int
	var seed uint64
	modelFlag(fs, &model)
	backends := fs.String("backends", "gokernel,llamacpp", "the two `backends` to compare, comma-separated")
	steps := fs.Int("steps", 32, "greedy `steps` to compare (the first token after the prompt counts as one)")
	threadsFlag(fs, &threads)
	promptLen := fs.Int("prompt", 16, "number of prompt `tokens`")
	seedFlag(fs, &seed)
	jsonOut := fs.String("json", "", "write the full result as JSON to `FILE`")
	minCos := fs.Float64("min-cosine", 0, "fail when the smallest cosine over the steps is below `X` (0 = not checked)")
	maxDiff := fs.Float64("max-diff", 0, "fail when the largest absolute logit difference exceeds `X` (0 = not checked)")
	if _, code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	names := splitList(*backends)
	switch {
	case model == "":
		return usageError(stderr, "parity", "missing --model (a .gguf file or synthetic:PRESET[:TYPE])")
	case len(names) != 2:
		return usageError(stderr, "parity", "--backends needs exactly two backends, got %d (%q)", len(names), *backends)
	case names[0] == names[1]:
		return usageError(stderr, "parity", "--backends names %s twice", names[0])
	}
	o := bench.ParityOptions{Backends: [2]string{names[0], names[1]}, ModelSpec: model,
		Threads: threads, Steps: *steps, Prompt: *promptLen, Seed: seed, MinCosine: *minCos, MaxDiff: *maxDiff,
		Command: report.CommandLine(append([]string{"fakbench", "parity"}, args...)), Log: stderr}
	if err := o.Check(); err != nil {
		return usageError(stderr, "parity", "%v", err)
	}
	if err := checkBackends(names); err != nil {
		return usageError(stderr, "parity", "%v", err)
	}
	f, err := bench.Parity(ctx, o)
	if err != nil {
		return benchError(stderr, "parity", err)
	}
	printParity(stdout, f.Model, f.Result, f.Verdict, f.Reasons)
	if *jsonOut != "" {
		if err := bench.WriteJSONFile(*jsonOut, f); err != nil {
			fmt.Fprintf(stderr, "fakbench parity: %v\n", err)
			return exitFailed
		}
	}
	if !f.Agree() {
		return exitFailed
	}
	return exitOK
}

func printParity(w io.Writer, model string, r parity.Result, verdict string, reasons []string) {
	fmt.Fprintf(w, "parity %s vs %s on %s (%d prompt tokens, %d steps)\n", r.BackendA, r.BackendB, model, r.PromptTokens, r.Steps)
	fmt.Fprintf(w, "  %-22s %s\n", r.BackendA, r.VersionA)
	fmt.Fprintf(w, "  %-22s %s\n", r.BackendB, r.VersionB)
	fmt.Fprintf(w, "  %-22s %d/%d steps\n", "greedy agreement", r.GreedyAgree, r.Steps)
	if r.LogitsCompared {
		fmt.Fprintf(w, "  %-22s %.6g (step %d)\n", "max |logit diff|", r.MaxAbsLogitDiff, r.MaxAbsLogitDiffStep)
		fmt.Fprintf(w, "  %-22s %.9f\n", "cosine, last position", r.CosineLast)
		fmt.Fprintf(w, "  %-22s %.9f (step %d)\n", "min cosine", r.MinCosine, r.MinCosineStep)
	} else {
		fmt.Fprintf(w, "  %-22s not compared (a backend does not expose its logits)\n", "logits")
	}
	if r.FirstDivergence >= 0 {
		st := r.PerStep[r.FirstDivergence]
		fmt.Fprintf(w, "  %-22s step %d: margins %.4g / %.4g\n", "first divergence", r.FirstDivergence, st.MarginA, st.MarginB)
	}
	fmt.Fprintf(w, "  %-22s %s\n", "verdict", strings.ToUpper(verdict))
	for _, why := range reasons {
		fmt.Fprintf(w, "    - %s\n", why)
	}
}
