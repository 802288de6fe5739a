package contract

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/transport"
)

func TestDivergence(t *testing.T) {
	assert.Equal(t, -1, Divergence([]transport.Token{1, 2, 3}, []transport.Token{1, 2, 3}))
	assert.Equal(t, 1, Divergence([]transport.Token{1, 2, 3}, []transport.Token{1, 5, 3}))
	assert.Equal(t, 0, Divergence([]transport.Token{9}, []transport.Token{1}))
	assert.Equal(t, 2, Divergence([]transport.Token{1, 2}, []transport.Token{1, 2, 3}))
	assert.Equal(t, -1, Divergence(nil, nil))

	require.NoError(t, SameAsCold("turn", []transport.Token{4, 5}, []transport.Token{4, 5}))
	err := SameAsCold("turn 2", []transport.Token{4, 6}, []transport.Token{4, 5})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "turn 2: greedy tokens differ from a cold session at index 1")
}

func TestOverContext(t *testing.T) {
	good := &transport.OverContextError{Op: "EnsurePrefix", Resident: 0, Requested: 129, Limit: 128}
	require.NoError(t, OverContext("ensure", good, 128, 129))
	require.NoError(t, OverContext("ensure", fmt.Errorf("llamacpp: %w", good), 128, 129), "wrapped is fine")

	for want, err := range map[string]error{
		"accepted, want an over-context error":                          nil,
		"error is not a *transport.OverContextError":                    errors.New("too long"),
		"error says the limit is 64, the backend's context is 128":      &transport.OverContextError{Op: "Decode", Resident: 60, Requested: 69, Limit: 64},
		"error says 10 resident + 100 requested, the request needs 129": &transport.OverContextError{Op: "Decode", Resident: 10, Requested: 100, Limit: 128},
		"error names no operation":                                      &transport.OverContextError{Resident: 0, Requested: 129, Limit: 128},
	} {
		got := OverContext("req", err, 128, 129)
		require.Error(t, got, want)
		assert.Contains(t, got.Error(), "req: "+want)
	}
}

func TestMissVerdict(t *testing.T) {
	pr := func(reused, computed int) transport.PrefixResult {
		return transport.PrefixResult{ReusedTokens: reused, ComputedTokens: computed}
	}
	cases := []struct {
		pr   transport.PrefixResult
		miss bool
		why  string
	}{
		{pr(50, 50), true, "precise miss"},
		{pr(0, 100), true, "full recompute"},
		{pr(20, 80), true, "partial reuse"},
		{pr(100, 0), false, "past the edit"},
		{pr(60, 40), false, "past the edit"},
		{pr(40, 10), false, "fewer than the 50"},
		{pr(50, 60), true, "accounting is off"},
	}
	for _, c := range cases {
		miss, why := MissVerdict(c.pr, 50, 100)
		assert.Equal(t, c.miss, miss, "%+v", c.pr)
		assert.Contains(t, why, c.why, "%+v", c.pr)
	}
}
