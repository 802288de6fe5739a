package session

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/transport"
	"github.com/fakbench/fakbench/transport/contract"
)

// inspectEngine is fakeEngine with a native view: its held tokens, or,
// with lazyKeep, a store that Keep does not shorten (stale rows stay).
type inspectEngine struct {
	*fakeEngine
	rows     int // rows the store holds
	lazyKeep bool
}

func (e *inspectEngine) Keep(n int) int {
	n = e.fakeEngine.Keep(n)
	if !e.lazyKeep {
		e.rows = n
	}
	return n
}

func (e *inspectEngine) Feed(ctx context.Context, pos int, toks []transport.Token, wantLogits bool) (int, error) {
	held, err := e.fakeEngine.Feed(ctx, pos, toks, wantLogits)
	e.rows = max(e.rows, held)
	return held, err
}

func (e *inspectEngine) Cache() (transport.CacheState, error) {
	st := transport.CacheState{Positions: e.rows, First: -1, Source: "test store"}
	if e.rows > 0 {
		st.First = 0
	}
	return st, nil
}

func TestNativeCacheFollowsTheEngine(t *testing.T) {
	ctx := context.Background()
	e := &inspectEngine{fakeEngine: newFake()}
	c := New(Config{Name: "fake", Limit: limit, Vocab: vocab}, e)
	defer c.Close()

	st, err := c.NativeCache()
	require.NoError(t, err)
	assert.Equal(t, transport.CacheState{Positions: 0, First: -1, Kept: -1, Source: "test store"}, st, "nothing held, no EnsurePrefix yet")

	p := toks(10, 1)
	pr, err := c.EnsurePrefix(ctx, transport.PrefixInput{Tokens: p})
	require.NoError(t, err)
	_, err = c.PrefillSuffix(ctx, transport.SuffixInput{Tokens: toks(3, 2)})
	require.NoError(t, err)
	_, err = c.Decode(ctx, 2)
	require.NoError(t, err)
	st, err = c.NativeCache()
	require.NoError(t, err)
	assert.Equal(t, 15, st.Positions)
	assert.Equal(t, 0, st.Kept, "a fresh session held nothing when the prefix began computing")
	assert.NoError(t, contract.NativeHolds("after decode", st, 15))

	edited := append([]transport.Token(nil), p...)
	edited[4] = (edited[4] + 1) % vocab
	pr, err = c.EnsurePrefix(ctx, transport.PrefixInput{Tokens: edited})
	require.NoError(t, err)
	st, err = c.NativeCache()
	require.NoError(t, err)
	assert.Equal(t, 4, st.Kept, "the engine held the 4 reused positions when the recompute began")
	assert.NoError(t, contract.NativePrefix("edited", st, pr))

	// An engine whose Keep leaves its rows in place is caught: 15 rows
	// were still held when the edited prefix began computing.
	e.lazyKeep = true
	_, err = c.PrefillSuffix(ctx, transport.SuffixInput{Tokens: toks(5, 2)})
	require.NoError(t, err)
	pr, err = c.EnsurePrefix(ctx, transport.PrefixInput{Tokens: p})
	require.NoError(t, err)
	st, err = c.NativeCache()
	require.NoError(t, err)
	assert.Equal(t, 15, st.Kept)
	err = contract.NativePrefix("edited back", st, pr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "edited back: the engine's cache holds positions up to 14, the session claims 10 resident: 5 stale positions past the claim were kept")
	assert.Contains(t, err.Error(), "edited back: when EnsurePrefix began computing, the engine's cache still held 15 positions, past the 4 reused: 11 stale positions were not dropped before the recompute")

	require.NoError(t, c.Close())
	_, err = c.NativeCache()
	assert.ErrorIs(t, err, transport.ErrClosed)
}

func TestNativeCacheWithoutInspector(t *testing.T) {
	c, _ := newCore(t)
	_, err := c.NativeCache()
	require.ErrorIs(t, err, transport.ErrNoNativeCache)
	assert.EqualError(t, err, "fake: NativeCache: the engine cannot report its native cache state")
}

func TestNativeHoldsNamesTheFault(t *testing.T) {
	err := contract.NativeHolds("x", transport.CacheState{Positions: 6, First: 4}, 10)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "x: the engine's cache starts at position 4: positions 0..3 that the session counts as resident are gone")
	err = contract.NativeHolds("y", transport.CacheState{Positions: 7, First: 0}, 10)
	assert.EqualError(t, err, "y: the engine's cache holds 7 positions, the session claims 10 resident: 3 claimed positions are not in the engine's cache")
	assert.NoError(t, contract.NativeHolds("z", transport.CacheState{First: -1}, 0))
	err = contract.NativePrefix("w", transport.CacheState{Positions: 10, First: 0, Kept: 2}, transport.PrefixResult{ReusedTokens: 5, ComputedTokens: 5})
	assert.EqualError(t, err, "w: when EnsurePrefix began computing, the engine's cache held 2 positions, fewer than the 5 the session reports reused")
}
