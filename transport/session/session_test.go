package session

import (
	"context"
	"errors"
	"hash/fnv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/transport"
)

const (
	vocab = 16
	limit = 32
)

// fakeEngine holds tokens as its cache; the logits of a position pick one
// token from a hash of every token up to it, so warm and cold sessions can
// be compared. It feeds one token at a time, checking ctx before each.
type fakeEngine struct {
	held     []transport.Token
	logits   []float32
	closes   int
	begun    int
	ended    int
	closedBy error // Begin's error, when set
	// afterToken runs after each token fed (a test cancels from it).
	afterToken func(held int)
	// failAt makes Feed fail before the token at this position (-1 never).
	failAt int
	// clearOnFail makes a failed Feed clear the whole cache.
	clearOnFail bool
	// keepAtMost caps what Keep keeps (-1 no cap).
	keepAtMost int
	// noLogits makes Logits return nil.
	noLogits bool
}

func newFake() *fakeEngine { return &fakeEngine{failAt: -1, keepAtMost: -1} }

func (f *fakeEngine) Begin(ctx context.Context) (func(), error) {
	if f.closedBy != nil {
		return nil, f.closedBy
	}
	f.begun++
	return func() { f.ended++ }, nil
}

func (f *fakeEngine) Keep(n int) int {
	if f.keepAtMost >= 0 {
		n = min(n, f.keepAtMost)
	}
	f.held = f.held[:n]
	f.logits = nil
	return n
}

func (f *fakeEngine) Feed(ctx context.Context, pos int, toks []transport.Token, wantLogits bool) (int, error) {
	if pos != len(f.held) {
		panic("fake: Feed at a position that is not the end of the cache")
	}
	f.logits = nil
	for i, t := range toks {
		if err := ctx.Err(); err != nil {
			return len(f.held), err
		}
		if len(f.held) == f.failAt {
			if f.clearOnFail {
				f.held = f.held[:0]
			}
			return len(f.held), errors.New("fake: engine failure")
		}
		f.held = append(f.held, t)
		if wantLogits && i == len(toks)-1 {
			f.logits = fakeLogits(f.held)
		}
		if f.afterToken != nil {
			f.afterToken(len(f.held))
		}
	}
	return len(f.held), nil
}

func (f *fakeEngine) Logits() []float32 {
	if f.noLogits {
		return nil
	}
	return f.logits
}

func (f *fakeEngine) Close() error {
	f.closes++
	return nil
}

// fakeLogits are the logits after history: one-hot on a hash of it.
func fakeLogits(history []transport.Token) []float32 {
	h := fnv.New32a()
	for _, t := range history {
		_, _ = h.Write([]byte{byte(t)})
	}
	l := make([]float32, vocab)
	l[h.Sum32()%vocab] = 1
	return l
}

// greedy is what a session must generate: n+1 tokens after history.
func greedy(history []transport.Token, n int) []transport.Token {
	h := append([]transport.Token(nil), history...)
	var out []transport.Token
	for i := 0; i <= n; i++ {
		l := fakeLogits(h)
		best := 0
		for j := range l {
			if l[j] > l[best] {
				best = j
			}
		}
		out = append(out, transport.Token(best))
		h = append(h, transport.Token(best))
	}
	return out
}

func toks(n int, seed int) []transport.Token {
	out := make([]transport.Token, n)
	for i := range out {
		out[i] = transport.Token((i*7 + seed*3) % vocab)
	}
	return out
}

func newCore(t *testing.T) (*Core, *fakeEngine) {
	t.Helper()
	f := newFake()
	c := New(Config{Name: "fake", Limit: limit, Vocab: vocab}, f)
	t.Cleanup(func() { _ = c.Close() })
	return c, f
}

func cat(a ...[]transport.Token) []transport.Token {
	var out []transport.Token
	for _, x := range a {
		out = append(out, x...)
	}
	return out
}

