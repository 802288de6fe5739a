package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/adapters/conformance/fake"
	"github.com/fakbench/fakbench/bench"
	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/transport"
)

// Backends that die the ways a native library does, registered in init so
// that the test binary, run as a row's child, has them too.
func init() {
	misbehave := func(name string, decode func()) {
		adapters.Register(adapters.Entry{Name: name, Description: "test backend: " + name,
			Open: func(context.Context, adapters.Options) (transport.Backend, error) {
				return fake.WrapSessions(fake.New(fake.Config{Context: 512}), func(s transport.Session) transport.Session {
					return &dyingSession{Session: s, decode: decode}
				}), nil
			}})
	}
	// An abort in native code: SIGABRT, as a failed GGML_ASSERT raises.
	misbehave("zz-test-abort", func() {
		os.Stderr.WriteString("ops.cpp:3664: GGML_ASSERT(eps >= 0.0f) failed\n")
		_ = syscall.Kill(os.Getpid(), syscall.SIGABRT)
		time.Sleep(time.Hour)
	})
	// A native call that never returns and ignores cancellation.
	misbehave("zz-test-hang", func() { time.Sleep(time.Hour) })
}

type dyingSession struct {
	transport.Session
	decode func()
}

func (s *dyingSession) Decode(ctx context.Context, n int) (transport.DecodeResult, error) {
	s.decode()
	return s.Session.Decode(ctx, n)
}

func readRows(t *testing.T, dir string) map[string]*report.Report {
	rows := map[string]*report.Report{}
	reps, err := report.ReadDir(dir)
	require.NoError(t, err)
	for _, r := range reps {
		rows[report.RowName(r)] = r
	}
	return rows
}

// A backend that aborts or hangs fails its own row, with the signal or the
// deadline and its last output; the other row is measured, the run exits 1
// (never 2), and every row's peak memory is its own process's.
func TestIsolatedRowCrashFailsOnlyItsRow(t *testing.T) {
	for _, c := range []struct{ backend, want string }{
		{"zz-test-abort", "SIGABRT"},
		{"zz-test-hang", "hung: no word from the backend's process for 3s"},
	} {
		t.Run(c.backend, func(t *testing.T) {
			out := t.TempDir()
			start := time.Now()
			code, _, stderr := cli(t, "run", "--backends", "gokernel,"+c.backend, "--model", "synthetic:tiny", "--short",
				"--threads", "1", "--reps", "1", "--membw", "-1", "--quiet", "--hang-after", "3s", "--out", out)
			assert.Equal(t, exitFailed, code, stderr)
			assert.Less(t, time.Since(start), 2*time.Minute)
			rows := readRows(t, out)
			require.Contains(t, rows, "gokernel")
			require.Contains(t, rows, c.backend)
			bad := rows[c.backend]
			assert.Equal(t, report.StatusFailed, bad.Status)
			notes := strings.Join(bad.Notes, "\n")
			assert.Contains(t, notes, c.want)
			assert.Contains(t, notes, "its last output")
			if c.backend == "zz-test-abort" {
				assert.Contains(t, notes, "GGML_ASSERT", "the native message is quoted")
			}
			assert.Equal(t, bench.IsolationProcess, bad.Isolation)
			good := rows["gokernel"]
			assert.Equal(t, report.StatusOK, good.Status, good.Notes)
			assert.Equal(t, bench.IsolationProcess, good.Isolation)
			assert.Positive(t, good.PeakRSSMB, "the child's own peak")
			assert.Contains(t, stderr, c.backend)
		})
	}
}

// In-process isolation stays available and is recorded.
func TestInProcessIsolationRecorded(t *testing.T) {
	out := t.TempDir()
	cliOK(t, "run", "--backends", "gokernel", "--model", "synthetic:tiny", "--short",
		"--threads", "1", "--reps", "1", "--membw", "-1", "--quiet", "--isolation", "in_process", "--out", out)
	assert.Equal(t, bench.IsolationInProcess, readRows(t, out)["gokernel"].Isolation)

	assertUsage(t, []string{"run", "--backends", "gokernel", "--model", "synthetic:tiny", "--isolation", "thread", "--out", t.TempDir()},
		`--isolation "thread": want process or in_process`)
}

// More threads than logical cores is refused unless --oversubscribe, which
// the reports record.
func TestThreadsAboveCoresRefused(t *testing.T) {
	assertUsage(t, []string{"run", "--backends", "gokernel", "--model", "synthetic:tiny", "--short", "--threads", "100000", "--out", t.TempDir()},
		"--threads 100000: this node has", "--oversubscribe")

	out := t.TempDir()
	cliOK(t, "run", "--backends", "gokernel", "--model", "synthetic:tiny", "--short", "--reps", "1",
		"--threads", strconv.Itoa(runtime.NumCPU()+1), "--oversubscribe", "--membw", "-1", "--quiet", "--out", out)
	assert.True(t, readRows(t, out)["gokernel"].Oversubscribed)
}

// cancelRun is what zz-test-cancel's first Decode calls: the operator's
// Ctrl-C in the middle of the first row.
var cancelRun func()

func init() {
	adapters.Register(adapters.Entry{Name: "zz-test-cancel", Description: "test backend: interrupts the run",
		Open: func(context.Context, adapters.Options) (transport.Backend, error) {
			return fake.WrapSessions(fake.New(fake.Config{Context: 512}), func(s transport.Session) transport.Session {
				return &dyingSession{Session: s, decode: func() {
					if cancelRun != nil {
						cancelRun()
					}
				}}
			}), nil
		}})
}

// An interrupted run tells the truth: the row it stopped is interrupted
// with what did not run, the row it never reached is listed as interrupted
// too, report.md names both, and the headline uses neither.
func TestInterruptedRunListsEveryRow(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cancelRun = cancel
	t.Cleanup(func() { cancelRun = nil })
	out := t.TempDir()
	var so, se strings.Builder
	code := dispatch(ctx, []string{"run", "--backends", "zz-test-cancel,gokernel", "--model", "synthetic:tiny", "--short",
		"--threads", "1", "--reps", "1", "--membw", "-1", "--quiet", "--isolation", "in_process", "--schedule", "sequential",
		"--out", out}, &so, &se)
	assert.Equal(t, exitFailed, code, se.String())
	rows := readRows(t, out)
	require.Contains(t, rows, "zz-test-cancel")
	require.Contains(t, rows, "gokernel")
	first := rows["zz-test-cancel"]
	assert.Equal(t, report.StatusInterrupted, first.Status)
	assert.False(t, first.Ran("cold_full_prefill"), "stopped in its first section")
	assert.False(t, first.Ran("failure_cases.cancel_decode"))
	never := rows["gokernel"]
	assert.Equal(t, report.StatusInterrupted, never.Status)
	assert.Len(t, never.NotRun, len(report.SectionPaths()))
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "## Interrupted rows")
	assert.Contains(t, string(md), "- gokernel: interrupted; not run: cold_full_prefill")
	assert.Contains(t, string(md), "- zz-test-cancel: interrupted; not run:")
	assert.False(t, report.FindStanding([]*report.Report{first, never}).OK(), "no headline from rows that did not complete")
}
