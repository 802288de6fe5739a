package gokernel

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters/conformance"
	"github.com/fakbench/fakbench/gokernel/kernels"
	"github.com/fakbench/fakbench/models/modeltest"
	"github.com/fakbench/fakbench/transport"
)

func newTestSession(t testing.TB, m *Model) *Session {
	t.Helper()
	s, err := m.NewSession()
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// startTurn opens a session of m, ensures prefix and prefills suffix.
func startTurn(t *testing.T, m *Model, prefix, suffix []transport.Token) (*Session, transport.SuffixResult) {
	t.Helper()
	s := newTestSession(t, m)
	_, err := s.EnsurePrefix(context.Background(), transport.PrefixInput{Tokens: prefix})
	require.NoError(t, err)
	res, err := s.PrefillSuffix(context.Background(), transport.SuffixInput{Tokens: suffix})
	require.NoError(t, err)
	return s, res
}

// assertColdTurn asserts that a fresh session given prefix and suffix
// answers first and then, asked for steps tokens, decodes dec, as the
// session under test did (so a short dec fails too).
func assertColdTurn(t *testing.T, m *Model, prefix, suffix []transport.Token, first transport.Token, dec []transport.Token, steps int) {
	t.Helper()
	c, cfirst := startTurn(t, m, prefix, suffix)
	cdec, err := c.Decode(context.Background(), steps)
	require.NoError(t, err)
	assert.Equal(t, cfirst.FirstToken, first)
	assert.Equal(t, cdec.Tokens, dec)
}

// allLogits returns the logits of every position of toks, one position
// after the other, from the forward pass of a fresh session of m.
func allLogits(t *testing.T, m *Model, toks []transport.Token) []float32 {
	t.Helper()
	s := newTestSession(t, m)
	all := make([]float32, len(toks)*m.HP.Vocab)
	s.st.forward(toks, 0, headAll, all)
	return all
}

// coldLogits returns the last logits of a fresh session given toks.
func coldLogits(t *testing.T, m *Model, toks []transport.Token) []float32 {
	t.Helper()
	s := newTestSession(t, m)
	_, err := s.EnsurePrefix(context.Background(), transport.PrefixInput{Tokens: toks})
	require.NoError(t, err)
	l, err := s.LastLogits()
	require.NoError(t, err)
	return l
}

func TestPrefixReuse(t *testing.T) {
	ctx := context.Background()
	m := newTestModel(t, kernels.TypeF32, Options{Threads: 2, ChunkSize: 16})
	prefix := testTokens(60, m.HP.Vocab, 21)
	s := newTestSession(t, m)

	res, err := s.EnsurePrefix(ctx, transport.PrefixInput{Key: "a", Tokens: prefix})
	require.NoError(t, err)
	assert.Equal(t, 0, res.ReusedTokens)
	assert.Equal(t, 60, res.ComputedTokens)
	assert.Positive(t, res.Elapsed)

	// Warm: the same tokens compute nothing, even after a suffix and decode.
	_, err = s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: testTokens(5, m.HP.Vocab, 22)})
	require.NoError(t, err)
	_, err = s.Decode(ctx, 3)
	require.NoError(t, err)
	require.Equal(t, 60+5+3, s.Resident())
	res, err = s.EnsurePrefix(ctx, transport.PrefixInput{Key: "a", Tokens: prefix})
	require.NoError(t, err)
	assert.Equal(t, 60, res.ReusedTokens)
	assert.Equal(t, 0, res.ComputedTokens)
	assert.Equal(t, 60, s.Resident(), "suffix and decoded tokens are dropped")

	// An edit at position k recomputes from k on.
	const k = 23
	edited := append([]transport.Token(nil), prefix...)
	edited[k] = (edited[k] + 1) % transport.Token(m.HP.Vocab)
	res, err = s.EnsurePrefix(ctx, transport.PrefixInput{Key: "b", Tokens: edited})
	require.NoError(t, err)
	assert.Equal(t, k, res.ReusedTokens)
	assert.Equal(t, len(edited)-k, res.ComputedTokens)
	warm, err := s.LastLogits()
	require.NoError(t, err)
	cold := coldLogits(t, m, edited)
	for i := range cold {
		require.InDelta(t, cold[i], warm[i], 1e-5, "logit %d", i)
	}

	// The warm session's greedy continuation equals a cold one's.
	suffix := testTokens(4, m.HP.Vocab, 23)
	first, err := s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: suffix})
	require.NoError(t, err)
	dec, err := s.Decode(ctx, 6)
	require.NoError(t, err)
	assertColdTurn(t, m, edited, suffix, first.FirstToken, dec.Tokens, 6)

	// A shorter prefix that is a prefix of the resident one computes nothing
	// and has no logits for its last position until recomputed.
	res, err = s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: edited[:10]})
	require.NoError(t, err)
	assert.Equal(t, 10, res.ReusedTokens)
	assert.Equal(t, 0, res.ComputedTokens)
	_, err = s.LastLogits()
	assert.ErrorIs(t, err, transport.ErrNoLogits)
	assert.EqualError(t, err, "gokernel: LastLogits: no logits for the last resident position")
}

