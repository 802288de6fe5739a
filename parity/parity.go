// Package parity checks that two backends compute the same model: the same
// token IDs go through a session of each, and at every greedy step the
// last-position logits are compared (maximum absolute difference, cosine
// similarity) together with the greedy tokens.
//
// The comparison stops at the first step where the greedy tokens differ:
// after that the two sessions are fed different tokens, so their logits no
// longer describe the same input. Logits are never expected to be
// bit-identical across engines (different kernels, accumulation orders and
// quantisation of activations); the greedy tokens are the agreement test,
// and the logit statistics say how close the engines are.
package parity

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/fakbench/fakbench/internal/splitmix"
	"github.com/fakbench/fakbench/transport"
	"github.com/fakbench/fakbench/transport/contract"
)

// Step is the comparison at one greedy step. Step 0 is the token returned by
// PrefillSuffix; step i > 0 is the i-th token of Decode.
type Step struct {
	// Index is the step number.
	Index int `json:"index"`
	// TokenA and TokenB are the greedy tokens of the two backends.
	TokenA transport.Token `json:"token_a"`
	TokenB transport.Token `json:"token_b"`
	// MaxAbsDiff is the largest |a-b| over the vocabulary (finite entries).
	MaxAbsDiff float64 `json:"max_abs_diff"`
	// Cosine is the cosine similarity of the two logit vectors.
	Cosine float64 `json:"cosine"`
	// MarginA and MarginB are each backend's gap between its best and
	// second-best logit: a divergence at a small margin is a near tie.
	MarginA float64 `json:"margin_a"`
	MarginB float64 `json:"margin_b"`
	// NonFinite counts NaN/Inf logits in either vector.
	NonFinite int `json:"non_finite,omitempty"`
}

// Result is the outcome of Run. It serialises to JSON as is.
type Result struct {
	BackendA string `json:"backend_a"`
	BackendB string `json:"backend_b"`
	VersionA string `json:"version_a"`
	VersionB string `json:"version_b"`
	// PromptTokens is the number of prompt token IDs fed to both.
	PromptTokens int `json:"prompt_tokens"`
	// Steps is the number of greedy steps asked for.
	Steps int `json:"steps"`
	// StepsCompared is the number of steps run (Steps, or up to and
	// including the first divergence).
	StepsCompared int `json:"steps_compared"`
	// VocabSize is the length of each logit vector.
	VocabSize int `json:"vocab_size"`
	// LogitsCompared is false when a session does not expose its logits
	// (then only the greedy tokens are compared).
	LogitsCompared bool `json:"logits_compared"`
	// MaxAbsLogitDiff is the largest absolute logit difference over every
	// step compared, at MaxAbsLogitDiffStep.
	MaxAbsLogitDiff     float64 `json:"max_abs_logit_diff"`
	MaxAbsLogitDiffStep int     `json:"max_abs_logit_diff_step"`
	// CosineLast is the cosine similarity of the last-position logits of
	// the prompt (step 0).
	CosineLast float64 `json:"cosine_last"`
	// MinCosine is the smallest cosine over the steps compared, at
	// MinCosineStep.
	MinCosine     float64 `json:"min_cosine"`
	MinCosineStep int     `json:"min_cosine_step"`
	// GreedyAgree is the number of leading steps whose tokens are equal.
	GreedyAgree int `json:"greedy_agree"`
	// FirstDivergence is the first step whose tokens differ, -1 if none.
	FirstDivergence int `json:"first_divergence"`
	// NonFiniteLogits counts NaN/Inf logits seen in either backend.
	NonFiniteLogits int `json:"non_finite_logits"`
	// Agree: every step's greedy tokens are equal and all logits are finite.
	Agree bool `json:"agree"`
	// TokensA and TokensB are the greedy tokens of each backend.
	TokensA []transport.Token `json:"tokens_a"`
	TokensB []transport.Token `json:"tokens_b"`
	// PerStep holds every compared step.
	PerStep []Step `json:"per_step"`
}

