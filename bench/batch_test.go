package bench

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gokernel/kernels"
	"github.com/fakbench/fakbench/harness/batch"
	"github.com/fakbench/fakbench/harness/workload"
	"github.com/fakbench/fakbench/models"
	"github.com/fakbench/fakbench/report"
)

func TestMedianTurn(t *testing.T) {
	w := workload.Workload{Turns: []workload.Turn{{StableTokens: 10, SuffixTokens: 5, CompletionTokens: 3}, {StableTokens: 1, SuffixTokens: 1, CompletionTokens: 9}, {StableTokens: 50, SuffixTokens: 50, CompletionTokens: 1}}}
	p, c := MedianTurn(w)
	assert.Equal(t, 15, p)
	assert.Equal(t, 3, c)
	p, c = MedianTurn(workload.Workload{Turns: []workload.Turn{{StableTokens: 4}}})
	assert.Equal(t, 4, p)
	assert.Equal(t, 1, c, "at least one decode step")
}

func TestKVBytesPerPosition(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	p, err := models.LookupPreset("tiny")
	require.NoError(t, err)
	require.NoError(t, models.GenerateFile(path, p, kernels.TypeF32))
	n, why := KVBytesPerPosition(path)
	assert.Positive(t, n, why)
	assert.Contains(t, why, "f16 KV")

	n, why = KVBytesPerPosition(filepath.Join(t.TempDir(), "missing.gguf"))
	assert.Zero(t, n)
	assert.Contains(t, why, "no memory bound")
}

func TestAttachCurve(t *testing.T) {
	dir := t.TempDir()
	c := &batch.Curve{PromptTokens: 16, Steps: 8, Reps: 1, Bound: "the batch sizes asked for"}
	err := AttachCurve(dir, "gokernel", c)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "attaching the batch curve")

	require.NoError(t, report.WriteJSON(filepath.Join(dir, "gokernel.json"), &report.Report{Backend: "gokernel"}))
	require.NoError(t, AttachCurve(dir, "gokernel", c))
	r, err := report.ReadJSON(filepath.Join(dir, "gokernel.json"))
	require.NoError(t, err)
	require.Len(t, r.Notes, 1)
	assert.Contains(t, r.Notes[0], "batch_curve added by fakbench batch: prompt 16, 8 steps, 1 reps")
}
