package harness

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/report"
)

func TestTokenAt(t *testing.T) {
	bounds := []int64{100, 110, 120, 130} // tokens 0..2: (100,110], (110,120], (120,130]
	for at, want := range map[int64]int{101: 0, 110: 0, 111: 1, 120: 1, 125: 2, 130: 2} {
		i, ok := tokenAt(bounds, at)
		require.True(t, ok, "at %d", at)
		assert.Equal(t, want, i, "at %d", at)
	}
	for _, at := range []int64{100, 99, 131} {
		_, ok := tokenAt(bounds, at)
		assert.False(t, ok, "at %d is outside every token", at)
	}
	_, ok := tokenAt([]int64{5}, 5)
	assert.False(t, ok, "no tokens")
}

// Two repetitions of ten 1 ms tokens; repetition 1's token 4 took 9 ms
// and a GC cycle ended in it, repetition 0's token 7 held a GC cycle but
// was not slow, and repetition 0's token 2 was slow without one.
func TestAnalyzeTokensFindsOutliersAndGCCycles(t *testing.T) {
	itl := [][]float64{make([]float64, 10), make([]float64, 10)}
	for r := range itl {
		for i := range itl[r] {
			itl[r][i] = 1 + 0.01*float64(i)
		}
	}
	itl[1][4], itl[0][2] = 9, 7
	bounds := make([][]int64, 2)
	for r := range itl {
		at := int64(1_000_000_000 * (r + 1))
		bounds[r] = append(bounds[r], at)
		for _, v := range itl[r] {
			at += int64(v * 1e6)
			bounds[r] = append(bounds[r], at)
		}
	}
	gcs := [][]gcCycle{
		{{end: bounds[0][7] + 10, pause: 50 * time.Microsecond}}, // in token 7
		{{end: bounds[1][4] + 5, pause: 300 * time.Microsecond}, // in token 4
			{end: bounds[1][0] - 1, pause: time.Microsecond}}, // before the decode began
	}
	events, outliers, above := analyzeTokens(itl, bounds, gcs)
	assert.Greater(t, above, 1.1)
	assert.Less(t, above, 7.0)
	require.Len(t, events, 2)
	assert.Equal(t, report.TokenEvent{Rep: 0, Token: 7, MS: 1.07, GCCycles: 1, GCPauseMS: 0.05}, events[0])
	assert.Equal(t, report.TokenEvent{Rep: 1, Token: 4, MS: 9, GCCycles: 1, GCPauseMS: 0.3}, events[1])
	require.Len(t, outliers, 2)
	assert.Equal(t, 0, outliers[0].GCCycles, "repetition 0's slow token held no GC cycle")
	assert.Equal(t, 2, outliers[0].Token)
	assert.Equal(t, 1, outliers[1].GCCycles, "repetition 1's slow token held one")

	g := &report.GoRuntime{Decode: report.GCPhase{GCCycles: 3, GCPauseTotalMS: 0.351, GCPauseMaxMS: 0.3, HeapAllocBytes: 2000},
		GCTokens: events, Outliers: outliers, OutliersWithGC: 1, OutlierAbove: above}
	v := goVerdict(g, itl)
	assert.Contains(t, v, "3 GC cycle(s) ended during the 20 kept decode tokens")
	assert.Contains(t, v, "2 token(s) held a cycle's end")
	assert.Contains(t, v, "1 of 2 outlier(s)")
	assert.Contains(t, v, "the collector shows in the tail")
	assert.Contains(t, v, "1 cycle(s) ended outside every token's span")

	g.Decode.GCCycles, g.GCTokens, g.OutliersWithGC = 0, nil, 0
	assert.Contains(t, goVerdict(g, itl), "no GC cycle ended during the 20 kept decode tokens")

	none, _, above := analyzeTokens(nil, nil, nil)
	assert.Empty(t, none)
	assert.Zero(t, above)
	assert.Equal(t, "no decode tokens were kept", goVerdict(&report.GoRuntime{}, nil))
}

func TestParseProcStatus(t *testing.T) {
	status := "Name:\tfakbench\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nRssAnon:\t   51200 kB\nRssFile:\t   40960 kB\nThreads:\t4\n"
	m, err := ParseProcStatus("status", []byte(status))
	require.NoError(t, err)
	assert.Equal(t, ProcMem{RSS: 100 << 20, Anon: 50 << 20, File: 40 << 20, Peak: 200 << 20}, m)
	assert.Equal(t, 100.0, MiB(m.RSS))

	_, err = ParseProcStatus("/proc/x/status", []byte("Name:\tx\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/proc/x/status: no VmRSS line")
	_, err = ParseProcStatus("/proc/x/status", []byte("VmRSS:\t12 MB\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `/proc/x/status: line "VmRSS:\t12 MB"`)
	_, err = ParseProcStatus("/proc/x/status", []byte("VmRSS:\tlots kB\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"lots" is not a size in kB`)

	// This process's own status file reads (Linux).
	m, err = ReadProcMem()
	require.NoError(t, err)
	assert.Positive(t, m.RSS)
	assert.Positive(t, m.Anon)
}