func TestPrefillSuffixAndDecode(t *testing.T) {
	ctx := context.Background()
	m := newTestModel(t, kernels.TypeF16, Options{Threads: 2})
	rm := newRefModel(m)
	prefix := testTokens(12, m.HP.Vocab, 31)
	suffix := testTokens(5, m.HP.Vocab, 32)
	s := newTestSession(t, m)

	_, err := s.Decode(ctx, 2)
	assert.ErrorIs(t, err, transport.ErrNoPending)
	assert.EqualError(t, err, "gokernel: Decode: no pending token (call PrefillSuffix first)")
	_, err = s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: prefix})
	require.NoError(t, err)
	_, err = s.PrefillSuffix(ctx, transport.SuffixInput{})
	assert.ErrorIs(t, err, transport.ErrEmptySuffix)

	res, err := s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: suffix})
	require.NoError(t, err)
	assert.Equal(t, len(suffix), res.SuffixTokens)
	assert.Positive(t, res.TTFT)
	assert.Equal(t, 17, s.Resident())

	// Greedy decoding follows the reference's arg-max step by step.
	seq := append(append([]transport.Token(nil), prefix...), suffix...)
	want := rm.Logits(seq)
	assert.Equal(t, modeltest.Argmax(want[len(seq)-1]), int(res.FirstToken))
	dec, err := s.Decode(ctx, 5)
	require.NoError(t, err)
	require.Len(t, dec.Tokens, 5)
	assert.Equal(t, 17+5, s.Resident(), "the last generated token stays pending")
	next := res.FirstToken
	for i := 0; i < 5; i++ {
		seq = append(seq, next)
		next = transport.Token(modeltest.Argmax(rm.Logits(seq)[len(seq)-1]))
		assert.Equal(t, next, dec.Tokens[i], "decode step %d", i)
	}

	// A second suffix replaces the first (and the decoded tokens).
	res2, err := s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: suffix})
	require.NoError(t, err)
	assert.Equal(t, res.FirstToken, res2.FirstToken)
	assert.Equal(t, 17, s.Resident())

	dec0, err := s.Decode(ctx, 0)
	require.NoError(t, err)
	assert.Empty(t, dec0.Tokens)
	_, err = s.Decode(ctx, -1)
	assert.Error(t, err)
}

