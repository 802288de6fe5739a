package harness_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters/conformance/fake"
	"github.com/fakbench/fakbench/harness"
	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/transport"
)

// refusingSession wraps the fake and refuses the edited prefix and the
// changed suffix, so the two sections that compare with a cold run fail
// before comparing.
type refusingSession struct {
	transport.Session
	sc harness.Scenario
}

func (s *refusingSession) EnsurePrefix(ctx context.Context, in transport.PrefixInput) (transport.PrefixResult, error) {
	if in.Key == s.sc.EditedKey() {
		return transport.PrefixResult{}, errors.New("injected fault: edited prefix")
	}
	return s.Session.EnsurePrefix(ctx, in)
}

func (s *refusingSession) PrefillSuffix(ctx context.Context, in transport.SuffixInput) (transport.SuffixResult, error) {
	if slices.Equal(in.Tokens, s.sc.ChangedSuffix) {
		return transport.SuffixResult{}, errors.New("injected fault: changed suffix")
	}
	return s.Session.PrefillSuffix(ctx, in)
}

// divergenceOf returns section.first_divergence of rep's JSON, failing the
// test when it is not written.
func divergenceOf(t *testing.T, rep *report.Report, section string) float64 {
	t.Helper()
	data, err := json.Marshal(rep)
	require.NoError(t, err)
	var whole map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(data, &whole))
	var sec map[string]any
	require.NoError(t, json.Unmarshal(whole[section], &sec), section)
	v, ok := sec["first_divergence"]
	require.True(t, ok, "%s.first_divergence is not written", section)
	return v.(float64)
}

// A section that did not compare leaves first_divergence -1 (none), never
// 0 (a divergence at the first token), and not_run says why.
func TestRunFirstDivergenceWithoutComparison(t *testing.T) {
	sc := shortScenario(t)
	b := fake.WrapSessions(fake.New(fake.Config{}), func(s transport.Session) transport.Session {
		return &refusingSession{Session: s, sc: sc}
	})
	rep, err := harness.Run(context.Background(), b, sc, harness.Config{Short: true})
	require.NoError(t, err)
	for _, sec := range []string{"warm_changed_suffix", "edited_stable_segment"} {
		assert.Contains(t, rep.NotRun[sec], "injected fault", sec)
		assert.Equal(t, float64(report.NoDivergence), divergenceOf(t, rep, sec), sec)
	}

	// A run stopped before any section leaves both at -1 too.
	rep, err = harness.Run(context.Background(), fake.New(fake.Config{Context: 128}), sc, harness.Config{})
	require.Error(t, err)
	assert.Equal(t, report.NoDivergence, rep.WarmChangedSuffix.FirstDivergence)
	assert.Equal(t, report.NoDivergence, rep.EditedStable.FirstDivergence)
}

// A divergence at the first token is written as 0, not dropped.
func TestRunFirstDivergenceAtFirstToken(t *testing.T) {
	rep := runFake(t, fake.Config{Bugs: fake.Bugs{WarmDiverges: true}})
	assert.Equal(t, 0.0, divergenceOf(t, rep, "warm_changed_suffix"))
	assert.Equal(t, 0.0, divergenceOf(t, rep, "edited_stable_segment"))
	rep = runFake(t, fake.Config{})
	assert.Equal(t, -1.0, divergenceOf(t, rep, "warm_changed_suffix"))
	assert.Equal(t, -1.0, divergenceOf(t, rep, "edited_stable_segment"))
}
