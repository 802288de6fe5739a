package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fakeClock(r *Reporter, start time.Time, step time.Duration) {
	t := start
	r.start = t
	r.now = func() time.Time { t = t.Add(step); return t }
}

func TestAutoIsLinesWhenNotATerminal(t *testing.T) {
	var b bytes.Buffer
	r := New(&b, Auto, "gokernel", 4)
	assert.Equal(t, Lines, r.mode)
	assert.False(t, IsTerminal(&b))
}

func TestLinesShowCountsAndETA(t *testing.T) {
	var b bytes.Buffer
	r := New(&b, Lines, "gokernel", 4)
	fakeClock(r, time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC), 10*time.Second)
	f := r.Func()
	f("cold_full_prefill", 0, 4)
	f("warm_same_prefix", 2, 4)
	r.Done()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 3)
	assert.Contains(t, lines[0], "gokernel: cold_full_prefill (0/4")
	assert.NotContains(t, lines[0], "ETA", "no ETA before any step finished")
	// Two of four steps took 20s of clock: 20s more expected.
	assert.Contains(t, lines[1], "(2/4, 20s elapsed, ETA 20s)")
	assert.Contains(t, lines[2], "gokernel: done in")
}

func TestQuietPrintsNothing(t *testing.T) {
	var b bytes.Buffer
	r := New(&b, Quiet, "x", 3)
	r.Func()("a", 1, 3)
	r.Done()
	assert.Empty(t, b.String())
}

func TestBarWritesAndNilReporterIsSafe(t *testing.T) {
	var b bytes.Buffer
	r := New(&b, Bar, "model gen", 2)
	r.Step("tensors", 1)
	r.Done()
	assert.NotEmpty(t, b.String())
	var nilR *Reporter
	nilR.Step("x", 1)
	nilR.Func()("x", 1, 2)
	nilR.Done()
}