// Run feeds tokens through a fresh session of a and of b (EnsurePrefix of
// all but the last token, PrefillSuffix of the last) and then decodes
// greedily one token at a time, comparing the greedy tokens and, when both
// sessions implement transport.LogitsReader, the logits at every step. It
// runs steps greedy steps (at least 1) or stops at the first divergence.
func Run(ctx context.Context, a, b transport.Backend, tokens []transport.Token, steps int) (Result, error) {
	if a == nil || b == nil {
		return Result{}, errors.New("parity: two backends are needed")
	}
	if len(tokens) == 0 {
		return Result{}, errors.New("parity: no prompt tokens")
	}
	if steps < 1 {
		return Result{}, fmt.Errorf("parity: steps must be at least 1, got %d", steps)
	}
	ia, ib := a.Info(), b.Info()
	if ia.VocabSize != ib.VocabSize {
		return Result{}, fmt.Errorf("parity: vocabulary sizes differ: %s has %d, %s has %d", a.Name(), ia.VocabSize, b.Name(), ib.VocabSize)
	}
	limit := min(ia.ContextLength, ib.ContextLength)
	if need := len(tokens) + steps - 1; need > limit {
		return Result{}, &transport.OverContextError{Op: "parity", Resident: len(tokens), Requested: steps - 1, Limit: limit}
	}
	res := Result{
		BackendA: a.Name(), BackendB: b.Name(),
		VersionA: a.Version(), VersionB: b.Version(),
		PromptTokens: len(tokens), Steps: steps, VocabSize: ia.VocabSize,
		FirstDivergence: -1, MinCosine: 1, MinCosineStep: -1, MaxAbsLogitDiffStep: -1,
	}
	sa, err := a.NewSession(ctx)
	if err != nil {
		return res, fmt.Errorf("parity: %s: new session: %w", a.Name(), err)
	}
	defer sa.Close()
	sb, err := b.NewSession(ctx)
	if err != nil {
		return res, fmt.Errorf("parity: %s: new session: %w", b.Name(), err)
	}
	defer sb.Close()
	la, okA := sa.(transport.LogitsReader)
	lb, okB := sb.(transport.LogitsReader)
	res.LogitsCompared = okA && okB

	ta, err := start(ctx, sa, tokens)
	if err != nil {
		return res, fmt.Errorf("parity: %s: %w", a.Name(), err)
	}
	tb, err := start(ctx, sb, tokens)
	if err != nil {
		return res, fmt.Errorf("parity: %s: %w", b.Name(), err)
	}
	for i := 0; ; i++ {
		st := Step{Index: i, TokenA: ta, TokenB: tb}
		if res.LogitsCompared {
			va, err := la.LastLogits()
			if err != nil {
				return res, fmt.Errorf("parity: %s: step %d: %w", a.Name(), i, err)
			}
			vb, err := lb.LastLogits()
			if err != nil {
				return res, fmt.Errorf("parity: %s: step %d: %w", b.Name(), i, err)
			}
			if len(va) != ia.VocabSize || len(vb) != ia.VocabSize {
				return res, fmt.Errorf("parity: step %d: logit vectors of length %d and %d, vocabulary %d", i, len(va), len(vb), ia.VocabSize)
			}
			st.MaxAbsDiff, st.Cosine, st.NonFinite = Compare(va, vb)
			st.MarginA, st.MarginB = Margin(va), Margin(vb)
			res.NonFiniteLogits += st.NonFinite
			if st.MaxAbsDiff > res.MaxAbsLogitDiff || res.MaxAbsLogitDiffStep < 0 {
				res.MaxAbsLogitDiff, res.MaxAbsLogitDiffStep = st.MaxAbsDiff, i
			}
			if st.Cosine < res.MinCosine || res.MinCosineStep < 0 {
				res.MinCosine, res.MinCosineStep = st.Cosine, i
			}
			if i == 0 {
				res.CosineLast = st.Cosine
			}
		}
		res.PerStep = append(res.PerStep, st)
		res.TokensA = append(res.TokensA, ta)
		res.TokensB = append(res.TokensB, tb)
		res.StepsCompared = i + 1
		if ta != tb {
			res.FirstDivergence = i
			break
		}
		res.GreedyAgree = i + 1
		if i+1 == steps {
			break
		}
		if ta, err = next(ctx, sa); err != nil {
			return res, fmt.Errorf("parity: %s: step %d: %w", a.Name(), i+1, err)
		}
		if tb, err = next(ctx, sb); err != nil {
			return res, fmt.Errorf("parity: %s: step %d: %w", b.Name(), i+1, err)
		}
	}
	if !res.LogitsCompared {
		res.MinCosine, res.MinCosineStep = 0, -1
	}
	res.Agree = res.FirstDivergence < 0 && res.NonFiniteLogits == 0
	return res, nil
}

// start makes all but the last token the prefix and prefills the last.
func start(ctx context.Context, s transport.Session, tokens []transport.Token) (transport.Token, error) {
	n := len(tokens)
	if _, err := s.EnsurePrefix(ctx, transport.PrefixInput{Key: "parity", Tokens: tokens[:n-1]}); err != nil {
		return 0, fmt.Errorf("EnsurePrefix: %w", err)
	}
	r, err := s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: tokens[n-1:]})
	if err != nil {
		return 0, fmt.Errorf("PrefillSuffix: %w", err)
	}
	return r.FirstToken, nil
}

