// Package conformance is the session contract's behaviour written once as a
// test suite. A backend's own test calls Run with a function that opens the
// backend:
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, func(t *testing.T) transport.Backend {
//			b, err := adapters.Open(ctx, "mybackend", adapters.Options{ModelPath: path})
//			require.NoError(t, err)
//			t.Cleanup(func() { _ = b.Close() })
//			return b
//		}, conformance.Options{})
//	}
//
// Each check is also available as a plain function returning an error (see
// Checks), so a check's detection can itself be tested, and a vendor can run
// a single one.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/harness"
	"github.com/fakbench/fakbench/transport"
	"github.com/fakbench/fakbench/transport/contract"
)

// Options size the kit's inputs. Zero values take the defaults.
type Options struct {
	// PrefixTokens is the stable prefix length (default 32, at most a
	// quarter of the context).
	PrefixTokens int
	// SuffixTokens is the suffix length (default 4).
	SuffixTokens int
	// DecodeSteps is the number of greedy steps compared (default 8).
	DecodeSteps int
	// Seed selects the token IDs (default 1).
	Seed uint64
	// Timeout bounds each check (default 5 minutes).
	Timeout time.Duration
	// Skip names checks not to run (for a documented limitation).
	Skip []string
	// LogitTolerance is the largest absolute logit difference between a
	// warm and a fresh session that WarmLogits accepts (default
	// harness.DefaultLogitTolerance).
	LogitTolerance float64
}

// Check is one behaviour of the contract.
type Check struct {
	// Name is the subtest name.
	Name string
	// Doc says what the check requires of a backend.
	Doc string
	// Run checks b and returns an error describing every violation found.
	Run func(ctx context.Context, b transport.Backend, o Options) error
}

// Checks lists every check of the kit, in the order Run runs them. The
// BackendClose check closes the backend it is given, so it comes last.
func Checks() []Check {
	return []Check{
		{"PrefixHit", "EnsurePrefix of the resident prefix reuses every token and computes none, also after a suffix and decoding", CheckPrefixHit},
		{"EditMiss", "an edited prefix is reused up to the edit and recomputed from it; a shorter prefix is reused whole; a fresh session computes everything", CheckEditMiss},
		{"NativeCache", "where a session shows its engine's cache (transport.CacheInspector), the engine holds exactly what the session reports: nothing when fresh, the reused and computed prefix, no stale position past an edit or the prefix when the recompute begins", CheckNativeCache},
		{"WarmEqualsCold", "greedy tokens after a warm prefix (changed suffix, edit, restore) equal those of a fresh session", CheckWarmEqualsCold},
		{"WarmLogits", "where a session exposes its logits, a warm prefix (changed suffix, edit, restore) gives the logits a fresh session gives, within Options.LogitTolerance", CheckWarmLogits},
		{"OverContext", "requests past the context fail with *transport.OverContextError carrying consistent sizes", CheckOverContext},
		{"UsableAfterOverContext", "a refused over-context request leaves the session answering as before, its cache kept", CheckUsableAfterOverContext},
		{"Cancel", "Decode with a cancelled or expired context returns promptly with fewer tokens and the context error wrapped; the session continues correctly", CheckCancel},
		{"CloseIdempotent", "Session.Close twice is fine; every other call after Close returns transport.ErrClosed (CheckClosed)", CheckCloseIdempotent},
		{"EmptySuffix", "PrefillSuffix with no tokens returns transport.ErrEmptySuffix and leaves the session usable", CheckEmptySuffix},
		{"OutOfVocab", "token IDs outside [0, vocab) are refused with an error (no panic) and leave the session usable", CheckOutOfVocab},
		{"TwoSessions", "two sessions on one backend start empty and stay independent, interleaved and concurrent", CheckTwoSessions},
		{"BackendClose", "Backend.Close succeeds, NewSession afterwards returns transport.ErrClosed, a second Close is harmless", CheckBackendClose},
	}
}

// Run runs every check as a subtest of t. open is called once per subtest and
// returns the backend to check; it may open a fresh one or return a shared
// one, but the BackendClose subtest closes what it gets (open's own cleanup
// must tolerate that: Close is idempotent by the contract).
func Run(t *testing.T, open func(t *testing.T) transport.Backend, opts Options) {
	t.Helper()
	o := opts.withDefaults()
	if err := checkSkips(o.Skip); err != nil {
		t.Error(err)
	}
	for _, c := range Checks() {
		t.Run(c.Name, func(t *testing.T) {
			for _, s := range o.Skip {
				if s == c.Name {
					t.Skipf("skipped by Options.Skip")
				}
			}
			b := open(t)
			require.NotNil(t, b, "open returned no backend")
			ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
			defer cancel()
			assert.NoError(t, c.Run(ctx, b, o), "%s: %s", c.Name, c.Doc)
		})
	}
}

