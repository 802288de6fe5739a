package evidencetest

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/harness/batch"
	"github.com/fakbench/fakbench/harness/workload"
	"github.com/fakbench/fakbench/report"
)

// The pieces are what their doc comments promise, and WriteJSON's files
// (their folders created) read back through the readers the gate uses.
func TestPiecesAreValidEvidence(t *testing.T) {
	r := Report("gokernel")
	assert.Empty(t, report.CorrectnessFailures(r))
	assert.Equal(t, report.StatusOK, r.Status)

	c := Curve(3, 0)
	require.Len(t, c.Points, len(batch.DefaultBatches))
	assert.Equal(t, 64, c.MaxBatch)
	assert.InDelta(t, 3, c.SpeedupAtMax, 1e-12)
	assert.InDelta(t, 100, c.Points[0].TokensPerSec, 1e-12)
	b := Curve(6, 4)
	require.Len(t, b.Points, 4)
	assert.Equal(t, 8, b.MaxBatch)
	assert.Contains(t, b.Bound, "memory")

	dir := t.TempDir()
	bf := filepath.Join(dir, "batch", batch.FileName("llamacpp"))
	WriteJSON(t, bf, BatchFile("llamacpp", c))
	got, err := batch.ReadFile(bf)
	require.NoError(t, err)
	assert.Equal(t, "llamacpp", got.Backend)
	assert.Len(t, got.Curve.Points, len(c.Points))

	rf := filepath.Join(dir, "workload", workload.ReplayFileName("gokernel"))
	WriteJSON(t, rf, Replay("gokernel", 4, 2))
	rep, err := workload.ReadReplayFile(rf)
	require.NoError(t, err)
	assert.Equal(t, 4, rep.WorkloadTurns)
	assert.Equal(t, 2, rep.ReplayedTurns)
	require.Len(t, rep.Result.Turns, 2)
	assert.Empty(t, rep.Problems())
}
