package report

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadRunsLabels(t *testing.T) {
	root := t.TempDir()
	dirs := []string{filepath.Join(root, "a", "run"), filepath.Join(root, "b", "run"), filepath.Join(root, "c", "other")}
	for _, d := range dirs {
		require.NoError(t, WriteJSON(filepath.Join(d, "gokernel.json"), &Report{Backend: "gokernel"}))
	}
	runs, err := ReadRuns(dirs)
	require.NoError(t, err)
	require.Len(t, runs, 3)
	assert.Equal(t, filepath.Join(root, "a", "run"), runs[0].Label, "colliding base names: the path")
	assert.Equal(t, filepath.Join(root, "b", "run"), runs[1].Label)
	assert.Equal(t, "other", runs[2].Label)
	require.Len(t, runs[2].Reports, 1)

	_, err = ReadRuns([]string{filepath.Join(root, "missing")})
	require.Error(t, err)
}
