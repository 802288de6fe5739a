package harness

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/transport"
)

func TestInterleaveRotatesOneStepAtATime(t *testing.T) {
	var mu sync.Mutex
	var log []string
	var running atomic.Int32
	var overlap atomic.Bool
	step := func(name string) {
		if running.Add(1) != 1 {
			overlap.Store(true)
		}
		mu.Lock()
		log = append(log, name)
		mu.Unlock()
		running.Add(-1)
	}
	// a and b take three steps, c one: c leaves after the first round.
	mk := func(name string, steps int) func(func()) {
		return func(yield func()) {
			for i := range steps {
				if i > 0 {
					yield()
				}
				step(name)
			}
		}
	}
	sched, errs := Interleave([]func(func()){mk("a", 3), mk("b", 3), mk("c", 1)})
	require.Len(t, errs, 3)
	for _, err := range errs {
		assert.NoError(t, err)
	}
	assert.False(t, overlap.Load(), "two functions ran at once")
	// Round 0: a b c; round 1 (two left, rotated by 1): b a; round 2: a b.
	assert.Equal(t, []string{"a", "b", "c", "b", "a", "a", "b"}, log)
	assert.Equal(t, ScheduleInterleaved, sched.Mode)
	assert.Equal(t, 3, sched.Rows)
	assert.Equal(t, 3, sched.Rounds)
	assert.Equal(t, 7, sched.Steps)
	assert.Equal(t, [][]int{{0, 1, 2}, {1, 0}, {0, 1}}, sched.FirstRounds)
}

func TestInterleaveSurvivesAPanic(t *testing.T) {
	var done atomic.Int32
	ok := func(yield func()) {
		yield()
		done.Add(1)
	}
	bad := func(yield func()) {
		yield()
		panic("native crash")
	}
	_, errs := Interleave([]func(func()){ok, bad, ok})
	assert.NoError(t, errs[0])
	require.Error(t, errs[1])
	assert.Contains(t, errs[1].Error(), "panicked: native crash")
	assert.NoError(t, errs[2])
	assert.Equal(t, int32(2), done.Load(), "the other runs finish")
}

func TestInterleaveNothing(t *testing.T) {
	sched, errs := Interleave(nil)
	assert.Empty(t, errs)
	assert.Equal(t, 0, sched.Steps)
}

// quiet is a backend stub that counts Quiesce calls (the rest of the
// contract is never called by yield).
type quiet struct {
	transport.Backend
	n int
}

func (q *quiet) Quiesce() { q.n++ }

func TestYieldQuiescesTheBackend(t *testing.T) {
	q := &quiet{}
	yields := 0
	r := &runner{b: q, cfg: Config{Yield: func() { yields++ }}}
	r.yield()
	r.repYield(0) // the first repetition follows the section's yield
	r.repYield(1)
	assert.Equal(t, 2, yields)
	assert.Equal(t, 2, q.n, "the backend is quiesced before every hand-over")
	// Without interleaving nothing is quiesced.
	r = &runner{b: q, cfg: Config{}}
	r.yield()
	assert.Equal(t, 2, q.n)
}
