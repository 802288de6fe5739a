package batch

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/harness/artifact"
)

// TestFileRoundTripsFixtures reads batch files written by an earlier run
// and encodes them again as fakbench batch writes them: the bytes must be
// the same, so the field names, their order and their nesting are fixed.
func TestFileRoundTripsFixtures(t *testing.T) {
	for _, name := range []string{"batch-llamacpp.json", "batch-gokernel.json"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name)
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			f, err := ReadFile(path)
			require.NoError(t, err)
			got, err := json.MarshalIndent(f, "", "  ")
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got)+"\n")
		})
	}
}

// TestFileFieldOrder sets every field and checks the encoded key order,
// reason and notes included (the fixtures leave some of them out).
func TestFileFieldOrder(t *testing.T) {
	var f File
	f.Schema, f.Backend, f.BackendVersion, f.Status, f.Reason = Schema, "b", "v1", artifact.StatusFailed, "why"
	f.ModelSpec, f.ModelDigest, f.Threads, f.Short = "synthetic:tiny", "sha256:x", 3, true
	f.Settings = map[string]string{"k": "v"}
	f.StartedAt, f.FinishedAt = "t0", "t1"
	f.Notes = []string{"n"}
	got, err := json.Marshal(&f)
	require.NoError(t, err)
	assert.Equal(t, `{"schema":"fakbench.batch/v1","backend":"b","backend_version":"v1","status":"failed","reason":"why",`+
		`"model_spec":"synthetic:tiny","model_digest":"sha256:x","threads":3,"short":true,"settings":{"k":"v"},`+
		`"started_at":"t0","finished_at":"t1","notes":["n"]}`, string(got))
}
