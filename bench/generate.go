package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/internal/host"
	"github.com/fakbench/fakbench/tokenizer"
	"github.com/fakbench/fakbench/transport"
)

// DefaultGenerateTokens is how many tokens "fakbench generate" continues a
// prompt by unless told.
const DefaultGenerateTokens = 32

// GenerateOptions are one "fakbench generate": a text prompt, tokenized
// with the model's own tokenizer, continued greedily by each backend.
type GenerateOptions struct {
	// Backends are the registry names to run, in order.
	Backends []string
	// ModelSpec is the model as the user gave it.
	ModelSpec string
	// Text is the prompt.
	Text string
	// Tokens is the number of tokens to generate (the first comes from the
	// prefill), at least 1 ("fakbench generate" defaults it to
	// DefaultGenerateTokens).
	Tokens int
	// Threads (0: each backend's default) and CtxLen (0: the backend's
	// default context).
	Threads, CtxLen int
	// Oversubscribe allows more threads than logical cores.
	Oversubscribe bool
	// Log receives progress lines (nil: none).
	Log io.Writer
}

// Check returns the usage error of o, if any.
func (o *GenerateOptions) Check() error {
	switch {
	case o.ModelSpec == "":
		return fmt.Errorf("missing --model (%s)", ModelHelp)
	case len(o.Backends) == 0:
		return errors.New("--backends names no backend")
	case o.Tokens < 1:
		return fmt.Errorf("--tokens must be at least 1, got %d", o.Tokens)
	case o.Threads < 0:
		return fmt.Errorf("--threads must not be negative, got %d", o.Threads)
	case o.CtxLen < 0:
		return fmt.Errorf("--ctx must not be negative, got %d", o.CtxLen)
	}
	for i, b := range o.Backends {
		if _, err := adapters.Lookup(b); err != nil {
			return fmt.Errorf("--backends: %w", err)
		}
		if slices.Contains(o.Backends[:i], b) {
			return fmt.Errorf("--backends names %s twice", b)
		}
	}
	return host.CheckThreads(o.Threads, o.Oversubscribe)
}

// Continuation is one backend's greedy continuation of the prompt.
type Continuation struct {
	// Backend is the registry name, Display its display name.
	Backend string `json:"backend"`
	Display string `json:"backend_display"`
	// Tokens are the generated token IDs and Text their decoded text.
	Tokens []transport.Token `json:"token_ids,omitempty"`
	Text   string            `json:"text,omitempty"`
	// Skipped says why a backend that cannot run here did not; Failed
	// why one that opened did not finish.
	Skipped string `json:"skipped,omitempty"`
	Failed  string `json:"failed,omitempty"`
}

// Ran says the backend produced its continuation.
func (c Continuation) Ran() bool { return c.Skipped == "" && c.Failed == "" }

// GenerateResult is a "fakbench generate": the prompt as tokens and each
// backend's continuation.
type GenerateResult struct {
	Model       string `json:"model"`
	ModelPath   string `json:"model_path"`
	ModelDigest string `json:"model_digest"`
	// Tokenizer names the tokenizer the prompt went through
	// (tokenizer.Tokenizer.Name).
	Tokenizer string            `json:"tokenizer"`
	Prompt    string            `json:"prompt"`
	PromptIDs []transport.Token `json:"prompt_token_ids"`
	Rows      []Continuation    `json:"rows"`
}

// Agree says every backend that ran generated the same tokens (true when
// fewer than two ran: nothing disagrees).
func (r *GenerateResult) Agree() bool {
	var first []transport.Token
	seen := false
	for _, c := range r.Rows {
		if !c.Ran() {
			continue
		}
		if seen && !slices.Equal(first, c.Tokens) {
			return false
		}
		first, seen = c.Tokens, true
	}
	return true
}

// Failed says a backend that opened did not finish.
func (r *GenerateResult) Failed() bool {
	return slices.ContainsFunc(r.Rows, func(c Continuation) bool { return c.Failed != "" })
}

// Describe prints the prompt's tokens, each backend's continuation as
// text beside its token IDs, and whether the backends agree.
func (r *GenerateResult) Describe(w io.Writer) {
	fmt.Fprintf(w, "model      %s (%s)\ntokenizer  %s\nprompt     %q\n           %d tokens %v\n\n",
		r.Model, r.ModelPath, r.Tokenizer, r.Prompt, len(r.PromptIDs), r.PromptIDs)
	width := 0
	for _, c := range r.Rows {
		width = max(width, len(c.Display))
	}
	ran := 0
	for _, c := range r.Rows {
		name := c.Display + strings.Repeat(" ", width-len(c.Display))
		switch {
		case c.Skipped != "":
			fmt.Fprintf(w, "%s  skipped: %s\n", name, c.Skipped)
		case c.Failed != "":
			fmt.Fprintf(w, "%s  failed: %s\n", name, c.Failed)
		default:
			ran++
			fmt.Fprintf(w, "%s  %q\n%s  %v\n", name, c.Text, strings.Repeat(" ", width), c.Tokens)
		}
	}
	fmt.Fprintln(w)
	switch {
	case ran < 2:
		fmt.Fprintf(w, "%d backend(s) ran: nothing to compare\n", ran)
	case r.Agree():
		fmt.Fprintf(w, "all %d backends agree on all %d tokens\n", ran, len(r.firstRan().Tokens))
	default:
		fmt.Fprintf(w, "the backends disagree: %s\n", r.divergence())
	}
}

