package models

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/gokernel/kernels"
)

func TestTally(t *testing.T) {
	p, err := LookupPreset("tiny")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	require.NoError(t, GenerateFile(path, p, kernels.TypeQ8_0))
	f, err := gguf.Open(path)
	require.NoError(t, err)
	defer f.Close()

	params, byType := Tally(f)
	require.NotEmpty(t, byType)
	var sum int64
	var tensors int
	for i, tt := range byType {
		if i > 0 {
			assert.Less(t, byType[i-1].Type, tt.Type, "sorted by type name")
		}
		assert.Positive(t, tt.Bytes, tt.Type)
		sum += tt.Params
		tensors += tt.Tensors
	}
	assert.Equal(t, params, sum)
	assert.Equal(t, len(f.Tensors), tensors)
}
