package bench

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/parity"
	"github.com/fakbench/fakbench/transport"
)

// ParityOptions are one parity check ("fakbench parity").
type ParityOptions struct {
	// Oversubscribe allows more threads than logical cores (CheckThreads).
	Oversubscribe bool
	// Backends are the two registry names to compare.
	Backends [2]string
	// ModelSpec is the model as the user gave it.
	ModelSpec string
	// Threads (0: each backend's default), Steps (greedy steps) and Prompt
	// (prompt tokens, drawn from Seed).
	Threads, Steps, Prompt int
	Seed                   uint64
	// MinCosine and MaxDiff are the optional thresholds (0: not checked).
	MinCosine, MaxDiff float64
	// Command is recorded in the file.
	Command string
	// Log receives progress lines (nil: none).
	Log io.Writer
}

// ParityFile is a parity check's outcome, as "fakbench parity --json"
// writes it.
type ParityFile struct {
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

// Agree says the verdict is "agree".
func (f *ParityFile) Agree() bool { return f.Verdict == "agree" }

// inputUnlessCanceled makes err an input error unless it is an interruption.
func inputUnlessCanceled(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	return &InputError{err}
}

// Parity feeds the same token IDs through a fresh session of each backend,
// each opened with its registry entry's Exact settings, compares them step
// by step (parity.Run) and judges the result (parity.Judge). A bad model,
// a backend that cannot be opened or a prompt over the context is an
// *InputError; an interruption or a backend failing during the run is a
// plain error.
func Parity(ctx context.Context, o ParityOptions) (*ParityFile, error) {
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	m, err := ResolveModel(ctx, o.ModelSpec, logw)
	if err != nil {
		return nil, inputUnlessCanceled(err)
	}
	var opened []transport.Backend
	defer func() {
		for _, b := range opened {
			_ = b.Close()
		}
	}()
	for _, n := range o.Backends {
		// Parity compares logits: each backend computes as exactly as it
		// can (its registry entry's Exact settings, e.g. OpenVINO in f32
		// without int8 activations instead of its per-ISA defaults).
		var exact map[string]string
		if e, err := adapters.Lookup(n); err == nil {
			exact = e.Exact
		}
		b, err := adapters.Open(ctx, n, adapters.Options{ModelPath: m.Path, Threads: o.Threads, Extra: exact})
		if err != nil {
			return nil, inputUnlessCanceled(fmt.Errorf("open %s: %w", n, err))
		}
		opened = append(opened, b)
	}
	a, b := opened[0], opened[1]
	vocab := min(a.Info().VocabSize, b.Info().VocabSize)
	prompt := parity.Tokens(o.Prompt, vocab, o.Seed)
	res, err := parity.Run(ctx, a, b, prompt, o.Steps)
	if err != nil {
		if transport.IsOverContext(err) {
			return nil, &InputError{err}
		}
		return nil, err
	}
	verdict, reasons := parity.Judge(res, o.MinCosine, o.MaxDiff)
	return &ParityFile{
		Model: m.Spec, ModelPath: m.Path, ModelDigest: m.Digest, Threads: o.Threads, Seed: o.Seed,
		PromptIDs: prompt, MinCosine: o.MinCosine, MaxDiff: o.MaxDiff,
		SettingsA: a.Settings(), SettingsB: b.Settings(),
		Result: res, Verdict: verdict, Reasons: reasons, Command: o.Command,
	}, nil
}