func (r *GenerateResult) firstRan() Continuation {
	for _, c := range r.Rows {
		if c.Ran() {
			return c
		}
	}
	return Continuation{}
}

// divergence says where each backend first leaves the first one's tokens.
func (r *GenerateResult) divergence() string {
	ref := r.firstRan()
	var parts []string
	for _, c := range r.Rows {
		if !c.Ran() || c.Backend == ref.Backend || slices.Equal(c.Tokens, ref.Tokens) {
			continue
		}
		i := 0
		for i < len(c.Tokens) && i < len(ref.Tokens) && c.Tokens[i] == ref.Tokens[i] {
			i++
		}
		parts = append(parts, fmt.Sprintf("%s differs from %s from token %d on", c.Display, ref.Display, i))
	}
	return strings.Join(parts, "; ")
}

// Generate tokenizes o.Text with the model's tokenizer (BOS as the model
// asks, special-token strings parsed) and lets each backend continue it
// greedily through the session contract: the prompt less its last token
// as the prefix, the last token as the suffix, then Decode. Each backend
// runs with its registry entry's Exact settings, as parity does. A bad
// model, a model without a tokenizer, an empty prompt or one that does not
// fit the context is an *InputError; a backend that cannot run here is a
// skipped row, one that fails while generating a failed row.
func Generate(ctx context.Context, o GenerateOptions) (*GenerateResult, error) {
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	if o.Tokens < 1 {
		return nil, &InputError{fmt.Errorf("--tokens must be at least 1, got %d", o.Tokens)}
	}
	m, err := ResolveModel(ctx, o.ModelSpec, logw)
	if err != nil {
		return nil, inputUnlessCanceled(err)
	}
	tk, err := openTokenizer(m.Path, o.ModelSpec)
	if err != nil {
		return nil, &InputError{err}
	}
	defer tk.Close()
	ids, err := tk.Encode(o.Text, true)
	if err != nil {
		return nil, &InputError{fmt.Errorf("the prompt: %w", err)}
	}
	if len(ids) == 0 {
		return nil, &InputError{fmt.Errorf("the prompt %q gives no tokens: give some text", o.Text)}
	}
	res := &GenerateResult{Model: m.Spec, ModelPath: m.Path, ModelDigest: m.Digest, Tokenizer: tk.Name(), Prompt: o.Text, PromptIDs: ids}
	for _, n := range o.Backends {
		c := Continuation{Backend: n, Display: adapters.Display(n)}
		var exact map[string]string
		if e, err := adapters.Lookup(n); err == nil {
			exact = e.Exact
		}
		fmt.Fprintf(logw, "fakbench generate: %s continues %d prompt tokens by %d\n", c.Display, len(ids), o.Tokens)
		b, err := adapters.Open(ctx, n, adapters.Options{ModelPath: m.Path, Threads: o.Threads, ContextLength: o.CtxLen, Extra: exact})
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case transport.IsUnavailable(err):
			c.Skipped = err.Error()
			res.Rows = append(res.Rows, c)
			continue
		default:
			return nil, &InputError{fmt.Errorf("open %s: %w", n, err)}
		}
		c.Tokens, err = greedy(ctx, b, ids, o.Tokens)
		_ = b.Close()
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case transport.IsOverContext(err):
			return nil, &InputError{fmt.Errorf("%s: %w", c.Display, err)}
		default:
			c.Failed = err.Error()
		}
		if c.Ran() {
			if c.Text, err = tk.Decode(c.Tokens); err != nil {
				c.Failed = fmt.Sprintf("decoding the generated tokens: %v", err)
			}
		}
		res.Rows = append(res.Rows, c)
	}
	return res, nil
}

// greedy runs prompt through a fresh session of b and returns n greedy
// tokens.
func greedy(ctx context.Context, b transport.Backend, prompt []transport.Token, n int) ([]transport.Token, error) {
	if limit := b.Info().ContextLength; limit > 0 && len(prompt)+n-1 > limit {
		return nil, &transport.OverContextError{Op: "generate", Resident: len(prompt), Requested: n - 1, Limit: limit}
	}
	s, err := b.NewSession(ctx)
	if err != nil {
		return nil, fmt.Errorf("new session: %w", err)
	}
	defer s.Close()
	last := len(prompt) - 1
	if _, err := s.EnsurePrefix(ctx, transport.PrefixInput{Key: "generate", Tokens: prompt[:last]}); err != nil {
		return nil, fmt.Errorf("EnsurePrefix(%d tokens): %w", last, err)
	}
	sr, err := s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: prompt[last:]})
	if err != nil {
		return nil, fmt.Errorf("PrefillSuffix: %w", err)
	}
	out := []transport.Token{sr.FirstToken}
	if n > 1 {
		dr, err := s.Decode(ctx, n-1)
		if err != nil {
			return nil, fmt.Errorf("Decode(%d): %w", n-1, err)
		}
		out = append(out, dr.Tokens...)
	}
	return out, nil
}

// openTokenizer opens the tokenizer of the model file at path; spec names
// the model in the error of a model without one.
func openTokenizer(path, spec string) (*tokenizer.Tokenizer, error) {
	tk, err := tokenizer.Open(path)
	if errors.Is(err, tokenizer.ErrNoTokenizer) {
		return nil, fmt.Errorf("model %s has no tokenizer, so it takes token IDs only, not text: %w", spec, err)
	}
	return tk, err
}