// checkSkips rejects a name in Options.Skip that is not a check (a typo
// would otherwise run the check a vendor meant to skip, or hide nothing).
func checkSkips(skip []string) error {
	known := map[string]bool{}
	for _, c := range Checks() {
		known[c.Name] = true
	}
	var errs []error
	for _, s := range skip {
		if !known[s] {
			errs = append(errs, fmt.Errorf("conformance: Options.Skip names %q, which is not a check", s))
		}
	}
	return errors.Join(errs...)
}

func (o Options) withDefaults() Options {
	if o.PrefixTokens <= 0 {
		o.PrefixTokens = 32
	}
	if o.SuffixTokens <= 0 {
		o.SuffixTokens = 4
	}
	if o.DecodeSteps <= 0 {
		o.DecodeSteps = 8
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	return o
}

// plan holds the kit's inputs for one backend.
type plan struct {
	sc    harness.Scenario
	ctx   int
	vocab int
	steps int
}

func newPlan(b transport.Backend, o Options) (plan, error) {
	o = o.withDefaults()
	info := b.Info()
	prefix := min(o.PrefixTokens, info.ContextLength/4)
	sc, err := harness.BuildScenario(harness.ScenarioParams{
		Vocab: info.VocabSize, Context: info.ContextLength, Seed: o.Seed,
		StableTokens: prefix, SuffixTokens: o.SuffixTokens, CurveSizes: []int{1},
		MaxDecode: o.DecodeSteps, CompareSteps: o.DecodeSteps,
	})
	if err != nil {
		return plan{}, fmt.Errorf("conformance: cannot plan inputs for backend %s (context %d, vocab %d): %w",
			b.Name(), info.ContextLength, info.VocabSize, err)
	}
	return plan{sc: sc, ctx: info.ContextLength, vocab: info.VocabSize, steps: o.DecodeSteps}, nil
}

func (p plan) prefix() transport.PrefixInput {
	return transport.PrefixInput{Key: p.sc.StableKey(), Tokens: p.sc.Stable}
}

func (p plan) edited() transport.PrefixInput {
	return transport.PrefixInput{Key: p.sc.EditedKey(), Tokens: p.sc.EditedStable}
}

// problems collects violations.
type problems struct{ errs []error }

func (p *problems) addf(format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf(format, args...))
}

func (p *problems) err() error { return errors.Join(p.errs...) }

// stop adds a last violation and returns them all.
func (p *problems) stop(format string, args ...any) error {
	p.addf(format, args...)
	return p.err()
}

// safe runs f, turning a panic into an error.
func safe(what string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s panicked: %v", what, r)
		}
	}()
	return f()
}

func ensure(ctx context.Context, s transport.Session, in transport.PrefixInput) (pr transport.PrefixResult, err error) {
	err = safe("EnsurePrefix", func() error {
		pr, err = s.EnsurePrefix(ctx, in)
		return err
	})
	return pr, err
}

func prefill(ctx context.Context, s transport.Session, toks []transport.Token) (sr transport.SuffixResult, err error) {
	err = safe("PrefillSuffix", func() error {
		sr, err = s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: toks})
		return err
	})
	return sr, err
}

func decode(ctx context.Context, s transport.Session, n int) (dr transport.DecodeResult, err error) {
	err = safe("Decode", func() error {
		dr, err = s.Decode(ctx, n)
		return err
	})
	return dr, err
}

// expectPrefix checks a PrefixResult's accounting.
func expectPrefix(what string, pr transport.PrefixResult, reused, computed int) error {
	if pr.ReusedTokens != reused || pr.ComputedTokens != computed {
		return fmt.Errorf("%s: reused %d and computed %d tokens, want reused %d and computed %d",
			what, pr.ReusedTokens, pr.ComputedTokens, reused, computed)
	}
	return nil
}

// greedy makes in resident, prefills suf and decodes p.steps tokens; it
// returns the first token followed by the decoded ones.
func (p plan) greedy(ctx context.Context, s transport.Session, in transport.PrefixInput, suf []transport.Token) ([]transport.Token, error) {
	if _, err := ensure(ctx, s, in); err != nil {
		return nil, fmt.Errorf("EnsurePrefix(%d tokens): %w", len(in.Tokens), err)
	}
	return p.greedySuffix(ctx, s, suf)
}

