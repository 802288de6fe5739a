package bench

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/harness"
	"github.com/fakbench/fakbench/report"
)

// The peak starts at the present resident set: memory freed before is not
// in it, and a row's report gets the peak since then, or a note saying why
// not when the reset failed in a process that ran other things before.
func TestPeakRSSStartsNow(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("peak resident memory is read from /proc (Linux)")
	}
	func() { // 256 MiB made resident, garbage on return
		b := make([]byte, 256<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
	}()
	before, err := harness.ReadProcMem()
	require.NoError(t, err)
	require.GreaterOrEqual(t, before.Peak, int64(256<<20))
	require.NoError(t, startPeakRSS())
	after, err := harness.ReadProcMem()
	require.NoError(t, err)
	assert.Less(t, after.Peak, before.Peak-200<<20, "the freed 256 MiB are neither resident nor in the peak")

	rep := &report.Report{}
	setPeakRSS(rep, nil, false)
	assert.Positive(t, rep.PeakRSSMB)
	assert.Less(t, rep.PeakRSSMB, harness.MiB(before.Peak))
	assert.Empty(t, rep.Notes)

	failed := errors.New("the peak resident set could not be reset: open /proc/self/clear_refs: permission denied")
	rep = &report.Report{}
	setPeakRSS(rep, failed, false)
	assert.Zero(t, rep.PeakRSSMB, "a peak that may hold what ran before the row is not recorded")
	require.Len(t, rep.Notes, 1)
	assert.True(t, strings.HasPrefix(rep.Notes[0], "peak_rss_mb not recorded: the peak resident set could not be reset: open /proc/self/clear_refs"), rep.Notes[0])

	rep = &report.Report{}
	setPeakRSS(rep, failed, true)
	assert.Positive(t, rep.PeakRSSMB, "a row's own child: its peak is the row's without the reset")
	assert.Empty(t, rep.Notes)
}