func TestPrefixReuse(t *testing.T) {
	ctx := context.Background()
	c, f := newCore(t)
	p := toks(10, 1)

	r, err := c.EnsurePrefix(ctx, transport.PrefixInput{Tokens: p})
	require.NoError(t, err)
	assert.Equal(t, 0, r.ReusedTokens)
	assert.Equal(t, 10, r.ComputedTokens)
	l, err := c.LastLogits()
	require.NoError(t, err, "EnsurePrefix keeps the last prefix position's logits")
	assert.Equal(t, fakeLogits(p), l)

	s := toks(3, 2)
	_, err = c.PrefillSuffix(ctx, transport.SuffixInput{Tokens: s})
	require.NoError(t, err)
	_, err = c.Decode(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, 15, c.Resident())

	r, err = c.EnsurePrefix(ctx, transport.PrefixInput{Tokens: p})
	require.NoError(t, err)
	assert.Equal(t, transport.PrefixResult{ReusedTokens: 10, ComputedTokens: 0}, transport.PrefixResult{ReusedTokens: r.ReusedTokens, ComputedTokens: r.ComputedTokens})
	assert.Equal(t, p, c.Tokens(), "the suffix and decoded tokens are dropped")
	assert.Equal(t, p, f.held)
	_, err = c.LastLogits()
	assert.ErrorIs(t, err, transport.ErrNoLogits, "the last prefix position's logits were overwritten")

	edited := append([]transport.Token(nil), p...)
	edited[4] = (edited[4] + 1) % vocab
	r, err = c.EnsurePrefix(ctx, transport.PrefixInput{Tokens: edited})
	require.NoError(t, err)
	assert.Equal(t, 4, r.ReusedTokens)
	assert.Equal(t, 6, r.ComputedTokens)
	assert.Equal(t, edited, f.held)

	r, err = c.EnsurePrefix(ctx, transport.PrefixInput{Tokens: edited[:7]})
	require.NoError(t, err)
	assert.Equal(t, 7, r.ReusedTokens)
	assert.Equal(t, 0, r.ComputedTokens)
	assert.Equal(t, 7, c.Resident())
	_, err = c.LastLogits()
	assert.ErrorIs(t, err, transport.ErrNoLogits)
	assert.EqualError(t, err, "fake: LastLogits: no logits for the last resident position")
}

func TestNoPrefixReuse(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	c := New(Config{Name: "fake", Limit: limit, Vocab: vocab, NoPrefixReuse: true}, f)
	p := toks(10, 1)
	for i := 0; i < 2; i++ {
		r, err := c.EnsurePrefix(ctx, transport.PrefixInput{Tokens: p})
		require.NoError(t, err)
		assert.Equal(t, 0, r.ReusedTokens)
		assert.Equal(t, 10, r.ComputedTokens)
	}
	_, err := c.EnsurePrefix(ctx, transport.PrefixInput{Tokens: toks(limit+1, 1)})
	assert.True(t, transport.IsOverContext(err))
	assert.Equal(t, p, f.held, "a refused request keeps the cache")
}

func TestGreedyWarmEqualsCold(t *testing.T) {
	ctx := context.Background()
	c, _ := newCore(t)
	p, s1, s2 := toks(8, 1), toks(3, 2), toks(4, 3)
	run := func(c *Core, s []transport.Token) []transport.Token {
		_, err := c.EnsurePrefix(ctx, transport.PrefixInput{Tokens: p})
		require.NoError(t, err)
		r, err := c.PrefillSuffix(ctx, transport.SuffixInput{Tokens: s})
		require.NoError(t, err)
		assert.Equal(t, len(s), r.SuffixTokens)
		d, err := c.Decode(ctx, 5)
		require.NoError(t, err)
		return append([]transport.Token{r.FirstToken}, d.Tokens...)
	}
	assert.Equal(t, greedy(cat(p, s1), 5), run(c, s1))
	assert.Equal(t, 8+3+5, c.Resident(), "the last generated token stays pending")
	assert.Equal(t, greedy(cat(p, s2), 5), run(c, s2))
	// A suffix replaced without EnsurePrefix.
	r, err := c.PrefillSuffix(ctx, transport.SuffixInput{Tokens: s1})
	require.NoError(t, err)
	assert.Equal(t, greedy(cat(p, s1), 0)[0], r.FirstToken)
	l, err := c.LastLogits()
	require.NoError(t, err)
	assert.Equal(t, fakeLogits(cat(p, s1)), l)
}

