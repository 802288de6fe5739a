package harness_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters/conformance/fake"
	"github.com/fakbench/fakbench/harness"
	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/transport"
)

// The correct fake's engine holds what its sessions report, section by
// section, and its reuse costs nothing next to a recompute.
func TestNativeEvidenceAgrees(t *testing.T) {
	rep := runFake(t, fake.Config{})
	assert.Equal(t, report.StatusOK, rep.Status, notes(rep))
	assert.Empty(t, report.CorrectnessFailures(rep))
	assert.Contains(t, rep.CacheEvidence, "fake: the rows of the fake engine's store")

	c := rep.ColdFullPrefill
	require.NotNil(t, c.NativeCacheTokensBefore)
	require.NotNil(t, c.NativeCacheTokens)
	assert.Equal(t, 0, *c.NativeCacheTokensBefore, "a fresh session holds nothing")
	assert.Equal(t, 128, *c.NativeCacheTokens)

	w := rep.WarmSamePrefix
	require.NotNil(t, w.NativeCacheTokens)
	require.NotNil(t, w.NativeKeptTokens)
	assert.Equal(t, 128, *w.NativeCacheTokens)
	assert.Equal(t, 128, *w.NativeKeptTokens, "the suffix was dropped, the prefix kept")
	assert.Equal(t, 1.0, w.HitRate)
	assert.Equal(t, harness.ReuseCostBound, w.ReuseCostBound)
	assert.Positive(t, w.ReuseCostFraction)
	assert.Less(t, w.ReuseCostFraction, harness.ReuseCostBound)
	assert.Contains(t, w.ReuseCostCheck, "passed: the fastest of 2 warm EnsurePrefix calls reporting 128 tokens reused took")

	e := rep.EditedStable
	require.NotNil(t, e.NativeCacheTokens)
	require.NotNil(t, e.NativeKeptTokens)
	assert.Equal(t, 128, *e.NativeCacheTokens)
	assert.Equal(t, 64, *e.NativeKeptTokens, "the positions from the edit on were dropped before the recompute")
	assert.True(t, e.ActualCacheMiss)
}

// A backend that reports reuse while it recomputes: its engine holds the
// right positions, but the warm call costs what the recompute does, so the
// timing check fails the hit rate.
func TestHiddenRecomputeIsFlagged(t *testing.T) {
	rep := runFake(t, fake.Config{Bugs: fake.Bugs{HiddenRecompute: true}})
	w := rep.WarmSamePrefix
	assert.Equal(t, 128, w.CachedTokens, "the session's claim is kept")
	assert.Equal(t, 0.0, w.HitRate, "the claim is not borne out")
	assert.Greater(t, w.ReuseCostFraction, harness.ReuseCostBound)
	assert.Contains(t, w.ReuseCostCheck, "failed: the fastest of 2 warm EnsurePrefix calls reporting 128 tokens reused")
	assert.Contains(t, notes(rep), "check failed: warm_same_prefix: the reuse cost as much as a recompute (hit_rate set to 0)")
	assert.Contains(t, report.CorrectnessFailures(rep), "warm_same_prefix.hit_rate = 0, want 1")
	require.NotNil(t, w.NativeCacheTokens)
	assert.Equal(t, 128, *w.NativeCacheTokens, "the engine's count agrees: only the time shows the recompute")
}

// A backend whose engine keeps the positions the session dropped: after
// the warm prefix its cache still holds the old suffix and decoded tokens,
// and when the edited prefix began computing, the stale positions past
// the edit were still there. Outputs are right; only the engine shows it.
func TestStaleNativeKVIsFlagged(t *testing.T) {
	rep := runFake(t, fake.Config{Bugs: fake.Bugs{StaleKV: true}})
	assert.True(t, rep.WarmChangedSuffix.OutputEqualsCold, "stale rows never enter a computation")

	w := rep.WarmSamePrefix
	assert.Equal(t, 0.0, w.HitRate)
	require.NotNil(t, w.NativeCacheTokens)
	assert.Greater(t, *w.NativeCacheTokens, 128)
	assert.Contains(t, notes(rep), "check failed: warm_same_prefix: the engine's own cache contradicts the reuse the session reports (hit_rate set to 0): repetition 0: the session reported 128 reused + 0 computed tokens: EnsurePrefix: the engine's cache holds positions up to")

	e := rep.EditedStable
	assert.False(t, e.ActualCacheMiss)
	assert.True(t, e.OutputEqualsCold)
	require.NotNil(t, e.NativeKeptTokens)
	assert.Greater(t, *e.NativeKeptTokens, 64)
	assert.Contains(t, notes(rep), "check failed: edited_stable_segment: the engine's own cache contradicts the miss the session reports (actual_cache_miss set to false)")
	assert.Contains(t, notes(rep), "stale positions were not dropped before the recompute")
	fails := report.CorrectnessFailures(rep)
	assert.Contains(t, fails, "warm_same_prefix.hit_rate = 0, want 1")
	assert.Contains(t, fails, "edited_stable_segment.actual_cache_miss = false although a miss was expected")
}

