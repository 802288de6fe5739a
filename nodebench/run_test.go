package nodebench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/harness/workload"
)

// runConfig is a run whose steps only record their arguments (and print a
// line), on a model that needs no file.
func runConfig(t *testing.T, calls *[][]string) Config {
	t.Helper()
	return Config{
		Layout: Layout{Dir: filepath.Join(t.TempDir(), "node")}, HostLabel: "unit", Backends: "gokernel",
		Model: ShortModel, WorkloadPath: filepath.Join("..", "experiments", "agent-live", "production-workload.json"),
		Profile: DefaultProfile, Threads: 1, Short: true, BatchWorkload: true, Command: "fakbench node-bench",
		Steps: func(_ context.Context, args []string, stdout, _ io.Writer) (int, error) {
			*calls = append(*calls, args)
			_, err := io.WriteString(stdout, "ran\n")
			return 0, err
		},
		CommandLine: func(argv []string) string { return strings.Join(argv, " ") },
		ResolveModel: func(_ context.Context, spec string) (Model, error) {
			return Model{Spec: spec, Digest: "sha256:00"}, nil
		},
		BuildCPU: func() BuildCPU { return BuildCPU{Status: BuildCPUNotRecorded, Detail: "test"} },
		Log:      io.Discard,
	}
}

func TestRunPlansStepsIntoTheLayoutAndRecordsThem(t *testing.T) {
	var calls [][]string
	cfg := runConfig(t, &calls)
	w, err := workload.Load(cfg.WorkloadPath)
	require.NoError(t, err)
	cfg.Workload = w
	out, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	l := cfg.Layout

	require.Len(t, calls, 4)
	assert.Equal(t, []string{"run", "--out", l.Bench(), "--membw"}, calls[0][:4])
	assert.Equal(t, []string{"workload", "replay", "--out", l.Workload(), "--workload", cfg.WorkloadPath}, calls[1][:6])
	assert.Equal(t, []string{"batch", "--out", l.Batch(), "--report-dir", l.Bench()}, calls[2][:5])
	assert.Equal(t, []string{"batch", "--out", l.Batch(), "--workload", cfg.WorkloadPath}, calls[3][:5])
	for _, c := range calls {
		assert.Equal(t, []string{"--backends", "gokernel", "--model", ShortModel, "--threads", "1", "--short"}, c[len(c)-7:])
	}

	m, err := l.ReadManifest()
	require.NoError(t, err)
	assert.True(t, m.Complete)
	require.Len(t, m.Steps, 4)
	assert.Equal(t, "workload-replay", m.Steps[1].Name)
	assert.Equal(t, "logs/11-workload-replay.stdout", m.Steps[1].Stdout)
	assert.Equal(t, "fakbench "+strings.Join(calls[1], " "), m.Steps[1].Command)
	assert.Len(t, m.Bandwidth.SamplesGB, 5)
	assert.Equal(t, m.Bandwidth.GBs, m.Host.MemBWGBs)
	assert.Equal(t, []Model{{Spec: ShortModel, Digest: "sha256:00"}}, m.Models)
	assert.FileExists(t, l.PinnedWorkload())
	assert.FileExists(t, l.GateText())
	assert.FileExists(t, l.GateJSON())

	// The steps wrote no report: the evidence is not valid.
	assert.False(t, out.StepFailed)
	assert.True(t, out.Failed())
	assert.Contains(t, out.Verdict.Failed(), CriterionReportsValid)
}

func TestRunStopsBeforeMeasuring(t *testing.T) {
	var calls [][]string
	cfg := runConfig(t, &calls)
	cfg.ResolveModel = func(context.Context, string) (Model, error) { return Model{}, errors.New("no such model") }
	_, err := Run(context.Background(), cfg)
	var setup *SetupError
	require.ErrorAs(t, err, &setup)
	m, rerr := cfg.Layout.ReadManifest()
	require.NoError(t, rerr)
	assert.False(t, m.Complete)
	assert.Equal(t, "model: no such model", m.Incomplete)

	cfg = runConfig(t, &calls)
	cfg.BuildCPU = func() BuildCPU { return BuildCPU{Status: BuildCPUMismatch, Detail: "built elsewhere"} }
	var log bytes.Buffer
	cfg.Log = &log
	_, err = Run(context.Background(), cfg)
	require.Error(t, err)
	assert.False(t, errors.As(err, &setup), "a binary for another CPU is a failed run, not a usage error")
	assert.Contains(t, err.Error(), "binary built for another CPU: built elsewhere")
	assert.Empty(t, calls)
	assert.Contains(t, log.String(), "node-bench: artifacts in "+cfg.Layout.Dir)
}