func (p plan) greedySuffix(ctx context.Context, s transport.Session, suf []transport.Token) ([]transport.Token, error) {
	sr, err := prefill(ctx, s, suf)
	if err != nil {
		return nil, fmt.Errorf("PrefillSuffix(%d tokens): %w", len(suf), err)
	}
	if sr.SuffixTokens != len(suf) {
		return nil, fmt.Errorf("PrefillSuffix(%d tokens) reported %d suffix tokens", len(suf), sr.SuffixTokens)
	}
	dr, err := decode(ctx, s, p.steps)
	if err != nil {
		return nil, fmt.Errorf("Decode(%d): %w", p.steps, err)
	}
	if len(dr.Tokens) != p.steps {
		return nil, fmt.Errorf("Decode(%d) returned %d tokens", p.steps, len(dr.Tokens))
	}
	for i, t := range dr.Tokens {
		if t < 0 || int(t) >= p.vocab {
			return nil, fmt.Errorf("Decode returned token %d at step %d, outside the vocabulary [0, %d)", t, i, p.vocab)
		}
	}
	return append([]transport.Token{sr.FirstToken}, dr.Tokens...), nil
}

// cold runs greedy on a fresh session.
func (p plan) cold(ctx context.Context, b transport.Backend, in transport.PrefixInput, suf []transport.Token) ([]transport.Token, error) {
	s, err := newSession(ctx, b, "")
	if err != nil {
		return nil, err
	}
	defer s.Close()
	out, err := p.greedy(ctx, s, in, suf)
	if err != nil {
		return nil, fmt.Errorf("cold session: %w", err)
	}
	return out, nil
}

// openWarm starts a session with the plan's prefix and suffix.
func (p plan) openWarm(ctx context.Context, b transport.Backend) (transport.Session, []transport.Token, error) {
	s, err := newSession(ctx, b, "")
	if err != nil {
		return nil, nil, err
	}
	out, err := p.greedy(ctx, s, p.prefix(), p.sc.Suffix)
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, out, nil
}

// newSession opens a session on b; the error says NewSession and, when
// label is not empty, which session (e.g. "NewSession A: ...").
func newSession(ctx context.Context, b transport.Backend, label string) (transport.Session, error) {
	s, err := b.NewSession(ctx)
	if err != nil {
		if label != "" {
			return nil, fmt.Errorf("NewSession %s: %w", label, err)
		}
		return nil, fmt.Errorf("NewSession: %w", err)
	}
	return s, nil
}

// freshSession plans b's inputs and opens an empty session on b. The
// caller closes the session.
func freshSession(ctx context.Context, b transport.Backend, o Options) (plan, transport.Session, error) {
	p, err := newPlan(b, o)
	if err != nil {
		return plan{}, nil, err
	}
	s, err := newSession(ctx, b, "")
	if err != nil {
		return plan{}, nil, err
	}
	return p, s, nil
}

// warmSession plans b's inputs and opens a session that has run the
// plan's first turn (openWarm); want is that turn's greedy tokens. The
// caller closes the session.
func warmSession(ctx context.Context, b transport.Backend, o Options) (p plan, s transport.Session, want []transport.Token, err error) {
	p, err = newPlan(b, o)
	if err != nil {
		return plan{}, nil, nil, err
	}
	s, want, err = p.openWarm(ctx, b)
	if err != nil {
		return plan{}, nil, nil, err
	}
	return p, s, want, nil
}

// turn is one request: a prefix made resident and a suffix prefilled.
type turn struct {
	in  transport.PrefixInput
	suf []transport.Token
}

// colds runs each turn on its own fresh session (cold) and returns their
// greedy tokens in order; the first failure is returned as cold's error.
func (p plan) colds(ctx context.Context, b transport.Backend, turns ...turn) ([][]transport.Token, error) {
	out := make([][]transport.Token, len(turns))
	for i, t := range turns {
		got, err := p.cold(ctx, b, t.in, t.suf)
		if err != nil {
			return nil, err
		}
		out[i] = got
	}
	return out, nil
}

// expectTurn runs the plan's first turn on s and adds a violation to pb
// when it fails ("<what>: <error>") or when its greedy tokens differ from
// want (same's message, named what).
func (p plan) expectTurn(ctx context.Context, s transport.Session, what string, want []transport.Token, pb *problems) {
	got, err := p.greedy(ctx, s, p.prefix(), p.sc.Suffix)
	if err != nil {
		pb.addf("%s: %v", what, err)
	} else if err := contract.SameAsCold(what, got, want); err != nil {
		pb.addf("%w", err)
	}
}

// expectEnsure runs EnsurePrefix(in) on s. An error is returned as
// "<failed>: <error>"; accounting other than reused and computed tokens is
// added to pb as expectPrefix's violation, named what.
func expectEnsure(ctx context.Context, s transport.Session, in transport.PrefixInput, pb *problems, failed, what string, reused, computed int) error {
	pr, err := ensure(ctx, s, in)
	if err != nil {
		return fmt.Errorf("%s: %w", failed, err)
	}
	if err := expectPrefix(what, pr, reused, computed); err != nil {
		pb.addf("%w", err)
	}
	return nil
}