func TestDecodeCancel(t *testing.T) {
	m := newTestModel(t, kernels.TypeQ8_0, Options{Threads: 2})
	prefix := testTokens(20, m.HP.Vocab, 41)
	suffix := testTokens(3, m.HP.Vocab, 42)
	ctx := context.Background()

	// The reference continuation from a fresh session.
	ref, _ := startTurn(t, m, prefix, suffix)
	full, err := ref.Decode(ctx, 40)
	require.NoError(t, err)

	t.Run("already cancelled", func(t *testing.T) {
		s, _ := startTurn(t, m, prefix, suffix)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		res, err := s.Decode(cctx, 10)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Empty(t, res.Tokens)
		assert.Equal(t, 23, s.Resident(), "nothing fed")
		rest, err := s.Decode(ctx, 5)
		require.NoError(t, err)
		assert.Equal(t, full.Tokens[:5], rest.Tokens)
	})

	t.Run("from another goroutine", func(t *testing.T) {
		s, _ := startTurn(t, m, prefix, suffix)
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		// The other goroutine cancels once Decode has made 7 tokens and
		// checks the context for the 8th; Decode must stop right there.
		sc := &signalCtx{Context: cctx, at: 8, reached: make(chan struct{})}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-sc.reached
			cancel()
		}()
		const n = 400
		start := time.Now()
		res, err := s.Decode(sc, n)
		took := time.Since(start)
		wg.Wait()
		require.ErrorIs(t, err, context.Canceled)
		assert.Len(t, res.Tokens, 7, "stops at the first check after the cancel")
		assert.Less(t, took, 5*time.Second)
		assert.Equal(t, 23+7, s.Resident(), "the cache holds exactly the tokens fed")
		assert.Equal(t, full.Tokens[:7], res.Tokens)

		// The session goes on exactly where it stopped ...
		k := len(res.Tokens)
		if k < len(full.Tokens) {
			rest, err := s.Decode(ctx, len(full.Tokens)-k)
			require.NoError(t, err)
			assert.Equal(t, full.Tokens[k:], rest.Tokens)
		}
		// ... and a new turn gives what a fresh session gives.
		_, err = s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: suffix})
		require.NoError(t, err)
		again, err := s.Decode(ctx, 10)
		require.NoError(t, err)
		assert.Equal(t, full.Tokens[:10], again.Tokens)
	})

	t.Run("after a few tokens", func(t *testing.T) {
		s, _ := startTurn(t, m, prefix, suffix)
		cc := &countingCtx{Context: ctx, after: 4}
		res, err := s.Decode(cc, 30)
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, full.Tokens[:4], res.Tokens)
		rest, err := s.Decode(ctx, 6)
		require.NoError(t, err)
		assert.Equal(t, full.Tokens[4:10], rest.Tokens)
	})
}

// signalCtx, on the at-th Err call, signals reached and waits until another
// goroutine cancels the wrapped context.
type signalCtx struct {
	context.Context
	at      int
	calls   int
	reached chan struct{}
}

func (c *signalCtx) Err() error {
	c.calls++
	if c.calls == c.at {
		close(c.reached)
		<-c.Context.Done()
	}
	return c.Context.Err()
}

// countingCtx reports cancellation from the (after+1)-th Err call on.
type countingCtx struct {
	context.Context
	after int
	calls int
}

func (c *countingCtx) Err() error {
	c.calls++
	if c.calls > c.after {
		return context.Canceled
	}
	return nil
}

func TestPrefillCancelKeepsConsistentCache(t *testing.T) {
	ctx := context.Background()
	m := newTestModel(t, kernels.TypeF32, Options{Threads: 1, ChunkSize: 8})
	toks := testTokens(40, m.HP.Vocab, 51)
	s := newTestSession(t, m)
	cc := &countingCtx{Context: ctx, after: 2}
	res, err := s.EnsurePrefix(cc, transport.PrefixInput{Tokens: toks})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 16, res.ComputedTokens)
	assert.Equal(t, 16, s.Resident())
	// Finishing later reuses the 16 computed tokens and equals a cold run.
	res, err = s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: toks})
	require.NoError(t, err)
	assert.Equal(t, 16, res.ReusedTokens)
	assert.Equal(t, 24, res.ComputedTokens)
	warm, err := s.LastLogits()
	require.NoError(t, err)
	assert.InDeltaSlice(t, coldLogits(t, m, toks), warm, 1e-5)
}

