package harness_test

import (
	"context"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters/conformance/fake"
	"github.com/fakbench/fakbench/harness"
	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/transport"
)

// gcBackend wraps a backend so that every gcEvery-th Decode call of a
// session runs a garbage collection inside the call, and, with short, a
// Decode returns no tokens.
type gcBackend struct {
	transport.Backend
	gcEvery int
	short   bool
}

func (b gcBackend) NewSession(ctx context.Context) (transport.Session, error) {
	s, err := b.Backend.NewSession(ctx)
	if err != nil {
		return nil, err
	}
	return &gcSession{Session: s, b: b}, nil
}

type gcSession struct {
	transport.Session
	b     gcBackend
	calls int
}

func (s *gcSession) Decode(ctx context.Context, n int) (transport.DecodeResult, error) {
	s.calls++
	if s.b.gcEvery > 0 && s.calls%s.b.gcEvery == 0 {
		runtime.GC()
	}
	if s.b.short {
		return transport.DecodeResult{Tokens: []transport.Token{}}, nil
	}
	return s.Session.Decode(ctx, n)
}

func TestDecodeKeepsEveryInterTokenLatency(t *testing.T) {
	b := fake.New(fake.Config{TokenCost: 20 * time.Microsecond})
	rep, err := harness.Run(context.Background(), b, shortScenario(t), harness.Config{Short: true, Reps: 2})
	require.NoError(t, err)
	d := rep.Decode
	require.Len(t, d.InterTokenSamplesMS, 2, "one list per kept repetition")
	require.Len(t, d.SamplesTPS, 2)
	for i, itl := range d.InterTokenSamplesMS {
		require.Len(t, itl, 16, "one latency per decoded token")
		var sum float64
		for _, v := range itl {
			assert.Positive(t, v)
			sum += v
		}
		// The repetition's rate is its tokens over the sum of their latencies.
		assert.InEpsilon(t, 16/(sum/1000), d.SamplesTPS[i], 1e-6)
	}
	require.NotNil(t, d.InterTokenMS)
	assert.Equal(t, 32, d.InterTokenMS.N)
	assert.Positive(t, d.InterTokenMS.P50)
	assert.Positive(t, d.InterTokenMS.P90)
	assert.Equal(t, []string{"p99: 32 samples, needs 100"}, d.InterTokenMS.Withheld)
	assert.Equal(t, slices.Max(report.Pooled(d.InterTokenSamplesMS)), d.InterTokenMS.Max)

	// TTFT percentiles across 2 repetitions: a median, the rest withheld.
	c := rep.ColdFullPrefill.TTFTPercentilesMS
	require.NotNil(t, c)
	assert.Equal(t, 2, c.N)
	assert.InDelta(t, report.Median(rep.ColdFullPrefill.TTFTSamplesMS), c.P50, 1e-9)
	assert.Contains(t, c.Withheld, "p90: 2 samples, needs 10")
	for _, d := range []*report.Dist{rep.WarmSamePrefix.TTFTPercentilesMS, rep.WarmChangedSuffix.TTFTPercentilesMS, rep.EditedStable.TTFTPercentilesMS} {
		require.NotNil(t, d)
		assert.Equal(t, 2, d.N)
	}

	// Memory per phase, from this process; the Go runtime only when asked.
	m := rep.Memory
	require.NotNil(t, m)
	assert.Positive(t, m.RSSAfterLoadMB)
	assert.Positive(t, m.RSSAfterPrefillMB)
	assert.Positive(t, m.RSSEndOfDecodeMB)
	assert.Positive(t, m.AnonBeforeSessionMB)
	assert.Equal(t, 128+16+16, m.Positions)
	assert.Contains(t, m.Source, "/proc/self/status")
	assert.Nil(t, m.KV, "the harness does not know the model's shape")
	assert.Nil(t, rep.GoRuntime)
}

// A garbage collection inside every fifth Decode call shows up in the Go
// runtime's facts: the cycles, their pauses, and the very tokens they
// ended in.
func TestGoRuntimeFactsFindTheGCInTheTokens(t *testing.T) {
	b := gcBackend{Backend: fake.New(fake.Config{TokenCost: 20 * time.Microsecond}), gcEvery: 5}
	rep, err := harness.Run(context.Background(), b, shortScenario(t), harness.Config{Short: true, Reps: 2, GoRuntime: true})
	require.NoError(t, err)
	g := rep.GoRuntime
	require.NotNil(t, g)

	assert.Equal(t, runtime.Version(), g.GoVersion)
	assert.Equal(t, runtime.GOMAXPROCS(0), g.GOMAXPROCS)
	assert.NotEmpty(t, g.GOGC)
	assert.NotEmpty(t, g.GOMEMLIMIT)
	if v, ok := os.LookupEnv("GOGC"); ok {
		assert.Equal(t, v, g.GOGCEnv)
	} else {
		assert.Equal(t, "(unset)", g.GOGCEnv)
	}
	assert.Contains(t, g.Source, "runtime/metrics")

	// The decode section's session made its 16 Decode(1) calls per
	// repetition, the warm-up first: calls 20, 25, 30 are the first kept
	// repetition's tokens 3, 8, 13; calls 35, 40, 45 the second's 2, 7, 12.
	assert.Equal(t, 2, g.Decode.Repetitions)
	assert.Equal(t, 32, g.Decode.Tokens)
	assert.GreaterOrEqual(t, g.Decode.GCCycles, uint64(6))
	assert.Positive(t, g.Decode.GCPauseTotalMS)
	assert.Positive(t, g.Decode.GCPauseMaxMS)
	assert.LessOrEqual(t, g.Decode.GCPauseMaxMS, g.Decode.GCPauseTotalMS)
	held := map[[2]int]bool{}
	for _, e := range g.GCTokens {
		held[[2]int{e.Rep, e.Token}] = true
		assert.Positive(t, e.GCCycles)
		assert.Equal(t, rep.Decode.InterTokenSamplesMS[e.Rep][e.Token], e.MS)
	}
	for _, want := range [][2]int{{0, 3}, {0, 8}, {0, 13}, {1, 2}, {1, 7}, {1, 12}} {
		assert.True(t, held[want], "a GC cycle ended in repetition %d's token %d", want[0], want[1])
	}
	assert.Positive(t, g.OutlierAbove)
	assert.Equal(t, harness.OutlierRule, g.OutlierRule)
	assert.Contains(t, g.Verdict, "GC cycle(s) ended during the 32 kept decode tokens")

	// The prefill phase: each kept cold repetition's prefix and suffix.
	assert.Equal(t, 2, g.Prefill.Repetitions)
	assert.Equal(t, 2*(128+16), g.Prefill.Tokens)
	assert.Equal(t, 1, g.SessionOpen.Repetitions)
	assert.Positive(t, g.SessionOpen.HeapAllocBytes, "a session is allocated on the Go heap")
}

func TestDecodeRefusesACallThatReturnsNoToken(t *testing.T) {
	b := gcBackend{Backend: fake.New(fake.Config{}), short: true}
	rep, err := harness.Run(context.Background(), b, shortScenario(t), harness.Config{Short: true, Reps: 1})
	require.NoError(t, err)
	assert.Equal(t, report.StatusFailed, rep.Status)
	assert.Contains(t, rep.NotRun["decode"], "Decode(1) for token 1 of 16 returned 0 tokens")
	assert.Nil(t, rep.Decode.InterTokenMS)
}