// CheckPrefixHit checks that the resident prefix is reused in full.
func CheckPrefixHit(ctx context.Context, b transport.Backend, o Options) error {
	p, s, err := freshSession(ctx, b, o)
	if err != nil {
		return err
	}
	defer s.Close()
	n := len(p.sc.Stable)
	var pb problems
	if err := expectEnsure(ctx, s, p.prefix(), &pb, "EnsurePrefix on a fresh session", "fresh session", 0, n); err != nil {
		return err
	}
	if err := expectEnsure(ctx, s, p.prefix(), &pb, "EnsurePrefix again", "same prefix again", n, 0); err != nil {
		return err
	}
	if _, err := p.greedySuffix(ctx, s, p.sc.Suffix); err != nil {
		return err
	}
	if err := expectEnsure(ctx, s, p.prefix(), &pb, "EnsurePrefix after a suffix and decoding",
		"same prefix after a suffix and decoding", n, 0); err != nil {
		return err
	}
	// The suffix was discarded: extending the prefix by it computes it anew.
	ext := append(append([]transport.Token(nil), p.sc.Stable...), p.sc.Suffix...)
	if err := expectEnsure(ctx, s, transport.PrefixInput{Key: "extended", Tokens: ext}, &pb,
		fmt.Sprintf("EnsurePrefix of the prefix extended by %d tokens", len(p.sc.Suffix)),
		"prefix extended by the discarded suffix", n, len(p.sc.Suffix)); err != nil {
		return err
	}
	return pb.err()
}

// CheckEditMiss checks that reuse stops exactly at an edit.
func CheckEditMiss(ctx context.Context, b transport.Backend, o Options) error {
	p, s, err := freshSession(ctx, b, o)
	if err != nil {
		return err
	}
	defer s.Close()
	n, e := len(p.sc.Stable), p.sc.EditAt
	var pb problems
	step := func(what string, in transport.PrefixInput, reused, computed int) error {
		return expectEnsure(ctx, s, in, &pb, what, what, reused, computed)
	}
	if err := step("fresh session", p.prefix(), 0, n); err != nil {
		return err
	}
	if err := step(fmt.Sprintf("prefix edited at index %d", e), p.edited(), e, n-e); err != nil {
		return err
	}
	if err := step("original prefix restored", p.prefix(), e, n-e); err != nil {
		return err
	}
	first := append([]transport.Token(nil), p.sc.Stable...)
	first[0] = p.sc.EditedStable[e]
	if first[0] == p.sc.Stable[0] {
		first[0] = p.sc.Stable[1]
	}
	if first[0] != p.sc.Stable[0] {
		if err := step("prefix edited at index 0", transport.PrefixInput{Key: "edit0", Tokens: first}, 0, n); err != nil {
			return err
		}
		if err := step("original prefix after an edit at 0", p.prefix(), 0, n); err != nil {
			return err
		}
	}
	k := max(1, n/4)
	if err := step(fmt.Sprintf("prefix truncated to %d tokens", k), transport.PrefixInput{Key: "short", Tokens: p.sc.Stable[:k]}, k, 0); err != nil {
		return err
	}
	if err := step("full prefix after truncation", p.prefix(), k, n-k); err != nil {
		return err
	}
	return pb.err()
}

// CheckWarmEqualsCold checks warm results against fresh sessions.
func CheckWarmEqualsCold(ctx context.Context, b transport.Backend, o Options) error {
	p, err := newPlan(b, o)
	if err != nil {
		return err
	}
	want, err := p.colds(ctx, b, turn{p.prefix(), p.sc.Suffix}, turn{p.prefix(), p.sc.ChangedSuffix}, turn{p.edited(), p.sc.Suffix})
	if err != nil {
		return err
	}
	base, changed, edited := want[0], want[1], want[2]
	s, err := newSession(ctx, b, "")
	if err != nil {
		return err
	}
	defer s.Close()
	var pb problems
	steps := []struct {
		what string
		in   transport.PrefixInput
		suf  []transport.Token
		want []transport.Token
	}{
		{"first turn", p.prefix(), p.sc.Suffix, base},
		{"same prefix, same suffix again", p.prefix(), p.sc.Suffix, base},
		{"warm prefix, changed suffix", p.prefix(), p.sc.ChangedSuffix, changed},
		{"edited prefix", p.edited(), p.sc.Suffix, edited},
		{"prefix restored after the edit", p.prefix(), p.sc.Suffix, base},
	}
	for _, st := range steps {
		got, err := p.greedy(ctx, s, st.in, st.suf)
		if err != nil {
			return fmt.Errorf("%s: %w", st.what, err)
		}
		if err := contract.SameAsCold(st.what, got, st.want); err != nil {
			pb.addf("%w", err)
		}
	}
	// A new suffix on the same prefix without EnsurePrefix in between.
	got, err := p.greedySuffix(ctx, s, p.sc.ChangedSuffix)
	if err != nil {
		return fmt.Errorf("suffix replaced without EnsurePrefix: %w", err)
	}
	if err := contract.SameAsCold("suffix replaced without EnsurePrefix", got, changed); err != nil {
		pb.addf("%w", err)
	}
	return pb.err()
}

