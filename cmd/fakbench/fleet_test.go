package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/fleet"
	"github.com/fakbench/fakbench/internal/cpuid"
	"github.com/fakbench/fakbench/internal/env"
	"github.com/fakbench/fakbench/nodebench"
	"github.com/fakbench/fakbench/report"
)

// TestFleetEndToEnd is the fleet without a cluster: three hosts made from
// short node-bench runs on this machine (--host a, b, c; the Go kernel and
// llama.cpp on synthetic:tiny, one thread), b tampered with after its run
// (one digit of a figure), c copied and
// rewritten to another CPU kind and hashed again. fleet collect must take
// a and c and refuse b with the reason, refuse a host label claimed by two
// different runs, and fleet report must put a and c in two CPU kinds and
// fail, since a short run fails its gate.
func TestFleetEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	requireLlamacpp(t)
	if fp, err := cpuid.BinaryFingerprint(); err != nil || fp == "" {
		t.Skip("this test binary records no CPU fingerprint in its cgo flags (build with the Makefile's, as make test does), so collect would refuse every host as built for an unknown CPU")
	}
	nodeStepOverride = func(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
		return dispatch(ctx, args, stdout, stderr), nil
	}
	t.Cleanup(func() { nodeStepOverride = nil })
	// Unset, so --short sets its caps (t.Setenv restores them afterwards).
	for _, v := range []string{env.WorkloadPrefillCap.Name, env.WorkloadPromptCap.Name, env.BatchWorkload.Name} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}

	nodes := t.TempDir()
	for _, h := range []string{"a", "b", "c"} {
		cliOK(t, "node-bench", "--out", filepath.Join(nodes, h), "--host", h, "--short",
			"--backends", "gokernel,llamacpp", "--workload", repoFile(defaultWorkloadPath), "--threads", "1")
	}

	// b: one digit of its decode figure edited after the run.
	p := filepath.Join(nodes, "b", nodebench.BenchDir, "gokernel.json")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	i := strings.Index(string(b), `"tokens_per_sec": `) + len(`"tokens_per_sec": `)
	require.True(t, b[i] >= '1' && b[i] <= '9', "a decode figure in %s", p)
	b[i] = '1' + (b[i]-'1'+1)%9
	require.NoError(t, os.WriteFile(p, b, 0o644))

	// c: a copy rewritten to another CPU kind, hashed again.
	other := filepath.Join(t.TempDir(), "c")
	require.NoError(t, os.CopyFS(other, os.DirFS(filepath.Join(nodes, "c"))))
	kind := rewriteCPU(t, other)

	out := filepath.Join(t.TempDir(), "fleet")
	code, stdout, stderr := cli(t, "fleet", "collect", "--out", out, filepath.Join(nodes, "a"), filepath.Join(nodes, "b"), other)
	t.Log(stdout)
	assert.Equal(t, exitFailed, code, stderr)
	assert.Contains(t, stdout, "accepted  a  from "+filepath.Join(nodes, "a"))
	assert.Contains(t, stdout, "accepted  c  from "+other+": "+kind.String())
	assert.Contains(t, stdout, "REFUSED   b  from "+filepath.Join(nodes, "b"))
	assert.Contains(t, stdout, "- artifacts: changed: bench/gokernel.json: sha256")
	assert.Contains(t, stdout, "fleet collect: 2 host(s) in "+out+", 1 folder(s) refused")

	// Host c twice, as two different runs: both refused.
	code, stdout, _ = cli(t, "fleet", "collect", "--out", filepath.Join(t.TempDir(), "dup"), filepath.Join(nodes, "c"), other)
	assert.Equal(t, exitFailed, code)
	assert.Equal(t, 2, strings.Count(stdout, "host label c is claimed by 2 different artifact sets"), stdout)

	code, stdout, stderr = cli(t, "fleet", "report", out)
	t.Log(stdout)
	assert.Equal(t, exitFailed, code, "a short run fails its gate: %s", stderr)
	assert.Contains(t, stdout, "2 host(s) in 2 CPU kind(s)")
	assert.Contains(t, stdout, "| "+kind.String()+" | c |")
	assert.Contains(t, stdout, "- a: FAIL (uncapped, full_run")
	assert.Regexp(t, `\| c \|[^\n]*\| prefill [0-9.]+x \(llama.cpp\), decode [0-9.]+x \(llama.cpp\), warm TTFT [0-9.]+x \(llama.cpp\) \|`, stdout)
	assert.Contains(t, stdout, "## Refused")
	assert.Contains(t, stdout, "- b ("+filepath.Join(nodes, "b")+"): artifacts:")
	assert.FileExists(t, filepath.Join(out, fleet.ReportFile))
	html, err := os.ReadFile(filepath.Join(out, fleet.HTMLFile))
	require.NoError(t, err)
	assert.Equal(t, 5, strings.Count(string(html), "<svg"), "every chart drawn")
}

