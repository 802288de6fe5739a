package bench

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/fakbench/fakbench/harness"
	"github.com/fakbench/fakbench/report"
)

// A row's peak_rss_mb is the highest resident set (Linux VmHWM) of the
// process that ran the row's backend, from just before the backend opened
// to the end of its measurement, before it closes: the model's load, every
// section and whatever the process itself holds resident in that time (the
// Go runtime, the harness; in one process also anything else still live).
// The peak is read in that process: under process isolation the row's
// child reads it and sends it back with the report. The child's own
// getrusage figure, which its parent could read, would not do: Linux
// starts a child's ru_maxrss at its parent's peak at the exec, so every row
// showed at least the parent's peak.

// clearRefsPath is the file a process resets its peak resident set with.
const clearRefsPath = "/proc/self/clear_refs"

// startPeakRSS starts a row's peak: the Go heap's free memory goes back to
// the operating system (debug.FreeOSMemory), so that memory freed before
// (an earlier row's, the bandwidth measurement's) is no longer resident,
// and the process's peak resident set is reset to its present resident set
// ("5" written to /proc/self/clear_refs). The error says why the reset
// failed (not Linux, or the file not writable).
func startPeakRSS() error {
	debug.FreeOSMemory()
	if err := os.WriteFile(clearRefsPath, []byte("5"), 0); err != nil {
		return fmt.Errorf("the peak resident set could not be reset: %w", err)
	}
	return nil
}

// peakRSSMB reads the process's peak resident set size (VmHWM) in MiB.
func peakRSSMB() (float64, error) {
	m, err := harness.ReadProcMem()
	if err != nil {
		return 0, err
	}
	if m.Peak <= 0 {
		return 0, fmt.Errorf("%s states no peak resident set (VmHWM)", harness.ProcStatusPath)
	}
	return harness.MiB(m.Peak), nil
}

// setPeakRSS records in rep the peak resident set since startPeakRSS,
// whose error is resetErr. own says the process has been the row's alone
// since it started (an isolated row's child): its peak is then the row's
// even when the reset failed. Otherwise a failed reset, or a peak that
// cannot be read, leaves peak_rss_mb out with a note saying why.
func setPeakRSS(rep *report.Report, resetErr error, own bool) {
	if resetErr != nil && !own {
		rep.Notes = append(rep.Notes, "peak_rss_mb not recorded: "+resetErr.Error()+
			", so the process's peak would include what ran in it before this row")
		return
	}
	mb, err := peakRSSMB()
	if err != nil {
		rep.Notes = append(rep.Notes, "peak_rss_mb not recorded: "+err.Error())
		return
	}
	rep.PeakRSSMB = mb
}
