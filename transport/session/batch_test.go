package session

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/transport"
)

func TestCheckBatchAcceptsAndReturnsLongest(t *testing.T) {
	longest, err := CheckBatch(context.Background(), "fake", [][]transport.Token{{1, 2}, {3, 4, 5}, {6}}, 4, vocab, limit)
	require.NoError(t, err)
	assert.Equal(t, 3, longest)
	// The longest prompt plus steps may fill the context exactly.
	longest, err = CheckBatch(context.Background(), "fake", [][]transport.Token{make([]transport.Token, limit-4)}, 4, vocab, limit)
	require.NoError(t, err)
	assert.Equal(t, limit-4, longest)
}

func TestCheckBatchRefuses(t *testing.T) {
	ctx := context.Background()
	_, err := CheckBatch(ctx, "fake", nil, 4, vocab, limit)
	assert.EqualError(t, err, "fake: DecodeBatch: no prompts")

	_, err = CheckBatch(ctx, "fake", [][]transport.Token{{1}}, -1, vocab, limit)
	assert.EqualError(t, err, "fake: DecodeBatch: negative steps -1")

	_, err = CheckBatch(ctx, "fake", [][]transport.Token{{1}, {}}, 4, vocab, limit)
	require.ErrorIs(t, err, transport.ErrEmptySuffix)
	assert.Contains(t, err.Error(), "fake: DecodeBatch: prompt 1: ")

	_, err = CheckBatch(ctx, "fake", [][]transport.Token{{1}, {2, vocab}}, 4, vocab, limit)
	assert.EqualError(t, err, "fake: DecodeBatch prompt 1: token 16 at index 1 is outside the vocabulary [0, 16)", "the backend is named, as in every other refusal")

	_, err = CheckBatch(ctx, "fake", [][]transport.Token{{1}, make([]transport.Token, limit-3)}, 4, vocab, limit)
	oc, ok := errors.AsType[*transport.OverContextError](err)
	require.True(t, ok, "got %v", err)
	assert.Equal(t, transport.OverContextError{Op: "DecodeBatch prompt 1", Resident: limit - 3, Requested: 4, Limit: limit}, *oc)
	// The longest prompt is named, wherever it is.
	_, err = CheckBatch(ctx, "fake", [][]transport.Token{make([]transport.Token, limit-2), {1}, make([]transport.Token, limit-1)}, 3, vocab, limit)
	assert.EqualError(t, err, fmt.Sprintf("DecodeBatch prompt 2: over context: %d resident + 3 requested = %d positions > context size %d", limit-1, limit+2, limit))

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = CheckBatch(cctx, "fake", [][]transport.Token{{1}}, 4, vocab, limit)
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "fake: DecodeBatch: ")
}

func TestDecodeStepsAppendsEachStep(t *testing.T) {
	res := transport.BatchResult{Tokens: make([][]transport.Token, 2)}
	var seen []int
	err := DecodeSteps(context.Background(), "fake", &res, 3, func(step int) ([]transport.Token, error) {
		seen = append(seen, step)
		time.Sleep(time.Millisecond)
		return []transport.Token{transport.Token(10 + step), transport.Token(20 + step)}, nil
	})
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1, 2}, seen)
	assert.Equal(t, [][]transport.Token{{10, 11, 12}, {20, 21, 22}}, res.Tokens)
	assert.GreaterOrEqual(t, res.DecodeElapsed, 3*time.Millisecond, "the time of the steps")
}

func TestDecodeStepsNoSteps(t *testing.T) {
	res := transport.BatchResult{Tokens: make([][]transport.Token, 2)}
	err := DecodeSteps(context.Background(), "fake", &res, 0, func(int) ([]transport.Token, error) {
		t.Fatal("no step may run")
		return nil, nil
	})
	require.NoError(t, err)
	assert.Equal(t, [][]transport.Token{{}, {}}, res.Tokens)
}

func TestDecodeStepsStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	res := transport.BatchResult{Tokens: make([][]transport.Token, 1)}
	err := DecodeSteps(ctx, "fake", &res, 5, func(step int) ([]transport.Token, error) {
		if step == 1 {
			cancel()
		}
		time.Sleep(time.Millisecond)
		return []transport.Token{transport.Token(step)}, nil
	})
	require.ErrorIs(t, err, context.Canceled)
	assert.EqualError(t, err, "fake: DecodeBatch: cancelled after 2 of 5 steps: context canceled")
	assert.Equal(t, [][]transport.Token{{0, 1}}, res.Tokens, "the steps done are kept")
	assert.GreaterOrEqual(t, res.DecodeElapsed, 2*time.Millisecond, "the time of the steps done")
}

func TestDecodeStepsStepFails(t *testing.T) {
	boom := errors.New("boom")
	res := transport.BatchResult{Tokens: make([][]transport.Token, 1)}
	err := DecodeSteps(context.Background(), "fake", &res, 5, func(step int) ([]transport.Token, error) {
		time.Sleep(time.Millisecond)
		if step == 2 {
			return nil, boom
		}
		return []transport.Token{7}, nil
	})
	require.ErrorIs(t, err, boom)
	assert.EqualError(t, err, "fake: DecodeBatch: step 2: boom")
	assert.Equal(t, [][]transport.Token{{7, 7}}, res.Tokens)
	assert.GreaterOrEqual(t, res.DecodeElapsed, 3*time.Millisecond, "the time up to the failed step")

	res = transport.BatchResult{Tokens: make([][]transport.Token, 2)}
	err = DecodeSteps(context.Background(), "fake", &res, 2, func(int) ([]transport.Token, error) {
		return []transport.Token{1}, nil
	})
	assert.EqualError(t, err, "fake: DecodeBatch: step 0 gave 1 tokens for 2 sequences")
}

func TestGreedy(t *testing.T) {
	assert.Equal(t, transport.Token(2), Greedy([]float32{-1, 0.5, 3, 2.9}))
	assert.Equal(t, transport.Token(1), Greedy([]float32{-5, 7, 7, -2}), "a tie goes to the lowest id")
	assert.Equal(t, transport.Token(3), Greedy([]float32{-4, -3, -2, -1}), "all negative")
	assert.Equal(t, transport.Token(0), Greedy([]float32{1}))
	assert.Equal(t, transport.Token(0), Greedy(nil))
}