// offsetSession reports its engine holding extra positions
// more than it does: a fresh session that is not empty.
type offsetSession struct {
	transport.Session
	extra int
}

func (s *offsetSession) NativeCache() (transport.CacheState, error) {
	st, err := s.Session.(transport.CacheInspector).NativeCache()
	st.First = 0
	st.Positions += s.extra
	return st, err
}

func TestNativeNotColdFailsTheRun(t *testing.T) {
	b := fake.WrapSessions(fake.New(fake.Config{TokenCost: 20 * time.Microsecond}), func(s transport.Session) transport.Session {
		return &offsetSession{Session: s, extra: 3}
	})
	rep, err := harness.Run(context.Background(), b, shortScenario(t), harness.Config{Short: true, Reps: 2})
	require.NoError(t, err)
	assert.Equal(t, report.StatusFailed, rep.Status, "no contract field shows a cold session that was not cold")
	require.NotNil(t, rep.ColdFullPrefill.NativeCacheTokensBefore)
	assert.Equal(t, 3, *rep.ColdFullPrefill.NativeCacheTokensBefore)
	assert.Contains(t, notes(rep), "check failed: cold_full_prefill: the engine's own cache contradicts the session: repetition 0: a fresh session before its first call: the engine's cache holds positions up to 2, the session claims 0 resident: 3 stale positions past the claim were kept: not provably cold")
	assert.False(t, rep.EditedStable.ActualCacheMiss)
}

// A backend whose sessions cannot show their engine's cache says so, and
// the bookkeeping's figures stand.
func TestNoNativeEvidence(t *testing.T) {
	b := fake.WrapSessions(fake.New(fake.Config{TokenCost: 50 * time.Microsecond}), func(s transport.Session) transport.Session {
		return &faultySession{Session: s, failLen: -1}
	})
	rep, err := harness.Run(context.Background(), b, shortScenario(t), harness.Config{Short: true, Reps: 2})
	require.NoError(t, err)
	assert.Equal(t, report.StatusOK, rep.Status, notes(rep))
	assert.Equal(t, "none: backend fake's sessions do not implement transport.CacheInspector; hit_rate and actual_cache_miss rest on the session's own bookkeeping", rep.CacheEvidence)
	assert.Nil(t, rep.ColdFullPrefill.NativeCacheTokens)
	assert.Nil(t, rep.WarmSamePrefix.NativeCacheTokens)
	assert.Nil(t, rep.EditedStable.NativeCacheTokens)
	assert.Equal(t, 1.0, rep.WarmSamePrefix.HitRate)
	assert.Contains(t, rep.WarmSamePrefix.ReuseCostCheck, "passed", "the timing check needs no native view")
}

// Below MinReuseRecomputeMS of recompute the timing check does not judge.
func TestReuseCostNotJudgedWhenTooCheap(t *testing.T) {
	b := fake.New(fake.Config{})
	rep, err := harness.Run(context.Background(), b, shortScenario(t), harness.Config{Short: true, Reps: 2})
	require.NoError(t, err)
	w := rep.WarmSamePrefix
	assert.Contains(t, w.ReuseCostCheck, "not judged: recomputing the 128 reused tokens cold takes")
	assert.Zero(t, w.ReuseCostFraction)
	assert.Zero(t, w.ReuseCostBound)
	assert.Equal(t, 1.0, w.HitRate)
}