// CheckOverContext checks that requests past the context are refused with the typed error.
func CheckOverContext(ctx context.Context, b transport.Backend, o Options) error {
	p, s, _, err := warmSession(ctx, b, o)
	if err != nil {
		return err
	}
	defer s.Close()
	var pb problems
	n := len(p.sc.Stable)

	_, err = ensure(ctx, s, transport.PrefixInput{Key: "overflow", Tokens: p.sc.OverflowTokens(p.ctx + 1)})
	if err := contract.OverContext(fmt.Sprintf("EnsurePrefix of %d tokens", p.ctx+1), err, p.ctx, p.ctx+1); err != nil {
		pb.addf("%w", err)
	}
	over := p.ctx - n + 1
	_, err = prefill(ctx, s, p.sc.OverflowTokens(over))
	if err := contract.OverContext(fmt.Sprintf("PrefillSuffix of %d tokens after a %d-token prefix", over, n), err, p.ctx, p.ctx+1); err != nil {
		pb.addf("%w", err)
	}
	if _, err := prefill(ctx, s, p.sc.Suffix); err != nil {
		return fmt.Errorf("PrefillSuffix after the refused requests: %w", err)
	}
	resident := n + len(p.sc.Suffix)
	_, err = decode(ctx, s, p.ctx-resident+1)
	if err := contract.OverContext(fmt.Sprintf("Decode(%d) with %d positions resident", p.ctx-resident+1, resident), err, p.ctx, p.ctx+1); err != nil {
		pb.addf("%w", err)
	}
	return pb.err()
}

// CheckUsableAfterOverContext checks that refused requests change nothing.
func CheckUsableAfterOverContext(ctx context.Context, b transport.Backend, o Options) error {
	p, s, want, err := warmSession(ctx, b, o)
	if err != nil {
		return err
	}
	defer s.Close()
	n := len(p.sc.Stable)
	var pb problems
	if _, err := ensure(ctx, s, transport.PrefixInput{Key: "overflow", Tokens: p.sc.OverflowTokens(p.ctx + 1)}); err == nil {
		return pb.stop("EnsurePrefix of %d tokens was accepted with a context of %d", p.ctx+1, p.ctx)
	}
	pr, err := ensure(ctx, s, p.prefix())
	if err != nil {
		return pb.stop("EnsurePrefix after a refused EnsurePrefix: %w", err)
	}
	if err := expectPrefix("prefix after a refused EnsurePrefix", pr, n, 0); err != nil {
		pb.addf("the refused request changed the cache: %w", err)
	}
	if _, err := prefill(ctx, s, p.sc.OverflowTokens(p.ctx-n+1)); err == nil {
		return pb.stop("PrefillSuffix of %d tokens after %d was accepted with a context of %d", p.ctx-n+1, n, p.ctx)
	}
	got, err := p.greedySuffix(ctx, s, p.sc.Suffix)
	if err != nil {
		return pb.stop("after a refused PrefillSuffix: %w", err)
	}
	if err := contract.SameAsCold("after refused requests", got, want); err != nil {
		pb.addf("%w", err)
	}
	// A refused Decode keeps the pending token: decoding on continues.
	resident := n + len(p.sc.Suffix) + p.steps
	if _, err := decode(ctx, s, p.ctx-resident+1); err == nil {
		return pb.stop("Decode(%d) with %d positions resident was accepted with a context of %d", p.ctx-resident+1, resident, p.ctx)
	}
	if resident < p.ctx {
		more, err := decode(ctx, s, 1)
		if err != nil {
			pb.addf("Decode(1) after a refused Decode: %v", err)
		} else {
			ref, err := newSession(ctx, b, "")
			if err != nil {
				return pb.stop("%w", err)
			}
			defer ref.Close()
			if _, err := p.greedy(ctx, ref, p.prefix(), p.sc.Suffix); err != nil {
				return pb.stop("reference session: %w", err)
			}
			next, err := decode(ctx, ref, 1)
			if err != nil {
				return pb.stop("reference session: Decode(1): %w", err)
			}
			if contract.Divergence(more.Tokens, next.Tokens) >= 0 {
				pb.addf("after a refused Decode the next token is %v, a session that was never refused gives %v", more.Tokens, next.Tokens)
			}
		}
	}
	return pb.err()
}

// cutShort is what decodeOn found after a Decode cut short by a cancel.
type cutShort struct {
	// k is how many of the cut Decode's tokens were compared with the
	// uncancelled ones; before is true when they differ.
	k      int
	before bool
	// more is how many tokens were decoded on (0: the reference had none
	// left); err is that Decode's error.
	more int
	err  error
	// diverge is the first index where the cut tokens followed by the ones
	// decoded on differ from the reference, -1 where they do not.
	diverge int
}

