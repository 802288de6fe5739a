package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fakbench/fakbench/transport"
)

// The checks and the decode loop of transport.BatchDecoder, written once
// for the backends whose DecodeBatch prefills every prompt and then
// decodes all sequences together, one step at a time.

// CheckBatch validates a DecodeBatch request of backend name before
// anything runs: at least one prompt, steps >= 0, every prompt non-empty
// (transport.ErrEmptySuffix) with every token in [0, vocab), the longest
// prompt plus steps within limit positions (a *transport.OverContextError
// naming that prompt, with its length as resident and steps as requested:
// what Decode(steps) after PrefillSuffix(prompt) needs), and ctx not done.
// It returns the length of the longest prompt.
func CheckBatch(ctx context.Context, name string, prompts [][]transport.Token, steps, vocab, limit int) (int, error) {
	if len(prompts) == 0 {
		return 0, errors.New(name + ": DecodeBatch: no prompts")
	}
	if steps < 0 {
		return 0, fmt.Errorf("%s: DecodeBatch: negative steps %d", name, steps)
	}
	longest, at := 0, 0
	for i, p := range prompts {
		if len(p) == 0 {
			return 0, fmt.Errorf("%s: DecodeBatch: prompt %d: %w", name, i, transport.ErrEmptySuffix)
		}
		if err := transport.ValidateTokens(fmt.Sprintf("DecodeBatch prompt %d", i), p, vocab); err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		if len(p) > longest {
			longest, at = len(p), i
		}
	}
	if err := transport.CheckContext(fmt.Sprintf("DecodeBatch prompt %d", at), longest, steps, limit); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("%s: DecodeBatch: %w", name, err)
	}
	return longest, nil
}

// DecodeSteps is the decode phase of a DecodeBatch of backend name: steps
// calls of step, each returning the next token of every sequence, which
// are appended to res.Tokens (made here with room for steps tokens each).
// ctx is checked before each step; res.DecodeElapsed is the time of the
// steps, also when ctx ends them (an error wrapping ctx.Err() that says
// how many steps were done) or a step fails (its error, naming the step).
func DecodeSteps(ctx context.Context, name string, res *transport.BatchResult, steps int, step func(step int) ([]transport.Token, error)) error {
	start := time.Now()
	defer func() { res.DecodeElapsed = time.Since(start) }()
	for s := range res.Tokens {
		res.Tokens[s] = make([]transport.Token, 0, steps)
	}
	for i := 0; i < steps; i++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: DecodeBatch: cancelled after %d of %d steps: %w", name, i, steps, err)
		}
		toks, err := step(i)
		if err != nil {
			return fmt.Errorf("%s: DecodeBatch: step %d: %w", name, i, err)
		}
		if len(toks) != len(res.Tokens) {
			return fmt.Errorf("%s: DecodeBatch: step %d gave %d tokens for %d sequences", name, i, len(toks), len(res.Tokens))
		}
		for s, t := range toks {
			res.Tokens[s] = append(res.Tokens[s], t)
		}
	}
	return nil
}