// next decodes one token.
func next(ctx context.Context, s transport.Session) (transport.Token, error) {
	r, err := s.Decode(ctx, 1)
	if err != nil {
		return 0, fmt.Errorf("Decode: %w", err)
	}
	if len(r.Tokens) != 1 {
		return 0, fmt.Errorf("Decode(1) returned %d tokens", len(r.Tokens))
	}
	return r.Tokens[0], nil
}

// Compare is contract.CompareLogits: the largest absolute difference, the
// cosine and the count of non-finite positions of two logit vectors.
func Compare(a, b []float32) (maxAbs, cosine float64, nonFinite int) {
	return contract.CompareLogits(a, b)
}

// Margin is contract.Margin: the gap between the two largest finite values.
func Margin(v []float32) float64 { return contract.Margin(v) }

// Tokens returns n deterministic token IDs in [0, vocab) for seed, from a
// SplitMix64 stream (package splitmix) seeded from seed alone, so the same
// seed gives the same prompt on every build and machine.
func Tokens(n, vocab int, seed uint64) []transport.Token {
	if n <= 0 || vocab <= 0 {
		return nil
	}
	out := make([]transport.Token, n)
	r := splitmix.Rand{State: seed ^ 0x5eed0fa1c0ffee00}
	limit := ^uint64(0) - ^uint64(0)%uint64(vocab)
	for i := range out {
		for {
			if z := r.Next(); z < limit {
				out[i] = transport.Token(z % uint64(vocab))
				break
			}
		}
	}
	return out
}

// Judge gives the verdict on a result: "agree" when the greedy tokens are
// equal at every step, all logits are finite and the optional thresholds
// hold (minCosine on the smallest cosine, maxDiff on the largest absolute
// logit difference; 0 is not checked), "disagree" otherwise, with one
// reason per failed condition.
func Judge(r Result, minCosine, maxDiff float64) (verdict string, reasons []string) {
	if r.FirstDivergence >= 0 {
		reasons = append(reasons, fmt.Sprintf("greedy tokens differ at step %d (%s %d, %s %d)",
			r.FirstDivergence, r.BackendA, r.TokensA[r.FirstDivergence], r.BackendB, r.TokensB[r.FirstDivergence]))
	}
	if r.NonFiniteLogits > 0 {
		reasons = append(reasons, fmt.Sprintf("%d non-finite logits", r.NonFiniteLogits))
	}
	if (minCosine > 0 || maxDiff > 0) && !r.LogitsCompared {
		reasons = append(reasons, "a threshold was given but a backend does not expose its logits")
	}
	if r.LogitsCompared && minCosine > 0 && r.MinCosine < minCosine {
		reasons = append(reasons, fmt.Sprintf("min cosine %.9f < %g", r.MinCosine, minCosine))
	}
	if r.LogitsCompared && maxDiff > 0 && r.MaxAbsLogitDiff > maxDiff {
		reasons = append(reasons, fmt.Sprintf("max abs logit diff %.6g > %g", r.MaxAbsLogitDiff, maxDiff))
	}
	if len(reasons) > 0 {
		return "disagree", reasons
	}
	return "agree", nil
}

// Describe prints r as fakbench parity does: the two backends and their
// versions, the greedy agreement, the logit distances, the first
// divergence with both margins, and the verdict with its reasons. model
// names the model compared.
func (r Result) Describe(w io.Writer, model, verdict string, reasons []string) {
	fmt.Fprintf(w, "parity %s vs %s on %s (%d prompt tokens, %d steps)\n", r.BackendA, r.BackendB, model, r.PromptTokens, r.Steps)
	line := func(label, format string, args ...any) {
		fmt.Fprintf(w, "  %-22s %s\n", label, fmt.Sprintf(format, args...))
	}
	line(r.BackendA, "%s", r.VersionA)
	line(r.BackendB, "%s", r.VersionB)
	line("greedy agreement", "%d/%d steps", r.GreedyAgree, r.Steps)
	if r.LogitsCompared {
		line("max |logit diff|", "%.6g (step %d)", r.MaxAbsLogitDiff, r.MaxAbsLogitDiffStep)
		line("cosine, last position", "%.9f", r.CosineLast)
		line("min cosine", "%.9f (step %d)", r.MinCosine, r.MinCosineStep)
	} else {
		line("logits", "not compared (a backend does not expose its logits)")
	}
	if r.FirstDivergence >= 0 {
		st := r.PerStep[r.FirstDivergence]
		line("first divergence", "step %d: margins %.4g / %.4g", r.FirstDivergence, st.MarginA, st.MarginB)
	}
	line("verdict", "%s", strings.ToUpper(verdict))
	for _, why := range reasons {
		fmt.Fprintf(w, "    - %s\n", why)
	}
}
