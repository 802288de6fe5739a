package bench

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/report"
)

func TestWriteFormat(t *testing.T) {
	dir := t.TempDir()
	reports := []*report.Report{{Backend: "gokernel"}}
	data, path, err := WriteFormat(dir, "csv", reports)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "report.csv"), path)
	onDisk, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, data, onDisk)

	_, _, err = WriteFormat(dir, "nope", reports)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--format nope")
}