func TestOverContext(t *testing.T) {
	ctx := context.Background()
	c, f := newCore(t)
	_, err := c.EnsurePrefix(ctx, transport.PrefixInput{Tokens: toks(limit+1, 1)})
	var oe *transport.OverContextError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, transport.OverContextError{Op: "EnsurePrefix", Resident: 0, Requested: limit + 1, Limit: limit}, *oe)
	assert.Equal(t, 0, c.Resident())

	p := toks(20, 1)
	_, err = c.EnsurePrefix(ctx, transport.PrefixInput{Tokens: p})
	require.NoError(t, err)
	_, err = c.PrefillSuffix(ctx, transport.SuffixInput{Tokens: toks(limit-19, 2)})
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, transport.OverContextError{Op: "PrefillSuffix", Resident: 20, Requested: limit - 19, Limit: limit}, *oe)
	assert.Equal(t, p, f.held, "refused before any state change")

	r, err := c.PrefillSuffix(ctx, transport.SuffixInput{Tokens: toks(2, 2)})
	require.NoError(t, err)
	_, err = c.Decode(ctx, limit-22+1)
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, transport.OverContextError{Op: "Decode", Resident: 22, Requested: limit - 21, Limit: limit}, *oe)
	d, err := c.Decode(ctx, limit-22)
	require.NoError(t, err, "the pending token survives a refused Decode")
	assert.Equal(t, greedy(cat(p, toks(2, 2)), limit-22), append([]transport.Token{r.FirstToken}, d.Tokens...))
	assert.Equal(t, limit, c.Resident())
}

func TestCancelMidFeed(t *testing.T) {
	c, f := newCore(t)
	p := toks(12, 1)
	ctx, cancel := context.WithCancel(context.Background())
	f.afterToken = func(held int) {
		if held == 5 {
			cancel()
		}
	}
	r, err := c.EnsurePrefix(ctx, transport.PrefixInput{Tokens: p})
	assert.ErrorIs(t, err, context.Canceled)
	assert.EqualError(t, err, "fake: EnsurePrefix: cancelled after 5 of 12 tokens: context canceled")
	assert.Equal(t, 5, r.ComputedTokens)
	assert.Equal(t, p[:5], c.Tokens(), "the cache holds exactly the tokens fed")
	assert.Equal(t, p[:5], f.held)
	_, err = c.LastLogits()
	assert.ErrorIs(t, err, transport.ErrNoLogits)

	// The session goes on: the rest of the prefix is computed.
	f.afterToken = nil
	bg := context.Background()
	r, err = c.EnsurePrefix(bg, transport.PrefixInput{Tokens: p})
	require.NoError(t, err)
	assert.Equal(t, 5, r.ReusedTokens)
	assert.Equal(t, 7, r.ComputedTokens)

	// A suffix cancelled half-way leaves no pending token.
	s := toks(4, 2)
	ctx, cancel = context.WithCancel(bg)
	f.afterToken = func(held int) {
		if held == 14 {
			cancel()
		}
	}
	sr, err := c.PrefillSuffix(ctx, transport.SuffixInput{Tokens: s})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 2, sr.SuffixTokens)
	assert.Equal(t, 14, c.Resident())
	_, err = c.Decode(bg, 1)
	assert.ErrorIs(t, err, transport.ErrNoPending)

	// Decode cancelled after 3 of 6 tokens keeps the last one pending and
	// continues with what an uncancelled Decode gives.
	f.afterToken = nil
	first, err := c.PrefillSuffix(bg, transport.SuffixInput{Tokens: s})
	require.NoError(t, err)
	want := greedy(cat(p, s), 6)
	assert.Equal(t, want[0], first.FirstToken)
	ctx, cancel = context.WithCancel(bg)
	f.afterToken = func(held int) {
		if held == 12+4+3 {
			cancel()
		}
	}
	d, err := c.Decode(ctx, 6)
	assert.ErrorIs(t, err, context.Canceled)
	assert.EqualError(t, err, "fake: Decode: cancelled after 3 of 6 tokens: context canceled")
	assert.Equal(t, want[1:4], d.Tokens)
	assert.Equal(t, 12+4+3, c.Resident())
	f.afterToken = nil
	d, err = c.Decode(bg, 3)
	require.NoError(t, err)
	assert.Equal(t, want[4:7], d.Tokens)

	// A context done before the call changes nothing.
	done, stop := context.WithCancel(bg)
	stop()
	_, err = c.EnsurePrefix(done, transport.PrefixInput{Tokens: toks(3, 9)})
	assert.ErrorIs(t, err, context.Canceled)
	_, err = c.PrefillSuffix(done, transport.SuffixInput{Tokens: s})
	assert.ErrorIs(t, err, context.Canceled)
	d, err = c.Decode(done, 2)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotNil(t, d.Tokens)
	assert.Empty(t, d.Tokens)
	assert.Equal(t, 12+4+6, c.Resident())
	d, err = c.Decode(bg, 1)
	require.NoError(t, err)
	assert.Equal(t, greedy(cat(p, s), 7)[7:], d.Tokens)
}

