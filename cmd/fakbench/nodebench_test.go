package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/adapters"
	"github.com/fakbench/fakbench/harness/artifact"
	"github.com/fakbench/fakbench/harness/batch"
	"github.com/fakbench/fakbench/harness/workload"
	"github.com/fakbench/fakbench/internal/cpuid"
	"github.com/fakbench/fakbench/internal/env"
	"github.com/fakbench/fakbench/nodebench"
	"github.com/fakbench/fakbench/report"
	"github.com/fakbench/fakbench/transport"
)

// repoFile returns a path relative to the repository root.
func repoFile(rel string) string { return filepath.Join("..", "..", rel) }

// TestNodeBenchShortEndToEnd runs the whole node benchmark in-process on the
// tiny synthetic model with the Go kernel: the artifact set must verify,
// the short run must fail the clean-box criteria with reasons, and editing
// one byte must fail the artifacts criterion.
func TestNodeBenchShortEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	nodeStepOverride = func(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
		return dispatch(ctx, args, stdout, stderr), nil
	}
	t.Cleanup(func() { nodeStepOverride = nil })
	t.Setenv(env.WorkloadPrefillCap.Name, "")
	os.Unsetenv(env.WorkloadPrefillCap.Name)
	t.Setenv(env.WorkloadPromptCap.Name, "")
	os.Unsetenv(env.WorkloadPromptCap.Name)
	t.Setenv(env.BatchWorkload.Name, "1")

	out := filepath.Join(t.TempDir(), "node")
	stdout, _ := cliOK(t, "node-bench", "--out", out, "--host", "unit", "--short",
		"--backends", "gokernel", "--workload", repoFile(defaultWorkloadPath), "--threads", "1")
	t.Log(stdout)
	assert.Contains(t, stdout, "FAIL  full_run")
	assert.Contains(t, stdout, "PASS  artifacts")

	m, err := nodebench.Layout{Dir: out}.ReadManifest()
	require.NoError(t, err)
	assert.True(t, m.Complete)
	assert.True(t, m.Short)
	assert.Equal(t, workload.Caps{PrefillCap: 256, PromptCap: 256}, m.Caps)
	assert.Equal(t, "unit", m.HostLabel)
	require.NotNil(t, m.BuildCPU)
	if cpu, err := cpuid.Current(); err == nil {
		assert.Equal(t, cpu.Fingerprint, m.BuildCPU.CPUFingerprint)
	}
	// A test binary is built on this machine: with the Makefile's flags its
	// fingerprint matches, with a plain go test it records none.
	assert.Contains(t, []string{nodebench.BuildCPUMatch, nodebench.BuildCPUNotRecorded}, m.BuildCPU.Status, m.BuildCPU.Detail)
	assert.Greater(t, m.Bandwidth.GBs, 0.0)
	assert.Len(t, m.Bandwidth.SamplesGB, 5)
	require.Len(t, m.Models, 1)
	assert.NotEmpty(t, m.Models[0].Digest)
	require.NotNil(t, m.Workload)
	assert.NotEmpty(t, m.Workload.Digest)
	assert.NotEqual(t, m.Workload.Digest, m.Workload.ReplayedDigest, "short + capped replays a different workload")
	require.NotEmpty(t, m.Backends)
	assert.Equal(t, "gokernel", m.Backends[0].Name)
	names := map[string]bool{}
	for _, s := range m.Steps {
		names[s.Name] = true
		assert.Equal(t, 0, s.ExitCode, s.Name)
	}
	for _, n := range []string{"run", "workload-replay", "batch", "batch-workload-diagnostic"} {
		assert.True(t, names[n], n)
	}
	paths := map[string]bool{}
	for _, a := range m.Artifacts {
		paths[a.Path] = true
	}
	for _, p := range []string{"bench/gokernel.json", "bench/report.md", "workload/workload-gokernel.json",
		"workload/production-workload.json", "batch/batch-gokernel.json", "logs/10-run.stdout", "logs/10-run.stderr"} {
		assert.True(t, paths[p], p)
	}
	assert.FileExists(t, nodebench.Layout{Dir: out}.GateText())
	assert.FileExists(t, nodebench.Layout{Dir: out}.GateJSON())

	// The gate subcommand: clean-box criteria fail with reasons, integrity passes.
	code, stdout, _ := cli(t, "gate", out, "--json", "--clean-node")
	assert.Equal(t, exitFailed, code)
	var res struct {
		Pass     bool `json:"pass"`
		Criteria []struct {
			Name   string `json:"name"`
			Pass   bool   `json:"pass"`
			Detail string `json:"detail"`
		} `json:"criteria"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	assert.False(t, res.Pass)
	got := map[string]bool{}
	for _, c := range res.Criteria {
		got[c.Name] = c.Pass
		if c.Name == nodebench.CriterionCleanNode {
			assert.Contains(t, c.Detail, "--short")
		}
	}
	assert.True(t, got[nodebench.CriterionArtifacts])
	assert.True(t, got[nodebench.CriterionReportsValid])
	assert.False(t, got[nodebench.CriterionFullRun])
	assert.False(t, got[nodebench.CriterionUncapped])
	assert.False(t, got[nodebench.CriterionCleanNode])

	// One byte edited: artifacts fails.
	p := filepath.Join(out, nodebench.BenchDir, "gokernel.json")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	b[len(b)-2] ^= 0x20
	require.NoError(t, os.WriteFile(p, b, 0o644))
	code, stdout, _ = cli(t, "gate", out)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, stdout, "FAIL  artifacts")
	assert.Contains(t, stdout, "changed: bench/gokernel.json")

	// A second run into the same directory is refused.
	assertUsage(t, []string{"node-bench", "--out", out, "--short"}, "already holds")
}

func TestNodeBenchUsageErrors(t *testing.T) {
	cases := map[string][]string{
		"--out is required":   {"node-bench"},
		"--threads -1":        {"node-bench", "--out", t.TempDir(), "--threads", "-1"},
		`--profile "tpu"`:     {"node-bench", "--out", t.TempDir(), "--profile", "tpu"},
		"--backends is empty": {"node-bench", "--out", t.TempDir(), "--backends", ","},
		"workload":            {"node-bench", "--out", t.TempDir(), "--workload", filepath.Join(t.TempDir(), "none.json")},
	}
	for want, args := range cases {
		assertUsage(t, args, want)
	}
	t.Setenv(env.WorkloadPrefillCap.Name, "lots")
	assertUsage(t, []string{"node-bench", "--out", t.TempDir(), "--workload", repoFile(defaultWorkloadPath)}, "FAK_WORKLOAD_PREFILL_CAP")

	t.Setenv(env.WorkloadPrefillCap.Name, "")
	t.Setenv(env.BatchWorkload.Name, "yes")
	assertUsage(t, []string{"node-bench", "--out", t.TempDir(), "--workload", repoFile(defaultWorkloadPath)}, `FAK_BATCH_WORKLOAD="yes": want 1 (on) or 0 (off)`)
}

func TestGateCommandErrors(t *testing.T) {
	assertUsage(t, []string{"gate"}, "name one artifact directory")
	assertUsage(t, []string{"gate", filepath.Join(t.TempDir(), "missing")}, "missing")
	assertUsage(t, []string{"gate", t.TempDir(), "--profile", "tpu"}, "unknown hardware profile")
	code, stdout, _ := cli(t, "gate", t.TempDir())
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, stdout, "gate: FAIL (7 of 7 criteria failed")
}

func TestWorkloadCommands(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log.jsonl")
	require.NoError(t, os.WriteFile(log, []byte(`{"usage":{"prompt_tokens":100,"completion_tokens":20,"prompt_tokens_details":{"cached_tokens":64}}}`+"\n"+
		`{"timings":{"prompt_n":30,"predicted_n":12,"cache_n":200}}`+"\n"), 0o644))
	out := filepath.Join(dir, "w.json")
	stdout, _ := cliOK(t, "workload", "derive", "--in", log, "--out", out)
	assert.Contains(t, stdout, "2 turns")
	w, err := workload.Load(out)
	require.NoError(t, err)
	assert.Equal(t, "request log log.jsonl", w.Provenance.Source)

	stdout, _ = cliOK(t, "workload", "show", out)
	assert.Contains(t, stdout, "sha256:")
	assert.Contains(t, stdout, "derived from a recorded request log")

	stdout, _ = cliOK(t, "workload", "synth", "--out", filepath.Join(dir, "s.json"))
	assert.Contains(t, stdout, "17 turns")

	bad := filepath.Join(dir, "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte("{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n{oops\n"), 0o644))
	assertUsage(t, []string{"workload", "derive", "--in", bad, "--out", out}, "line 2")

	for want, args := range map[string][]string{
		"both --in and --out":    {"workload", "derive", "--in", log},
		"no such file":           {"workload", "derive", "--in", filepath.Join(dir, "nope"), "--out", out},
		"name one workload file": {"workload", "show"},
		"unknown subcommand":     {"workload", "frobnicate"},
		"--model and --out":      {"workload", "replay", "--out", dir},
		"unknown backend":        {"workload", "replay", "--out", dir, "--model", "synthetic:tiny", "--backends", "nope"},
		"--out is required":      {"workload", "synth"},
	} {
		assertUsage(t, args, want)
	}
	assertUsage(t, []string{"workload", "show", log}, "log.jsonl")
}

func TestBatchCommandErrorsAndHelpers(t *testing.T) {
	for want, args := range map[string][]string{
		"--model and --out": {"batch", "--out", t.TempDir()},
		"--batches":         {"batch", "--out", t.TempDir(), "--model", "synthetic:tiny", "--batches", "1,4,2"},
		"unknown backend":   {"batch", "--out", t.TempDir(), "--model", "synthetic:tiny", "--backends", "nope"},
		"must be >= 0":      {"batch", "--out", t.TempDir(), "--model", "synthetic:tiny", "--steps", "-1"},
	} {
		assertUsage(t, args, want)
	}
}

func TestBatchCommandOnGoKernel(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a model")
	}
	dir := t.TempDir()
	stdout, _ := cliOK(t, "batch", "--out", dir, "--model", "synthetic:tiny", "--backends", "gokernel", "--short", "--batches", "1,2", "--threads", "1")
	f, err := batch.ReadFile(filepath.Join(dir, batch.FileName("gokernel")))
	require.NoError(t, err)
	assert.True(t, f.Short)
	if f.Status == artifact.StatusSkipped {
		assert.Contains(t, f.Reason, "BatchDecoder")
	} else {
		require.Equal(t, artifact.StatusOK, f.Status, f.Reason)
		assert.Len(t, f.Curve.Points, 2)
	}
	assert.True(t, strings.Contains(stdout, "gokernel"))
	t.Log(stdout)
}

// An interrupted run leaves a manifest that says so, and the gate fails it.
func TestNodeBenchInterruptedManifestIsIncomplete(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a model")
	}
	// node-bench --short sets the caps in the process environment when they
	// are unset; t.Setenv restores them afterwards.
	t.Setenv(env.WorkloadPrefillCap.Name, "0")
	t.Setenv(env.WorkloadPromptCap.Name, "0")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	nodeStepOverride = func(_ context.Context, args []string, stdout, stderr io.Writer) (int, error) {
		cancel() // the operator presses Ctrl-C during the first step
		return exitFailed, nil
	}
	t.Cleanup(func() { nodeStepOverride = nil })
	out := filepath.Join(t.TempDir(), "node")
	var so, se bytes.Buffer
	code := dispatch(ctx, []string{"node-bench", "--out", out, "--short", "--backends", "gokernel",
		"--workload", repoFile(defaultWorkloadPath), "--threads", "1"}, &so, &se)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, se.String(), "interrupted")
	m, err := nodebench.Layout{Dir: out}.ReadManifest()
	require.NoError(t, err)
	assert.False(t, m.Complete)
	assert.Contains(t, m.Incomplete, "interrupted")
	require.Len(t, m.Steps, 1)
	assert.Equal(t, exitFailed, m.Steps[0].ExitCode)

	code, stdout, _ := cli(t, "gate", out)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, stdout, "manifest is not complete (interrupted")
}

// seqBatch gives a real backend a BatchDecoder that decodes its sequences
// one after another on fresh sessions (correct, not fast): enough to test
// the batch command's plumbing.
type seqBatch struct{ transport.Backend }

func (s seqBatch) DecodeBatch(ctx context.Context, prompts [][]transport.Token, steps int) (transport.BatchResult, error) {
	res := transport.BatchResult{Sequences: len(prompts), PromptTokens: len(prompts[0]), Steps: steps}
	for _, p := range prompts {
		sess, err := s.NewSession(ctx)
		if err != nil {
			return res, err
		}
		t0 := time.Now()
		if _, err := sess.PrefillSuffix(ctx, transport.SuffixInput{Tokens: p}); err != nil {
			sess.Close()
			return res, err
		}
		t1 := time.Now()
		d, err := sess.Decode(ctx, steps)
		sess.Close()
		if err != nil {
			return res, err
		}
		res.PrefillElapsed += t1.Sub(t0)
		res.DecodeElapsed += time.Since(t1)
		res.Tokens = append(res.Tokens, d.Tokens)
	}
	return res, nil
}

func init() {
	adapters.Register(adapters.Entry{Name: "zz-test-batch", Caps: adapters.Caps{Batch: true},
		Open: func(ctx context.Context, o adapters.Options) (transport.Backend, error) {
			b, err := adapters.Open(ctx, "gokernel", o)
			if err != nil {
				return nil, err
			}
			return seqBatch{b}, nil
		}})
}

func TestBatchCommandCurveAttachedToReport(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a model")
	}
	dir := t.TempDir()
	benchDir := filepath.Join(dir, nodebench.BenchDir)
	r := &report.Report{Backend: "zz-test-batch", Mode: "live_prefix_reuse"}
	require.NoError(t, report.WriteJSON(filepath.Join(benchDir, "zz-test-batch.json"), r))
	stdout, _ := cliOK(t, "batch", "--out", dir, "--model", "synthetic:tiny", "--backends", "zz-test-batch",
		"--short", "--batches", "1,2,4", "--threads", "1", "--report-dir", benchDir)
	assert.Contains(t, stdout, "zz-test-batch batch curve (prompt 16, 8 steps, 1 reps")
	f, err := batch.ReadFile(filepath.Join(dir, batch.FileName("zz-test-batch")))
	require.NoError(t, err)
	require.Equal(t, artifact.StatusOK, f.Status)
	assert.Equal(t, 4, f.Curve.MaxBatch)
	for _, p := range f.Curve.Points {
		assert.True(t, p.MatchesB1, "sequence 0 decodes the same tokens at B=%d", p.Batch)
	}
	got, err := report.ReadJSON(filepath.Join(benchDir, "zz-test-batch.json"))
	require.NoError(t, err)
	require.Len(t, got.BatchCurve, 3)
	assert.Equal(t, 4, got.BatchCurve[2].Batch)
	assert.InDelta(t, 1.0, got.BatchCurve[0].SpeedupVsB1, 1e-12)

	// Missing report to attach to: the curve is still written, the command fails.
	code, _, stderr := cli(t, "batch", "--out", dir, "--model", "synthetic:tiny", "--backends", "zz-test-batch",
		"--short", "--batches", "1", "--threads", "1", "--report-dir", filepath.Join(dir, "none"))
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, stderr, "attaching the batch curve")

	// The workload diagnostic writes its own file, prompt from the workload.
	t.Setenv(env.WorkloadPromptCap.Name, "40")
	cliOK(t, "batch", "--out", dir, "--model", "synthetic:tiny", "--backends", "zz-test-batch",
		"--short", "--batches", "1,2", "--threads", "1", "--workload", repoFile(defaultWorkloadPath))
	d, err := batch.ReadFile(filepath.Join(dir, batch.WorkloadFileName("zz-test-batch")))
	require.NoError(t, err)
	assert.Equal(t, 40, d.Curve.PromptTokens)
	require.Len(t, d.Notes, 1)
	assert.Contains(t, d.Notes[0], "prompt cap 40")
}

// A binary built for another CPU: node-bench stops before measuring
// anything, says how to fix it, and the manifest records both fingerprints.
func TestNodeBenchRefusesBinaryBuiltForAnotherCPU(t *testing.T) {
	t.Setenv(env.WorkloadPrefillCap.Name, "0")
	t.Setenv(env.WorkloadPromptCap.Name, "0")
	zen3, err := cpuid.Parse(strings.NewReader("flags : fpu avx avx2 fma f16c\n"))
	require.NoError(t, err)
	const xeonFP = "3679ba7082f2"
	nodeBuildCPU = func() nodebench.BuildCPU {
		return nodebench.CheckBuildCPU(xeonFP, nil, []string{"amx_tile", "avx2", "avx512f"}, zen3, nil)
	}
	nodeStepOverride = func(context.Context, []string, io.Writer, io.Writer) (int, error) {
		t.Error("no step may run on the wrong CPU")
		return exitFailed, nil
	}
	t.Cleanup(func() {
		nodeBuildCPU = nil
		nodeStepOverride = nil
	})
	out := filepath.Join(t.TempDir(), "node")
	code, _, stderr := cli(t, "node-bench", "--out", out, "--short", "--backends", "gokernel",
		"--workload", repoFile(defaultWorkloadPath), "--threads", "1")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, stderr, "binary built for another CPU")
	assert.Contains(t, stderr, "amx_tile, avx512f")
	assert.Contains(t, stderr, "make build")

	m, err := nodebench.Layout{Dir: out}.ReadManifest()
	require.NoError(t, err)
	assert.False(t, m.Complete)
	assert.Contains(t, m.Incomplete, "built for CPU fingerprint "+xeonFP+", this CPU is "+zen3.Fingerprint)
	require.NotNil(t, m.BuildCPU)
	assert.Equal(t, nodebench.BuildCPUMismatch, m.BuildCPU.Status)
	assert.Equal(t, xeonFP, m.BuildCPU.BuildFingerprint)
	assert.Equal(t, zen3.Fingerprint, m.BuildCPU.CPUFingerprint)
	assert.Equal(t, []string{"amx_tile", "avx512f"}, m.BuildCPU.Missing)
	assert.Empty(t, m.Steps)
	assert.Empty(t, m.Models, "stopped before the model was resolved")

	code, stdout, _ := cli(t, "gate", out)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, stdout, "manifest is not complete (binary built for another CPU")
}

// The build-info check of scripts/node_bench.sh, which never runs the binary
// it checks: tiny binaries built with chosen CGO flags stand in for
// bin/fakbench.
func TestCheckBuildCPUScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go binaries")
	}
	for _, tool := range []string{"bash", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	cpu, err := cpuid.Current()
	if err != nil {
		t.Skipf("cannot read this CPU: %v", err)
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module probe\n\ngo 1.22\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644))
	build := func(name, cflags, cxxflags string) string {
		bin := filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-o", bin, ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOWORK=off", "CGO_CFLAGS="+cflags, "CGO_CXXFLAGS="+cxxflags)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		return bin
	}
	check := func(args ...string) (int, string, string) {
		cmd := exec.Command("bash", append([]string{repoFile("scripts/check_build_cpu.sh")}, args...)...)
		var so, se bytes.Buffer
		cmd.Stdout, cmd.Stderr = &so, &se
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), so.String(), se.String()
		}
		require.NoError(t, err)
		return 0, so.String(), se.String()
	}
	native := "-O3 -march=native -D" + cpuid.Define + "=" + cpu.Fingerprint

	code, stdout, stderr := check(build("here", native, native))
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "was built for this CPU (fingerprint "+cpu.Fingerprint+")")

	other := "-O3 -march=native -D" + cpuid.Define + "=000000000000"
	code, _, stderr = check(build("other", other, other))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "was built for CPU fingerprint 000000000000, but this CPU is "+cpu.Fingerprint)
	assert.Contains(t, stderr, "make build")

	code, _, stderr = check(build("plain", "-O2 -g", "-O2 -g"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "carries no CPU fingerprint")
	assert.Contains(t, stderr, "make build")

	code, _, stderr = check(build("half", native, "-O3 -march=native"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "compiled for two CPUs")

	code, _, stderr = check(filepath.Join(dir, "main.go"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "cannot read the Go build info")

	code, _, stderr = check()
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "usage")
}
