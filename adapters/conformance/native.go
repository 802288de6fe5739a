package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/harness"
	"github.com/fakbench/fakbench/transport"
	"github.com/fakbench/fakbench/transport/contract"
)

// nativeView returns s's native cache reader, or nil when s cannot show its
// engine's cache (no transport.CacheInspector, or it says
// transport.ErrNoNativeCache).
func nativeView(s transport.Session) (transport.CacheInspector, error) {
	ci, ok := s.(transport.CacheInspector)
	if !ok {
		return nil, nil
	}
	if _, err := ci.NativeCache(); err != nil {
		if errors.Is(err, transport.ErrNoNativeCache) {
			return nil, nil
		}
		return nil, fmt.Errorf("NativeCache on a fresh session: %w", err)
	}
	return ci, nil
}

// CheckNativeCache checks that a session's engine cache, where the session
// shows it (transport.CacheInspector), agrees with the reuse the session
// reports at every step: empty when fresh; after EnsurePrefix exactly the
// reused and computed positions, and when it began computing exactly the
// reused ones (the stale positions after the prefix, or past an edit,
// already dropped); after a suffix and decoding, every position fed. A
// session that cannot show its engine's cache passes with nothing checked.
func CheckNativeCache(ctx context.Context, b transport.Backend, o Options) error {
	p, s, err := freshSession(ctx, b, o)
	if err != nil {
		return err
	}
	defer s.Close()
	ci, err := nativeView(s)
	if ci == nil {
		return err
	}
	var pb problems
	read := func(what string) (transport.CacheState, bool) {
		st, err := ci.NativeCache()
		if err != nil {
			pb.addf("%s: NativeCache: %v", what, err)
			return st, false
		}
		return st, true
	}
	if st, ok := read("fresh session"); ok {
		if err := contract.NativeHolds("fresh session", st, 0); err != nil {
			pb.addf("%w", err)
		}
	}
	n, e := len(p.sc.Stable), p.sc.EditAt
	prefix := func(what string, in transport.PrefixInput) error {
		pr, err := ensure(ctx, s, in)
		if err != nil {
			return fmt.Errorf("%s: EnsurePrefix: %w", what, err)
		}
		if st, ok := read(what); ok {
			if err := contract.NativePrefix(what, st, pr); err != nil {
				pb.addf("%w", err)
			}
		}
		return nil
	}
	if err := prefix("prefix on a fresh session", p.prefix()); err != nil {
		return err
	}
	if _, err := p.greedySuffix(ctx, s, p.sc.Suffix); err != nil {
		return err
	}
	fed := n + len(p.sc.Suffix) + p.steps
	if st, ok := read("after a suffix and decoding"); ok {
		if err := contract.NativeHolds(fmt.Sprintf("after a %d-token suffix and %d decode steps", len(p.sc.Suffix), p.steps), st, fed); err != nil {
			pb.addf("%w", err)
		}
	}
	if err := prefix("same prefix after a suffix and decoding", p.prefix()); err != nil {
		return err
	}
	if err := prefix(fmt.Sprintf("prefix edited at index %d", e), p.edited()); err != nil {
		return err
	}
	k := max(1, n/4)
	if err := prefix(fmt.Sprintf("prefix truncated to %d tokens", k), transport.PrefixInput{Key: "short", Tokens: p.sc.Stable[:k]}); err != nil {
		return err
	}
	return pb.err()
}

// NativeEvidence checks, for a backend's own tests, that b's sessions show
// their engine's cache (transport.CacheInspector, with a Source starting
// with source) and that on a short harness run the engine holds exactly
// what the sessions report: nothing before a cold session's first call,
// the prefix after each EnsurePrefix, only the reused positions when a
// recompute began. It logs the native figures against the claimed ones.
func NativeEvidence(t *testing.T, b transport.Backend, source string) {
	t.Helper()
	ctx := context.Background()
	s, err := b.NewSession(ctx)
	require.NoError(t, err)
	ci, ok := s.(transport.CacheInspector)
	require.True(t, ok, "backend %s's sessions do not implement transport.CacheInspector", b.Name())
	st, err := ci.NativeCache()
	require.NoError(t, err)
	require.NoError(t, s.Close())
	assert.True(t, strings.HasPrefix(st.Source, source), "source %q, want it to start with %q", st.Source, source)
	assert.Equal(t, transport.CacheState{First: -1, Kept: -1, Source: st.Source}, st, "a fresh session's engine holds nothing")

	require.NoError(t, CheckNativeCache(ctx, b, Options{}))

	params, err := harness.ParamsFor(true, 1, b.Info())
	require.NoError(t, err)
	sc, err := harness.BuildScenario(params)
	require.NoError(t, err)
	rep, err := harness.Run(ctx, b, sc, harness.Config{Short: true, Reps: 2})
	require.NoError(t, err)
	for _, n := range rep.Notes {
		assert.NotContains(t, n, "the engine's own cache contradicts", "backend %s", b.Name())
	}
	assert.Equal(t, st.Source, rep.CacheEvidence)
	c, w, e := rep.ColdFullPrefill, rep.WarmSamePrefix, rep.EditedStable
	native := func(what string, p *int, claimed int) {
		if assert.NotNil(t, p, "%s: no native figure", what) {
			assert.Equal(t, claimed, *p, "%s: native tokens against the session's claim", what)
			t.Logf("%s %s: native %d, claimed %d", b.Name(), what, *p, claimed)
		}
	}
	native("cold_full_prefill before", c.NativeCacheTokensBefore, 0)
	native("cold_full_prefill", c.NativeCacheTokens, c.Tokens)
	native("warm_same_prefix", w.NativeCacheTokens, w.CachedTokens+w.NewTokens)
	native("warm_same_prefix kept", w.NativeKeptTokens, w.CachedTokens)
	native("edited_stable_segment", e.NativeCacheTokens, e.ReusedTokens+e.ComputedTokens)
	native("edited_stable_segment kept", e.NativeKeptTokens, e.ReusedTokens)
	assert.Equal(t, 1.0, w.HitRate, rep.Notes)
	assert.True(t, e.ActualCacheMiss, rep.Notes)
	t.Logf("%s warm_same_prefix reuse cost: %s", b.Name(), w.ReuseCostCheck)
}