// rewriteCPU turns the node-bench folder dir into one from another CPU
// kind, as if it had run there: the host facts, the build CPU and the
// build flags in the manifest and in every bench report, then the files
// hashed again. It returns the new kind.
func rewriteCPU(t *testing.T, dir string) fleet.Kind {
	t.Helper()
	l := nodebench.Layout{Dir: dir}
	m, err := l.ReadManifest()
	require.NoError(t, err)
	require.NotNil(t, m.BuildCPU)
	old := m.BuildCPU.CPUFingerprint
	// AVX2 only where this CPU has AVX-512, AVX-512 where it has not.
	avx512 := []string{"avx512f", "avx512bw", "avx512vl", "avx512_vnni"}
	other := func(names []string) []string {
		if !slices.Contains(m.BuildCPU.CPUISA, "avx512f") {
			return append(slices.Clone(names), avx512...)
		}
		var out []string
		for _, f := range names {
			if !strings.HasPrefix(f, "avx512") && !strings.HasPrefix(f, "amx") {
				out = append(out, f)
			}
		}
		return out
	}
	isa := other(m.BuildCPU.CPUISA)
	slices.Sort(isa)
	fp := cpuid.Fingerprint(isa)
	require.NotEqual(t, old, fp)
	model := "Simulated CPU of another kind"
	features := strings.Join(other(strings.Fields(m.Host.CPUFeatures)), " ")
	m.Host.CPUModel, m.Host.CPUFeatures = model, features
	m.BuildFlags = strings.ReplaceAll(m.BuildFlags, old, fp)
	m.BuildCPU.BuildFingerprint, m.BuildCPU.CPUFingerprint = fp, fp
	m.BuildCPU.CPUISA, m.BuildCPU.NativeISA = isa, other(m.BuildCPU.NativeISA)
	reps, files, err := report.ReadDirFiles(l.Bench())
	require.NoError(t, err)
	for i, r := range reps {
		if r.Host != nil {
			r.Host.CPUModel, r.Host.CPUFeatures = model, features
		}
		r.BuildFlags = strings.ReplaceAll(r.BuildFlags, old, fp)
		require.NoError(t, report.WriteJSON(files[i], r))
	}
	require.NoError(t, l.Finalize(m, m.FinishedAt))
	return fleet.Kind{Fingerprint: fp, Model: model}
}

func TestFleetUsageErrors(t *testing.T) {
	cases := map[string][]string{
		"missing subcommand: collect, report":    {"fleet"},
		"name --out and at least one":            {"fleet", "collect", t.TempDir()},
		"holds no node-bench folder":             {"fleet", "collect", "--out", t.TempDir(), t.TempDir()},
		"name the directory fleet collect wrote": {"fleet", "report"},
		"holds no collected host":                {"fleet", "report", t.TempDir()},
		"outlier threshold -1":                   {"fleet", "report", t.TempDir(), "--outlier", "-1"},
		`unexpected argument "y"`:                {"fleet", "report", "x", "y"},
	}
	for want, args := range cases {
		assertUsage(t, args, want)
	}
}
