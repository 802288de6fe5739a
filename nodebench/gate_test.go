package nodebench

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/harness/artifact"
	"github.com/fakbench/fakbench/harness/batch"
	"github.com/fakbench/fakbench/harness/workload"
	"github.com/fakbench/fakbench/nodebench/evidencetest"
	"github.com/fakbench/fakbench/report"
)

type fixture struct {
	short   bool
	caps    workload.Caps
	speedup float64 // at B=64
	bounded int     // stop the curve after this many points, with a bound
}

// build writes a complete artifact directory and finalises its manifest.
func (f fixture) build(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	k := evidencetest.Report("gokernel")
	k.Short = f.short
	require.NoError(t, report.WriteJSON(filepath.Join(dir, BenchDir, "gokernel.json"), k))
	skipped := &report.Report{Backend: "openvino"}
	skipped.Status, skipped.SkipReason = report.StatusSkipped, "library not found"
	require.NoError(t, report.WriteJSON(filepath.Join(dir, BenchDir, "openvino.json"), skipped))
	require.NoError(t, os.WriteFile(filepath.Join(dir, BenchDir, "report.md"), []byte("| table |\n"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, LogsDir), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, LogsDir, "01-run.stdout"), []byte("ran\n"), 0o644))

	sp := f.speedup
	if sp == 0 {
		sp = 3
	}
	llama := evidencetest.BatchFile("llamacpp", evidencetest.Curve(sp, f.bounded))
	llama.Short = f.short
	evidencetest.WriteJSON(t, filepath.Join(dir, BatchDir, batch.FileName("llamacpp")), llama)
	evidencetest.WriteJSON(t, filepath.Join(dir, BatchDir, batch.FileName("gokernel")), batch.File{Identity: artifact.Identity{Schema: batch.Schema, Backend: "gokernel",
		Status: artifact.StatusSkipped, Reason: "no transport.BatchDecoder", Short: f.short}})

	turns := 4
	replayed := turns
	if f.short {
		replayed = 2
	}
	rf := evidencetest.Replay("gokernel", turns, replayed)
	rf.Short, rf.Caps = f.short, f.caps
	rf.PrefillCap = workload.CapResult{Cap: f.caps.PrefillCap}
	if f.caps.PrefillCap > 0 {
		rf.PrefillCap.CappedTurns, rf.PrefillCap.DroppedTokens = 3, 400
	}
	evidencetest.WriteJSON(t, filepath.Join(dir, WorkloadDir, workload.ReplayFileName("gokernel")), rf)

	m := &Manifest{Schema: ManifestSchema, HostLabel: "test", HardwareProfile: "cpu", Short: f.short, Caps: f.caps}
	require.NoError(t, Layout{Dir: dir}.Finalize(m, "2026-11-23T00:00:00Z"))
	return dir
}

func byName(t *testing.T, r Verdict) map[string]Criterion {
	t.Helper()
	out := map[string]Criterion{}
	for _, c := range r.Criteria {
		out[c.Name] = c
	}
	require.Len(t, out, 7)
	return out
}

// assertDetails checks that the detail of each criterion named in want
// holds every one of its strings.
func assertDetails(t *testing.T, r Verdict, want map[string][]string) {
	t.Helper()
	c := byName(t, r)
	for name, subs := range want {
		for _, sub := range subs {
			assert.Contains(t, c[name].Detail, sub, name)
		}
	}
}

func TestFullRunPassesWithCleanNode(t *testing.T) {
	dir := fixture{}.build(t)
	r, err := Gate(dir, GateOptions{CleanNode: true})
	require.NoError(t, err)
	assert.True(t, r.Pass, r.Text())
	assert.Empty(t, r.Failed())
	assertDetails(t, r, map[string][]string{
		CriterionArtifacts:              {"7 files present"},
		CriterionBatchCurve:             {"llamacpp: B=1,2,4,8,16,32,64", "gokernel skipped: no transport.BatchDecoder"},
		CriterionBatchedDecodeThreshold: {"llamacpp 3.00x at B=64"},
		CriterionReportsValid:           {"openvino skipped: library not found"},
	})
	assert.Contains(t, r.Text(), "gate: PASS (7 criteria)")
	assert.Equal(t, "cpu", r.Profile.Name)
	assert.Equal(t, CPUThreshold, r.Profile.Threshold)

	// Without the assertion only clean_node fails.
	r, err = Gate(dir, GateOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{CriterionCleanNode}, r.Failed())
	assert.Contains(t, byName(t, r)[CriterionCleanNode].Detail, "not asserted")
}

