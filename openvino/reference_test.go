package openvino

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/gguf"
	"github.com/fakbench/fakbench/models/modeltest"
)

// loadRef loads the GGUF file at path into the float64 reference forward
// pass (package modeltest), written straight from the definitions
// independently of the OpenVINO graph: the independent check of the IR
// writer.
func loadRef(t *testing.T, path string) *modeltest.Model {
	t.Helper()
	f, err := gguf.Open(path)
	require.NoError(t, err)
	defer f.Close()
	return modeltest.Load(t, f)
}

// maxRelDiff is max|a-b| / max|b| over the vector.
func maxRelDiff(a []float32, b []float64) float64 {
	num, den := 0.0, 0.0
	for i := range b {
		num = math.Max(num, math.Abs(float64(a[i])-b[i]))
		den = math.Max(den, math.Abs(b[i]))
	}
	return num / den
}
