package workload

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/harness/artifact"
)

// TestReplayFileRoundTripsFixture reads a replay file written by an
// earlier run and encodes it again as fakbench workload replay writes it:
// the bytes must be the same, so the field names, their order and their
// nesting are fixed.
func TestReplayFileRoundTripsFixture(t *testing.T) {
	path := filepath.Join("testdata", "workload-gokernel.json")
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	f, err := ReadReplayFile(path)
	require.NoError(t, err)
	got, err := json.MarshalIndent(f, "", "  ")
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got)+"\n")
}

// TestReplayFileIdentityOrder checks the encoded order of the identity
// keys, reason included (the fixture leaves it out).
func TestReplayFileIdentityOrder(t *testing.T) {
	var f ReplayFile
	f.Schema, f.Backend, f.BackendVersion, f.Status, f.Reason = ReplaySchema, "b", "v1", artifact.StatusFailed, "why"
	f.ModelSpec, f.ModelDigest, f.Threads, f.Short, f.Reps = "m", "d", 3, true, 2
	got, err := json.Marshal(&f)
	require.NoError(t, err)
	assert.Contains(t, string(got), `{"schema":"`+ReplaySchema+`","backend":"b","backend_version":"v1","status":"failed","reason":"why",`+
		`"model_spec":"m","model_digest":"d","threads":3,"short":true,"reps":2,"workload_path":""`)
}