func TestShortCappedRunFailsCleanBoxCriteriaOnly(t *testing.T) {
	dir := fixture{short: true, caps: workload.Caps{PrefillCap: 256, PromptCap: 128}}.build(t)
	r, err := Gate(dir, GateOptions{CleanNode: true})
	require.NoError(t, err)
	assert.False(t, r.Pass)
	assert.ElementsMatch(t, []string{CriterionUncapped, CriterionFullRun, CriterionCleanNode}, r.Failed(), r.Text())
	c := byName(t, r)
	assert.True(t, c[CriterionArtifacts].Pass, c[CriterionArtifacts].Detail)
	assertDetails(t, r, map[string][]string{
		CriterionUncapped:  {"FAK_WORKLOAD_PREFILL_CAP=256", "FAK_WORKLOAD_PROMPT_CAP=128", "capped 3 turns"},
		CriterionFullRun:   {"--short", "replayed 2 of 4 turns"},
		CriterionCleanNode: {"--clean-node refused", "the run was --short", "capped"},
	})
	assert.Contains(t, r.Text(), "gate: FAIL (3 of 7 criteria failed")
}

func TestOneByteEditFailsArtifacts(t *testing.T) {
	dir := fixture{}.build(t)
	path := filepath.Join(dir, BenchDir, "report.md")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	b[2] ^= 0x01
	require.NoError(t, os.WriteFile(path, b, 0o644))
	r, err := Gate(dir, GateOptions{CleanNode: true})
	require.NoError(t, err)
	assert.Equal(t, []string{CriterionArtifacts}, r.Failed())
	assert.Contains(t, byName(t, r)[CriterionArtifacts].Detail, "changed: bench/report.md: sha256")
}

func TestMissingAndUnlistedFilesFailArtifacts(t *testing.T) {
	dir := fixture{}.build(t)
	require.NoError(t, os.Remove(filepath.Join(dir, LogsDir, "01-run.stdout")))
	r, err := Gate(dir, GateOptions{})
	require.NoError(t, err)
	d := byName(t, r)[CriterionArtifacts]
	assert.False(t, d.Pass)
	assert.Contains(t, d.Detail, "missing: logs/01-run.stdout")

	dir = fixture{}.build(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, BenchDir, "llamacpp.json"), []byte(`{"backend":"llamacpp"}`), 0o644))
	r, err = Gate(dir, GateOptions{})
	require.NoError(t, err)
	d = byName(t, r)[CriterionArtifacts]
	assert.False(t, d.Pass)
	assert.Contains(t, d.Detail, "unlisted: bench/llamacpp.json")

	// Gate outputs may sit next to the manifest unlisted.
	dir = fixture{}.build(t)
	for _, g := range []string{GateTextFile, GateJSONFile} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, g), []byte("x"), 0o644))
	}
	r, err = Gate(dir, GateOptions{})
	require.NoError(t, err)
	assert.True(t, byName(t, r)[CriterionArtifacts].Pass)
}

func TestIncompleteOrMissingManifest(t *testing.T) {
	dir := fixture{}.build(t)
	m, err := Layout{Dir: dir}.ReadManifest()
	require.NoError(t, err)
	m.Complete, m.Incomplete = false, "interrupted by signal"
	require.NoError(t, Layout{Dir: dir}.WriteManifest(m))
	r, err := Gate(dir, GateOptions{})
	require.NoError(t, err)
	assert.Contains(t, byName(t, r)[CriterionArtifacts].Detail, "manifest is not complete (interrupted by signal)")

	require.NoError(t, os.Remove(Layout{Dir: dir}.Manifest()))
	r, err = Gate(dir, GateOptions{CleanNode: true})
	require.NoError(t, err)
	c := byName(t, r)
	for _, n := range []string{CriterionArtifacts, CriterionUncapped, CriterionFullRun, CriterionCleanNode} {
		assert.False(t, c[n].Pass, n)
		assert.Contains(t, c[n].Detail, "no readable manifest", n)
	}
}