func TestEngineFailure(t *testing.T) {
	ctx := context.Background()
	c, f := newCore(t)
	p := toks(10, 1)
	f.failAt = 6
	r, err := c.EnsurePrefix(ctx, transport.PrefixInput{Tokens: p})
	assert.EqualError(t, err, "fake: EnsurePrefix: stopped after 6 of 10 tokens: fake: engine failure")
	assert.Equal(t, 6, r.ComputedTokens)
	assert.Equal(t, p[:6], c.Tokens())

	// A failure that clears the engine's cache empties the books.
	f.clearOnFail = true
	r, err = c.EnsurePrefix(ctx, transport.PrefixInput{Tokens: p})
	assert.Error(t, err)
	assert.Equal(t, 0, r.ComputedTokens)
	assert.Equal(t, 0, c.Resident())

	// Decode stopped by a failure keeps its pending token.
	f.failAt, f.clearOnFail = -1, false
	_, err = c.EnsurePrefix(ctx, transport.PrefixInput{Tokens: p})
	require.NoError(t, err)
	s := toks(2, 2)
	_, err = c.PrefillSuffix(ctx, transport.SuffixInput{Tokens: s})
	require.NoError(t, err)
	f.failAt = 14
	d, err := c.Decode(ctx, 5)
	assert.ErrorContains(t, err, "fake: Decode: stopped after 2 of 5 tokens")
	assert.Len(t, d.Tokens, 2)
	f.failAt = -1
	d, err = c.Decode(ctx, 3)
	require.NoError(t, err)
	assert.Equal(t, greedy(cat(p, s), 5)[3:], d.Tokens)

	// An engine that keeps less than asked: the books follow it.
	f.keepAtMost = 3
	r, err = c.EnsurePrefix(ctx, transport.PrefixInput{Tokens: p})
	require.NoError(t, err)
	assert.Equal(t, 3, r.ReusedTokens)
	assert.Equal(t, 7, r.ComputedTokens)
	assert.Equal(t, p, f.held)
	f.keepAtMost = -1

	// Missing logits are an error, not a panic.
	f.noLogits = true
	_, err = c.PrefillSuffix(ctx, transport.SuffixInput{Tokens: s})
	assert.EqualError(t, err, "fake: PrefillSuffix: the engine returned 0 logits, want 16")
	_, err = c.Decode(ctx, 1)
	assert.ErrorIs(t, err, transport.ErrNoPending)
}

func TestClosed(t *testing.T) {
	ctx := context.Background()
	c, f := newCore(t)
	_, err := c.EnsurePrefix(ctx, transport.PrefixInput{Tokens: toks(4, 1)})
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.NoError(t, c.Close())
	assert.Equal(t, 1, f.closes, "the engine is closed once")
	assert.Equal(t, f.begun, f.ended, "every call ended")
	_, err = c.EnsurePrefix(ctx, transport.PrefixInput{Tokens: toks(4, 1)})
	assert.ErrorIs(t, err, transport.ErrClosed)
	_, err = c.PrefillSuffix(ctx, transport.SuffixInput{Tokens: toks(1, 1)})
	assert.ErrorIs(t, err, transport.ErrClosed)
	_, err = c.PrefillSuffix(ctx, transport.SuffixInput{})
	assert.ErrorIs(t, err, transport.ErrClosed)
	_, err = c.Decode(ctx, 0)
	assert.ErrorIs(t, err, transport.ErrClosed)
	_, err = c.LastLogits()
	assert.ErrorIs(t, err, transport.ErrClosed)
	assert.Equal(t, 0, c.Resident())
	c.Locked(func(open bool) { assert.False(t, open) })

	// A closed backend (the engine's Begin) refuses every call too.
	c2, f2 := newCore(t)
	f2.closedBy = transport.ErrClosed
	_, err = c2.EnsurePrefix(ctx, transport.PrefixInput{Tokens: toks(4, 1)})
	assert.ErrorIs(t, err, transport.ErrClosed)
	_, err = c2.LastLogits()
	assert.ErrorIs(t, err, transport.ErrClosed)
}