// decodeOn compares got, the tokens of a Decode on s cut short by a
// cancel, with ref, those of the uncancelled Decode from the same point,
// then decodes up to p.steps more tokens on s, which must continue ref.
func (p plan) decodeOn(ctx context.Context, s transport.Session, got, ref []transport.Token) cutShort {
	j := len(got)
	c := cutShort{k: min(j, len(ref)), more: min(p.steps, len(ref)-j), diverge: -1}
	c.before = contract.Divergence(got[:c.k], ref[:c.k]) >= 0
	if c.more <= 0 {
		c.more = 0
		return c
	}
	next, err := decode(ctx, s, c.more)
	if err != nil {
		c.err = err
		return c
	}
	c.diverge = contract.Divergence(append(append([]transport.Token(nil), got...), next.Tokens...), ref[:j+c.more])
	return c
}

// CheckCancel checks Decode's cancellation.
func CheckCancel(ctx context.Context, b transport.Backend, o Options) error {
	// The uncancelled reference: the first token and as many decode steps as
	// the context allows, up to 64.
	p, s, err := freshSession(ctx, b, o)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := ensure(ctx, s, p.prefix()); err != nil {
		return fmt.Errorf("EnsurePrefix: %w", err)
	}
	room := p.ctx - len(p.sc.Stable) - len(p.sc.Suffix)
	refN := min(room, 64)
	if _, err := prefill(ctx, s, p.sc.Suffix); err != nil {
		return fmt.Errorf("PrefillSuffix: %w", err)
	}
	t0 := time.Now()
	ref, err := decode(ctx, s, refN)
	if err != nil {
		return fmt.Errorf("reference Decode(%d): %w", refN, err)
	}
	perToken := time.Since(t0) / time.Duration(max(refN, 1))
	prompt := max(time.Second, 20*perToken)
	var pb problems

	expired := map[string]func() (context.Context, context.CancelFunc){
		"cancelled": func() (context.Context, context.CancelFunc) {
			c, cancel := context.WithCancel(ctx)
			cancel()
			return c, cancel
		},
		"past its deadline": func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(ctx, time.Now().Add(-time.Second))
		},
	}
	for _, what := range []string{"cancelled", "past its deadline"} {
		if _, err := prefill(ctx, s, p.sc.Suffix); err != nil {
			return fmt.Errorf("PrefillSuffix: %w", err)
		}
		cctx, cancel := expired[what]()
		t0 := time.Now()
		dr, err := decode(cctx, s, room)
		el := time.Since(t0)
		cancel()
		want := context.Canceled
		if what != "cancelled" {
			want = context.DeadlineExceeded
		}
		switch {
		case err == nil:
			pb.addf("Decode(%d) with a context %s returned %d tokens and no error", room, what, len(dr.Tokens))
		case !errors.Is(err, want):
			pb.addf("Decode with a context %s: the error does not wrap %v: %v", what, want, err)
		case len(dr.Tokens) >= room:
			pb.addf("Decode with a context %s returned all %d tokens", what, room)
		case el > prompt:
			pb.addf("Decode with a context %s took %v to return", what, el)
		}
		// Decoding on continues the uncancelled sequence.
		c := p.decodeOn(ctx, s, dr.Tokens, ref.Tokens)
		if c.before {
			pb.addf("Decode with a context %s: tokens %v before the cancel differ from %v", what, dr.Tokens[:c.k], ref.Tokens[:c.k])
		}
		if c.err != nil {
			pb.addf("Decode(%d) after a context %s: %v", c.more, what, c.err)
		} else if c.diverge >= 0 {
			pb.addf("decoding on after a context %s does not continue the uncancelled sequence (first divergence at step %d)", what, c.diverge)
		}
	}

	// Cancel while decoding, after about three tokens.
	if _, err := prefill(ctx, s, p.sc.Suffix); err != nil {
		return fmt.Errorf("PrefillSuffix: %w", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	timer := time.AfterFunc(max(3*perToken, 200*time.Microsecond), cancel)
	dr, err := decode(cctx, s, room)
	timer.Stop()
	cancel()
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			pb.addf("Decode cancelled mid-way: the error does not wrap context.Canceled: %v", err)
		}
		if len(dr.Tokens) >= room {
			pb.addf("Decode cancelled mid-way returned all %d tokens", room)
		}
		c := p.decodeOn(ctx, s, dr.Tokens, ref.Tokens)
		if c.before {
			pb.addf("Decode cancelled mid-way: the tokens before the cancel differ from an uncancelled decode")
		}
		if c.err != nil {
			pb.addf("Decode(%d) after a mid-way cancel: %v", c.more, c.err)
		} else if c.diverge >= 0 {
			pb.addf("decoding on after a mid-way cancel does not continue the uncancelled sequence")
		}
	} else if len(dr.Tokens) != room {
		pb.addf("Decode(%d) returned %d tokens and no error", room, len(dr.Tokens))
	}

	// And a full turn still equals a cold session.
	want, err := p.cold(ctx, b, p.prefix(), p.sc.Suffix)
	if err != nil {
		return err
	}
	p.expectTurn(ctx, s, "a full turn after the cancels", want, &pb)
	return pb.err()
}

