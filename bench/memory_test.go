package bench

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fakbench/fakbench/report"
)

func TestOnlyTheKernelRecordsTheGoRuntime(t *testing.T) {
	assert.True(t, onGoHeap("gokernel"))
	assert.False(t, onGoHeap("llamacpp"))
	assert.False(t, onGoHeap("openvino"))
	assert.False(t, onGoHeap("nosuchbackend"))
}

// The KV cache is computed from the model file's attention shape and the
// row's settings; a model that cannot be read leaves the check not
// judged, naming the file.
func TestCheckKVReadsTheModelShape(t *testing.T) {
	m, err := ResolveModel(context.Background(), "synthetic:tiny", nil)
	require.NoError(t, err)
	shape, err := kvShape(m.Path)
	require.NoError(t, err)
	assert.Equal(t, report.KVShape{Layers: 2, KVHeads: 2, HeadDim: 16}, shape, "the tiny preset: 2 layers, 2 KV heads, 64/4 wide")

	rep := &report.Report{}
	rep.Settings = map[string]string{"type_k": "f16", "type_v": "f16", "n_ctx": "512"}
	rep.Memory = &report.Memory{AnonBeforeSessionMB: 10, AnonEndOfDecodeMB: 10.5, Positions: 160}
	checkKV(rep, m.Path, 512)
	kv := rep.Memory.KV
	require.NotNil(t, kv)
	assert.Equal(t, int64(2*2*16*(2+2)*512), kv.BytesAtContext)
	assert.Equal(t, int64(2*2*16*(2+2)*160), kv.BytesFilled)
	assert.Equal(t, report.KVNotJudged, kv.Verdict, "128 KiB is too small to see in resident memory")

	bad := filepath.Join(t.TempDir(), "bad.gguf")
	require.NoError(t, os.WriteFile(bad, []byte("not a gguf"), 0o644))
	rep.Memory.KV = nil
	checkKV(rep, bad, 512)
	require.NotNil(t, rep.Memory.KV)
	assert.Equal(t, report.KVNotJudged, rep.Memory.KV.Verdict)
	assert.Contains(t, rep.Memory.KV.Check, "the cache is not computed: reading the model's attention shape")
	assert.Contains(t, rep.Memory.KV.Check, bad)

	// A row whose memory was not read gets no check.
	none := &report.Report{}
	checkKV(none, m.Path, 512)
	assert.Nil(t, none.Memory)
}
