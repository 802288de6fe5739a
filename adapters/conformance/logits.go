package conformance

import (
	"context"
	"fmt"

	"github.com/fakbench/fakbench/harness"
	"github.com/fakbench/fakbench/transport"
	"github.com/fakbench/fakbench/transport/contract"
)

// CheckWarmLogits checks, on a session that exposes its logits
// (transport.LogitsReader), that what a warm session computes equals what a
// fresh one computes on the same input, logit by logit within
// Options.LogitTolerance: after a changed suffix, after an edit, after the
// prefix is restored. Greedy tokens alone miss a wrong or stale position
// whenever the model's next token does not hang on it; the logits do not.
// A backend without logits has nothing to check here.
func CheckWarmLogits(ctx context.Context, b transport.Backend, o Options) error {
	p, err := newPlan(b, o)
	if err != nil {
		return err
	}
	tol := o.LogitTolerance
	if tol <= 0 {
		tol = harness.DefaultLogitTolerance
	}
	logitsAfter := func(s transport.Session, in transport.PrefixInput, suf []transport.Token) ([]float32, error) {
		if _, err := ensure(ctx, s, in); err != nil {
			return nil, fmt.Errorf("EnsurePrefix(%d tokens): %w", len(in.Tokens), err)
		}
		if _, err := prefill(ctx, s, suf); err != nil {
			return nil, fmt.Errorf("PrefillSuffix(%d tokens): %w", len(suf), err)
		}
		return s.(transport.LogitsReader).LastLogits()
	}
	cold := func(in transport.PrefixInput, suf []transport.Token) ([]float32, error) {
		s, err := newSession(ctx, b, "cold")
		if err != nil {
			return nil, err
		}
		defer s.Close()
		return logitsAfter(s, in, suf)
	}
	s, err := newSession(ctx, b, "")
	if err != nil {
		return err
	}
	defer s.Close()
	if _, ok := s.(transport.LogitsReader); !ok {
		return nil
	}
	if _, err := logitsAfter(s, p.prefix(), p.sc.Suffix); err != nil {
		return fmt.Errorf("first turn: %w", err)
	}
	var pb problems
	for _, st := range []struct {
		what string
		in   transport.PrefixInput
		suf  []transport.Token
	}{
		{"warm prefix, changed suffix", p.prefix(), p.sc.ChangedSuffix},
		{"edited prefix", p.edited(), p.sc.Suffix},
		{"prefix restored after the edit", p.prefix(), p.sc.Suffix},
	} {
		warm, err := logitsAfter(s, st.in, st.suf)
		if err != nil {
			return fmt.Errorf("%s: %w", st.what, err)
		}
		want, err := cold(st.in, st.suf)
		if err != nil {
			return fmt.Errorf("%s, cold: %w", st.what, err)
		}
		maxAbs, cosine, bad := contract.CompareLogits(warm, want)
		if bad > 0 || maxAbs > tol {
			pb.addf("%s: the last position's logits differ from a fresh session's: max |diff| %.3g (tolerance %.3g), cosine %.9f, %d non-finite",
				st.what, maxAbs, tol, cosine, bad)
		}
	}
	return pb.err()
}