// CheckCloseIdempotent checks Session.Close.
func CheckCloseIdempotent(ctx context.Context, b transport.Backend, o Options) error {
	p, s, _, err := warmSession(ctx, b, o)
	if err != nil {
		return err
	}
	var pb problems
	if err := safe("Close", s.Close); err != nil {
		return fmt.Errorf("first Close: %w", err)
	}
	if err := safe("Close", s.Close); err != nil {
		pb.addf("second Close: %v (Close must be idempotent)", err)
	}
	if err := CheckClosed(ctx, s); err != nil {
		pb.errs = append(pb.errs, err)
	}
	// Other sessions are unaffected.
	if _, err := p.cold(ctx, b, p.prefix(), p.sc.Suffix); err != nil {
		pb.addf("a new session after closing another: %v", err)
	}
	return pb.err()
}

// CheckClosed returns nil when every call on s, a session already closed,
// fails with transport.ErrClosed: EnsurePrefix, PrefillSuffix, Decode and,
// when s reads logits (transport.LogitsReader), LastLogits. Otherwise its
// error names each call that did not (a panic counts as one).
func CheckClosed(ctx context.Context, s transport.Session) error {
	var pb problems
	want := func(call string, err error) {
		if !errors.Is(err, transport.ErrClosed) {
			pb.addf("%s after Close: got %v, want transport.ErrClosed", call, err)
		}
	}
	_, err := ensure(ctx, s, transport.PrefixInput{Tokens: []transport.Token{1}})
	want("EnsurePrefix", err)
	_, err = prefill(ctx, s, []transport.Token{1})
	want("PrefillSuffix", err)
	_, err = decode(ctx, s, 1)
	want("Decode", err)
	if lr, ok := s.(transport.LogitsReader); ok {
		want("LastLogits", safe("LastLogits", func() error {
			_, err := lr.LastLogits()
			return err
		}))
	}
	return pb.err()
}

// AssertClosed fails t unless every call on s, a session already closed,
// fails with transport.ErrClosed (CheckClosed). It is what a backend's own
// tests call after closing a session.
func AssertClosed(t assert.TestingT, s transport.Session) bool {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	return assert.NoError(t, CheckClosed(context.Background(), s), "calls on a closed session")
}

// CheckEmptySuffix checks that an empty suffix is refused.
func CheckEmptySuffix(ctx context.Context, b transport.Backend, o Options) error {
	p, s, want, err := warmSession(ctx, b, o)
	if err != nil {
		return err
	}
	defer s.Close()
	var pb problems
	for _, empty := range [][]transport.Token{nil, {}} {
		if _, err := prefill(ctx, s, empty); !errors.Is(err, transport.ErrEmptySuffix) {
			pb.addf("PrefillSuffix(%#v): got %v, want transport.ErrEmptySuffix", empty, err)
		}
	}
	p.expectTurn(ctx, s, "after an empty suffix", want, &pb)
	return pb.err()
}

// CheckOutOfVocab checks that out-of-vocabulary IDs are refused.
func CheckOutOfVocab(ctx context.Context, b transport.Backend, o Options) error {
	p, s, want, err := warmSession(ctx, b, o)
	if err != nil {
		return err
	}
	defer s.Close()
	var pb problems
	for _, bad := range []transport.Token{transport.Token(p.vocab), -1, 1 << 30} {
		toks := append([]transport.Token(nil), p.sc.Stable...)
		toks[len(toks)/2] = bad
		if _, err := ensure(ctx, s, transport.PrefixInput{Key: "bad", Tokens: toks}); err == nil {
			pb.addf("EnsurePrefix with token %d (vocabulary %d) was accepted", bad, p.vocab)
		} else if strings.Contains(err.Error(), "panicked") {
			pb.addf("%v", err)
		}
		if _, err := ensure(ctx, s, p.prefix()); err != nil {
			return fmt.Errorf("EnsurePrefix after a refused one: %w", err)
		}
		suf := append([]transport.Token(nil), p.sc.Suffix...)
		suf[len(suf)-1] = bad
		if _, err := prefill(ctx, s, suf); err == nil {
			pb.addf("PrefillSuffix with token %d (vocabulary %d) was accepted", bad, p.vocab)
		} else if strings.Contains(err.Error(), "panicked") {
			pb.addf("%v", err)
		}
	}
	p.expectTurn(ctx, s, "after refused tokens", want, &pb)
	return pb.err()
}