func TestOverContextLeavesSessionUntouched(t *testing.T) {
	ctx := context.Background()
	m := newTestModel(t, kernels.TypeF32, Options{Threads: 1, ContextLength: 32})
	require.Equal(t, 32, m.ContextLength())
	prefix := testTokens(20, m.HP.Vocab, 61)
	suffix := testTokens(6, m.HP.Vocab, 62)
	s, first := startTurn(t, m, prefix, suffix)
	before, err := s.LastLogits()
	require.NoError(t, err)

	check := func(err error, op string, resident, requested int) {
		t.Helper()
		var oc *transport.OverContextError
		require.ErrorAs(t, err, &oc)
		assert.Equal(t, op, oc.Op)
		assert.Equal(t, resident, oc.Resident)
		assert.Equal(t, requested, oc.Requested)
		assert.Equal(t, 32, oc.Limit)
		assert.Equal(t, 26, s.Resident())
		after, err := s.LastLogits()
		require.NoError(t, err)
		assert.Equal(t, before, after)
	}
	_, err = s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: append(append([]transport.Token(nil), prefix...), testTokens(13, m.HP.Vocab, 63)...)})
	check(err, "EnsurePrefix", 20, 13)
	_, err = s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: testTokens(13, m.HP.Vocab, 64)})
	check(err, "PrefillSuffix", 20, 13)
	_, err = s.Decode(ctx, 7)
	check(err, "Decode", 26, 7)

	// Out-of-vocabulary tokens are refused the same way.
	_, err = s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: []transport.Token{1, 512}})
	assert.ErrorContains(t, err, "token 512 at index 1")
	_, err = s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: []transport.Token{-1}})
	assert.ErrorContains(t, err, "token -1 at index 0")
	assert.Equal(t, 26, s.Resident())

	// The session still decodes what it would have: 6 positions remain.
	dec, err := s.Decode(ctx, 6)
	require.NoError(t, err)
	assertColdTurn(t, m, prefix, suffix, first.FirstToken, dec.Tokens, 6)
	assert.Equal(t, 32, s.Resident())
	_, err = s.Decode(ctx, 1)
	assert.True(t, transport.IsOverContext(err))
}

func TestSessionClose(t *testing.T) {
	ctx := context.Background()
	m := newTestModel(t, kernels.TypeF32, Options{Threads: 1})
	s, err := m.NewSession()
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "idempotent")
	conformance.AssertClosed(t, s)

	// A session left open fails cleanly once its model is closed.
	s2, err := m.NewSession()
	require.NoError(t, err)
	require.NoError(t, m.Close())
	_, err = s2.EnsurePrefix(ctx, transport.PrefixInput{Tokens: []transport.Token{1}})
	assert.True(t, errors.Is(err, transport.ErrClosed))
	_, err = m.NewSession()
	assert.ErrorIs(t, err, transport.ErrClosed)
	require.NoError(t, m.Close(), "idempotent")
}

func TestDecodeAllocatesNothingPerToken(t *testing.T) {
	ctx := context.Background()
	m := newTestModel(t, kernels.TypeQ8_0, Options{Threads: 2})
	s := newTestSession(t, m)
	_, err := s.EnsurePrefix(ctx, transport.PrefixInput{Tokens: testTokens(8, m.HP.Vocab, 101)})
	require.NoError(t, err)
	run := func(n int) float64 {
		return testing.AllocsPerRun(5, func() {
			_, err := s.PrefillSuffix(ctx, transport.SuffixInput{Tokens: []transport.Token{3}})
			require.NoError(t, err)
			_, err = s.Decode(ctx, n)
			require.NoError(t, err)
		})
	}
	one, many := run(1), run(33)
	t.Logf("allocations per turn: %v decoding 1 token, %v decoding 33", one, many)
	// The result slice is one allocation per call whatever n is; the
	// forward pass itself allocates nothing. One allocation per token would
	// add 32; a slack of 3 absorbs the runtime's own wobble (the batched
	// twin of this check wobbled by 3 under -race in CI).
	assert.LessOrEqual(t, many, one+3, "no allocation per decoded token")
}
