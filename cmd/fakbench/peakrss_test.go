package main

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/bench"
	"github.com/fakbench/fakbench/harness"
	"github.com/fakbench/fakbench/report"
)

// ballastMiB is memory the test process makes resident before it starts a
// row: far more than a row of the tiny model needs.
const ballastMiB = 512

// ballast allocates ballastMiB and touches every page of it, so that it is
// resident, and checks that the process's peak now holds it.
func ballast(t *testing.T) []byte {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("peak resident memory is read from /proc (Linux)")
	}
	buf := make([]byte, ballastMiB<<20)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	pm, err := harness.ReadProcMem()
	require.NoError(t, err)
	require.GreaterOrEqual(t, harness.MiB(pm.Peak), float64(ballastMiB), "the ballast is resident")
	return buf
}

// tinyRow runs the gokernel row of the tiny model with the given isolation
// and returns its report.
func tinyRow(t *testing.T, isolation string) *report.Report {
	t.Helper()
	out := t.TempDir()
	cliOK(t, "run", "--backends", "gokernel", "--model", "synthetic:tiny", "--short", "--threads", "1",
		"--reps", "1", "--membw", "-1", "--quiet", "--isolation", isolation, "--out", out)
	rows := readRows(t, out)
	require.Contains(t, rows, "gokernel")
	row := rows["gokernel"]
	require.Equal(t, report.StatusOK, row.Status, row.Notes)
	require.Equal(t, isolation, row.Isolation)
	return row
}

// samePeak checks that a row's peak is the peak of the process whose
// phases its memory section read: at least the resident set of each.
func samePeak(t *testing.T, row *report.Report) {
	t.Helper()
	require.NotNil(t, row.Memory)
	require.Positive(t, row.PeakRSSMB)
	t.Logf("%s: peak %.1f MiB; RSS after load %.1f, after prefill %.1f, end of decode %.1f MiB", row.Isolation, row.PeakRSSMB,
		row.Memory.RSSAfterLoadMB, row.Memory.RSSAfterPrefillMB, row.Memory.RSSEndOfDecodeMB)
	for _, rss := range []float64{row.Memory.RSSAfterLoadMB, row.Memory.RSSAfterPrefillMB, row.Memory.RSSEndOfDecodeMB} {
		assert.GreaterOrEqual(t, row.PeakRSSMB, rss, "the peak covers every phase of the row")
	}
}

// An isolated row's peak_rss_mb is its child's own: the memory its parent
// holds when it starts the row is not in it. (Linux hands a parent's peak
// to the child it starts through getrusage's ru_maxrss, which is how this
// went wrong: every row showed the parent's peak.)
func TestIsolatedRowPeakRSSIsTheChilds(t *testing.T) {
	buf := ballast(t)
	row := tinyRow(t, bench.IsolationProcess)
	runtime.KeepAlive(buf)
	samePeak(t, row)
	assert.Less(t, row.PeakRSSMB, float64(ballastMiB),
		"the row's peak holds none of the %d MiB its parent kept resident", ballastMiB)
}

// In one process a row's peak starts when the row's backend opens, after
// the Go heap's free memory went back to the operating system: memory the
// process freed before (an earlier row's, the bandwidth measurement's) is
// not in it.
func TestInProcessRowPeakRSSStartsAtItsOpen(t *testing.T) {
	ballast(t) // garbage from here on
	row := tinyRow(t, bench.IsolationInProcess)
	samePeak(t, row)
	assert.Less(t, row.PeakRSSMB, float64(ballastMiB),
		"the row's peak holds none of the %d MiB freed before it started", ballastMiB)
}