// CheckTwoSessions checks that sessions on one backend are independent.
func CheckTwoSessions(ctx context.Context, b transport.Backend, o Options) error {
	p, err := newPlan(b, o)
	if err != nil {
		return err
	}
	want, err := p.colds(ctx, b, turn{p.prefix(), p.sc.Suffix}, turn{p.edited(), p.sc.ChangedSuffix})
	if err != nil {
		return err
	}
	wantA, wantB := want[0], want[1]
	a, err := newSession(ctx, b, "A")
	if err != nil {
		return err
	}
	defer a.Close()
	bs, err := newSession(ctx, b, "B")
	if err != nil {
		return err
	}
	defer bs.Close()
	var pb problems
	n := len(p.sc.Stable)

	// Interleaved, call by call.
	prA, err := ensure(ctx, a, p.prefix())
	if err != nil {
		return fmt.Errorf("A: EnsurePrefix: %w", err)
	}
	prB, err := ensure(ctx, bs, p.prefix())
	if err != nil {
		return fmt.Errorf("B: EnsurePrefix: %w", err)
	}
	if err := expectPrefix("A, fresh", prA, 0, n); err != nil {
		pb.addf("%w", err)
	}
	if err := expectPrefix("B, fresh, after A made the same prefix resident", prB, 0, n); err != nil {
		pb.addf("sessions share a cache: %w", err)
	}
	if _, err := ensure(ctx, bs, p.edited()); err != nil {
		return fmt.Errorf("B: EnsurePrefix(edited): %w", err)
	}
	srA, err := prefill(ctx, a, p.sc.Suffix)
	if err != nil {
		return fmt.Errorf("A: PrefillSuffix: %w", err)
	}
	srB, err := prefill(ctx, bs, p.sc.ChangedSuffix)
	if err != nil {
		return fmt.Errorf("B: PrefillSuffix: %w", err)
	}
	gotA := []transport.Token{srA.FirstToken}
	gotB := []transport.Token{srB.FirstToken}
	for range p.steps {
		da, err := decode(ctx, a, 1)
		if err != nil {
			return fmt.Errorf("A: Decode(1): %w", err)
		}
		db, err := decode(ctx, bs, 1)
		if err != nil {
			return fmt.Errorf("B: Decode(1): %w", err)
		}
		gotA = append(gotA, da.Tokens...)
		gotB = append(gotB, db.Tokens...)
	}
	if err := contract.SameAsCold("A interleaved with B", gotA, wantA); err != nil {
		pb.addf("%w", err)
	}
	if err := contract.SameAsCold("B interleaved with A", gotB, wantB); err != nil {
		pb.addf("%w", err)
	}

	// Concurrently, one goroutine per session.
	type result struct {
		got []transport.Token
		err error
	}
	run := func(s transport.Session, in transport.PrefixInput, suf []transport.Token, out chan<- result) {
		var r result
		for range 2 {
			r.got, r.err = p.greedy(ctx, s, in, suf)
			if r.err != nil {
				break
			}
		}
		out <- r
	}
	ca, cb := make(chan result, 1), make(chan result, 1)
	go run(a, p.edited(), p.sc.ChangedSuffix, ca)
	go run(bs, p.prefix(), p.sc.Suffix, cb)
	ra, rb := <-ca, <-cb
	switch {
	case ra.err != nil:
		pb.addf("A, concurrent: %v", ra.err)
	case rb.err != nil:
		pb.addf("B, concurrent: %v", rb.err)
	default:
		if err := contract.SameAsCold("A concurrent with B", ra.got, wantB); err != nil {
			pb.addf("%w", err)
		}
		if err := contract.SameAsCold("B concurrent with A", rb.got, wantA); err != nil {
			pb.addf("%w", err)
		}
	}
	return pb.err()
}

// CheckBackendClose checks Backend.Close. It closes b.
func CheckBackendClose(ctx context.Context, b transport.Backend, o Options) error {
	p, err := newPlan(b, o)
	if err != nil {
		return err
	}
	if _, err := p.cold(ctx, b, p.prefix(), p.sc.Suffix); err != nil {
		return err
	}
	var pb problems
	if err := safe("Backend.Close", b.Close); err != nil {
		return fmt.Errorf("Backend.Close: %w", err)
	}
	s, err := b.NewSession(ctx)
	if !errors.Is(err, transport.ErrClosed) {
		pb.addf("NewSession after Backend.Close: got %v, want transport.ErrClosed", err)
	}
	if s != nil {
		s.Close()
	}
	if err := safe("Backend.Close", b.Close); err != nil && !errors.Is(err, transport.ErrClosed) {
		pb.addf("second Backend.Close: %v", err)
	}
	return pb.err()
}