func TestEmptySuffixAndBadInput(t *testing.T) {
	ctx := context.Background()
	c, f := newCore(t)
	p, s := toks(6, 1), toks(2, 2)
	_, err := c.EnsurePrefix(ctx, transport.PrefixInput{Tokens: p})
	require.NoError(t, err)
	first, err := c.PrefillSuffix(ctx, transport.SuffixInput{Tokens: s})
	require.NoError(t, err)

	_, err = c.PrefillSuffix(ctx, transport.SuffixInput{})
	assert.ErrorIs(t, err, transport.ErrEmptySuffix)
	_, err = c.PrefillSuffix(ctx, transport.SuffixInput{Tokens: []transport.Token{1, vocab}})
	assert.ErrorContains(t, err, "token 16 at index 1")
	_, err = c.EnsurePrefix(ctx, transport.PrefixInput{Tokens: []transport.Token{-1}})
	assert.ErrorContains(t, err, "token -1 at index 0")
	assert.Equal(t, cat(p, s), f.held, "bad input changes nothing")
	d, err := c.Decode(ctx, 2)
	require.NoError(t, err, "the pending token survives bad input")
	assert.Equal(t, greedy(cat(p, s), 2), append([]transport.Token{first.FirstToken}, d.Tokens...))
}

func TestDecodeEdges(t *testing.T) {
	ctx := context.Background()
	c, _ := newCore(t)
	d, err := c.Decode(ctx, 0)
	require.NoError(t, err, "Decode(0) needs no pending token")
	assert.NotNil(t, d.Tokens)
	assert.Empty(t, d.Tokens)
	_, err = c.Decode(ctx, 1)
	assert.ErrorIs(t, err, transport.ErrNoPending)
	assert.EqualError(t, err, "fake: Decode: no pending token (call PrefillSuffix first)")
	_, err = c.Decode(ctx, -1)
	assert.EqualError(t, err, "fake: Decode: negative token count -1")

	_, err = c.EnsurePrefix(ctx, transport.PrefixInput{Tokens: toks(4, 1)})
	require.NoError(t, err)
	_, err = c.Decode(ctx, 1)
	assert.ErrorIs(t, err, transport.ErrNoPending, "EnsurePrefix leaves no pending token")
	_, err = c.PrefillSuffix(ctx, transport.SuffixInput{Tokens: toks(1, 2)})
	require.NoError(t, err)
	_, err = c.EnsurePrefix(ctx, transport.PrefixInput{Tokens: toks(4, 1)})
	require.NoError(t, err)
	_, err = c.Decode(ctx, 1)
	assert.ErrorIs(t, err, transport.ErrNoPending, "EnsurePrefix drops the pending token")
}

func TestLockedRunsBetweenCalls(t *testing.T) {
	ctx := context.Background()
	c, f := newCore(t)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 100; i++ {
			c.Locked(func(open bool) { _ = len(f.held) })
			_ = c.Resident()
		}
	}()
	for i := 0; i < 20; i++ {
		_, err := c.EnsurePrefix(ctx, transport.PrefixInput{Tokens: toks(4+i%3, 1)})
		require.NoError(t, err)
		_, err = c.PrefillSuffix(ctx, transport.SuffixInput{Tokens: toks(2, i)})
		require.NoError(t, err)
		_, err = c.Decode(ctx, 2)
		require.NoError(t, err)
	}
	wg.Wait()
}
