package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/fakbench/fakbench/adapters"
	_ "github.com/fakbench/fakbench/adapters/all" // registers every in-repo backend
	"github.com/fakbench/fakbench/parity"
	"github.com/fakbench/fakbench/transport"
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

// parityFile is what --json writes.
type parityFile struct {
	Model       string            `json:"model"`
	ModelPath   string            `json:"model_path"`
	ModelDigest string            `json:"model_digest"`
	Threads     int               `json:"threads"`
	Seed        uint64            `json:"seed"`
	PromptIDs   []transport.Token `json:"prompt_token_ids"`
	MinCosine   float64           `json:"min_cosine_threshold,omitempty"`
	MaxDiff     float64           `json:"max_abs_diff_threshold,omitempty"`
	SettingsA   map[string]string `json:"settings_a"`
	SettingsB   map[string]string `json:"settings_b"`
	Result      parity.Result     `json:"result"`
	Verdict     string            `json:"verdict"`
	Reasons     []string          `json:"reasons,omitempty"`
	Command     string            `json:"command"`
}

func runParity(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("parity", paritySynopsis, stderr)
	model := fs.String("model", "", "`MODEL`: a .gguf file or synthetic:PRESET[:TYPE] (required)")
	backends := fs.String("backends", "gokernel,llamacpp", "the two `backends` to compare, comma-separated")
	steps := fs.Int("steps", 32, "greedy `steps` to compare (the first token after the prompt counts as one)")
	threads := fs.Int("threads", 0, "CPU `threads` for both backends (0 = the number of physical cores)")
	promptLen := fs.Int("prompt", 16, "number of prompt `tokens`")
	seed := fs.Uint64("seed", 1, "`seed` of the deterministic prompt token IDs")
	jsonOut := fs.String("json", "", "write the full result as JSON to `FILE`")
	minCos := fs.Float64("min-cosine", 0, "fail when the smallest cosine over the steps is below `X` (0 = not checked)")
	maxDiff := fs.Float64("max-diff", 0, "fail when the largest absolute logit difference exceeds `X` (0 = not checked)")
	if _, code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	names := splitList(*backends)
	switch {
	case *model == "":
		return usageError(stderr, "parity", "missing --model (a .gguf file or synthetic:PRESET[:TYPE])")
	case len(names) != 2:
		return usageError(stderr, "parity", "--backends needs exactly two backends, got %d (%q)", len(names), *backends)
	case names[0] == names[1]:
		return usageError(stderr, "parity", "--backends names %s twice", names[0])
	case *steps < 1:
		return usageError(stderr, "parity", "--steps must be at least 1, got %d", *steps)
	case *threads < 0:
		return usageError(stderr, "parity", "--threads must not be negative, got %d", *threads)
	case *promptLen < 1:
		return usageError(stderr, "parity", "--prompt must be at least 1, got %d", *promptLen)
	case *minCos < 0 || *minCos > 1:
		return usageError(stderr, "parity", "--min-cosine must be in [0, 1], got %g", *minCos)
	case *maxDiff < 0:
		return usageError(stderr, "parity", "--max-diff must not be negative, got %g", *maxDiff)
	}
	for _, n := range names {
		if _, err := adapters.Lookup(n); err != nil {
			return usageError(stderr, "parity", "%v", err)
		}
	}

	m, err := resolveModel(ctx, *model, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "fakbench parity: %v\n", err)
		if errors.Is(err, context.Canceled) {
			return exitFailed
		}
		return exitUsage
	}
	var opened []transport.Backend
	defer func() {
		for _, b := range opened {
			_ = b.Close()
		}
	}()
	for _, n := range names {
		// Parity compares logits: each backend computes as exactly as it
		// can (its registry entry's Exact settings, e.g. OpenVINO in f32
		// without int8 activations instead of its per-ISA defaults).
		var exact map[string]string
		if e, err := adapters.Lookup(n); err == nil {
			exact = e.Exact
		}
		b, err := adapters.Open(ctx, n, adapters.Options{ModelPath: m.Path, Threads: *threads, Extra: exact})
		if err != nil {
			fmt.Fprintf(stderr, "fakbench parity: open %s: %v\n", n, err)
			if errors.Is(err, context.Canceled) {
				return exitFailed
			}
			return exitUsage
		}
		opened = append(opened, b)
	}
	a, b := opened[0], opened[1]
	vocab := min(a.Info().VocabSize, b.Info().VocabSize)
	prompt := parity.Tokens(*promptLen, vocab, *seed)

	res, err := parity.Run(ctx, a, b, prompt, *steps)
	if err != nil {
		fmt.Fprintf(stderr, "fakbench parity: %v\n", err)
		if transport.IsOverContext(err) {
			return exitUsage
		}
		return exitFailed
	}

	var reasons []string
	if res.FirstDivergence >= 0 {
		reasons = append(reasons, fmt.Sprintf("greedy tokens differ at step %d (%s %d, %s %d)",
			res.FirstDivergence, res.BackendA, res.TokensA[res.FirstDivergence], res.BackendB, res.TokensB[res.FirstDivergence]))
	}
	if res.NonFiniteLogits > 0 {
		reasons = append(reasons, fmt.Sprintf("%d non-finite logits", res.NonFiniteLogits))
	}
	if (*minCos > 0 || *maxDiff > 0) && !res.LogitsCompared {
		reasons = append(reasons, "a threshold was given but a backend does not expose its logits")
	}
	if res.LogitsCompared && *minCos > 0 && res.MinCosine < *minCos {
		reasons = append(reasons, fmt.Sprintf("min cosine %.9f < %g", res.MinCosine, *minCos))
	}
	if res.LogitsCompared && *maxDiff > 0 && res.MaxAbsLogitDiff > *maxDiff {
		reasons = append(reasons, fmt.Sprintf("max abs logit diff %.6g > %g", res.MaxAbsLogitDiff, *maxDiff))
	}
	verdict := "agree"
	if len(reasons) > 0 {
		verdict = "disagree"
	}

	printParity(stdout, m.Spec, res, verdict, reasons)
	if *jsonOut != "" {
		out := parityFile{
			Model: m.Spec, ModelPath: m.Path, ModelDigest: m.Digest, Threads: *threads, Seed: *seed,
			PromptIDs: prompt, MinCosine: *minCos, MaxDiff: *maxDiff,
			SettingsA: a.Settings(), SettingsB: b.Settings(),
			Result: res, Verdict: verdict, Reasons: reasons,
			Command: commandLine(append([]string{"fakbench", "parity"}, args...)),
		}
		if err := writeParityJSON(*jsonOut, out); err != nil {
			fmt.Fprintf(stderr, "fakbench parity: %v\n", err)
			return exitFailed
		}
	}
	if verdict != "agree" {
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

// writeParityJSON writes v indented to path through a temporary file.
func writeParityJSON(path string, v parityFile) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