func TestThresholdProfilesAndBoundedCurve(t *testing.T) {
	dir := fixture{speedup: 1.5}.build(t)
	r, err := Gate(dir, GateOptions{CleanNode: true})
	require.NoError(t, err)
	assert.Equal(t, []string{CriterionBatchedDecodeThreshold}, r.Failed())
	assert.Contains(t, byName(t, r)[CriterionBatchedDecodeThreshold].Detail, "needs >= 2x")

	dir = fixture{speedup: 10}.build(t)
	r, err = Gate(dir, GateOptions{CleanNode: true, Profile: "gpu"})
	require.NoError(t, err)
	assert.Equal(t, []string{CriterionBatchedDecodeThreshold}, r.Failed())
	assert.Equal(t, 45.0, r.Profile.Threshold)
	assert.Contains(t, r.Text(), "profile gpu: batched-decode threshold 45x")

	_, err = Gate(dir, GateOptions{Profile: "tpu"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown hardware profile "tpu" (known: cpu, gpu)`)

	// A curve bounded with a recorded reason is full up to its bound.
	dir = fixture{speedup: 6, bounded: 4}.build(t)
	r, err = Gate(dir, GateOptions{CleanNode: true})
	require.NoError(t, err)
	c := byName(t, r)
	assert.True(t, c[CriterionBatchCurve].Pass, c[CriterionBatchCurve].Detail)
	assert.Contains(t, c[CriterionBatchCurve].Detail, "bounded: memory")
}

func TestCurveWithoutBoundOrWithGapFails(t *testing.T) {
	c := evidencetest.Curve(3, 4)
	c.Bound = "requested maximum"
	ok, why := fullCurve(&batch.File{Curve: c})
	assert.False(t, ok)
	assert.Contains(t, why, "stops before B=16 with no recorded bound")

	c = evidencetest.Curve(3, 0)
	c.Points = append(c.Points[:2], c.Points[3:]...)
	ok, why = fullCurve(&batch.File{Curve: c})
	assert.False(t, ok)
	assert.Contains(t, why, "point 2 is B=8")

	ok, _ = fullCurve(&batch.File{})
	assert.False(t, ok)
}

func TestInvalidReportsFail(t *testing.T) {
	dir := fixture{}.build(t)
	bad := evidencetest.Report("gokernel")
	bad.EditedStable.ActualCacheMiss = false
	bad.Decode.TokensPerSec = 0
	require.NoError(t, report.WriteJSON(filepath.Join(dir, BenchDir, "gokernel.json"), bad))
	// A replay whose prefix reuse stopped.
	var rf workload.ReplayFile
	path := filepath.Join(dir, WorkloadDir, workload.ReplayFileName("gokernel"))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &rf))
	rf.Result.Turns[2].ReusedTokens = 0
	evidencetest.WriteJSON(t, path, rf)
	m, err := Layout{Dir: dir}.ReadManifest()
	require.NoError(t, err)
	require.NoError(t, Layout{Dir: dir}.Finalize(m, "t"))

	r, err := Gate(dir, GateOptions{CleanNode: true})
	require.NoError(t, err)
	assert.Equal(t, []string{CriterionReportsValid}, r.Failed())
	d := byName(t, r)[CriterionReportsValid].Detail
	assert.Contains(t, d, "actual_cache_miss = false")
	assert.Contains(t, d, "decode.tokens_per_sec = 0")
	assert.Contains(t, d, "turn 2: reused 0 tokens, the token plan guarantees at least 20")
}

func TestJSONOutputShape(t *testing.T) {
	dir := fixture{short: true}.build(t)
	r, err := Gate(dir, GateOptions{})
	require.NoError(t, err)
	b, err := r.JSON()
	require.NoError(t, err)
	var got struct {
		Pass     *bool `json:"pass"`
		Criteria []struct {
			Name   string `json:"name"`
			Pass   *bool  `json:"pass"`
			Detail string `json:"detail"`
		} `json:"criteria"`
	}
	require.NoError(t, json.Unmarshal(b, &got))
	require.NotNil(t, got.Pass)
	assert.False(t, *got.Pass)
	require.Len(t, got.Criteria, 7)
	assert.Equal(t, CriterionArtifacts, got.Criteria[0].Name)
	assert.True(t, *got.Criteria[0].Pass)
	for _, c := range got.Criteria {
		assert.NotEmpty(t, c.Detail, c.Name)
	}
}

func TestGateErrors(t *testing.T) {
	_, err := Gate(filepath.Join(t.TempDir(), "nope"), GateOptions{})
	require.Error(t, err)
	f := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(f, nil, 0o644))
	_, err = Gate(f, GateOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a directory")

	// An empty directory: every criterion fails with a reason.
	r, err := Gate(t.TempDir(), GateOptions{})
	require.NoError(t, err)
	assert.False(t, r.Pass)
	for _, c := range r.Criteria {
		assert.False(t, c.Pass, c.Name)
		assert.NotEmpty(t, strings.TrimSpace(c.Detail), c.Name)
	}
}

func TestGatePrintsTheHeadlineOfTheReports(t *testing.T) {
	// The gate states the same headline as report.md: the kernel against
	// the best tuned reference per metric (information, not a criterion).
	dir := t.TempDir()
	k := evidencetest.Report("gokernel")
	k.RowKind = report.KindKernel
	llama := evidencetest.Report("llamacpp")
	llama.RowKind, llama.Decode.TokensPerSec, llama.BackendDisplay = report.KindTunedReference, 100, "llama.cpp"
	ov := evidencetest.Report("openvino")
	ov.RowKind, ov.ColdFullPrefill.PromptTPS, ov.BackendDisplay = report.KindTunedReference, 2000, "OpenVINO"
	for _, r := range []*report.Report{k, llama, ov} {
		require.NoError(t, report.WriteJSON(filepath.Join(dir, BenchDir, r.Backend+".json"), r))
	}
	r, err := Gate(dir, GateOptions{})
	require.NoError(t, err)
	assert.Len(t, r.Criteria, 7, "the headline adds no criterion")
	text := r.Text()
	assert.Contains(t, text, "info  headline: decode tok/s: gokernel 90, best reference llama.cpp 100: 0.90x (higher is better); against OpenVINO 90: 1.00x\n")
	assert.Contains(t, text, "info  headline: cold prefill tok/s: gokernel 500, best reference OpenVINO 2000: 0.25x (higher is better)")
	js, err := r.JSON()
	require.NoError(t, err)
	assert.Contains(t, string(js), `"headline": [`)
}
